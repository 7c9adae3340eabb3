#!/usr/bin/env bash
# tools/fuzz.sh TARGET [SECONDS]
#
# Coverage-guided fuzzing of one AbilisFast.Fuzz target with SharpFuzz and AFL++ (apt-get install afl++):
# builds tools/AbilisFast.Fuzz (Release) into the work directory, instruments AbilisFast.Protocol.dll and
# AbilisFast.Server.dll with sharpfuzz (the local dotnet tool in .config/dotnet-tools.json), runs
# afl-fuzz for SECONDS (default 120) from the seed corpus tools/AbilisFast.Fuzz/corpus/TARGET (with the
# dictionary tools/AbilisFast.Fuzz/TARGET.dict when there is one), and
# prints executions, paths and crashes. Crash inputs are copied to tools/AbilisFast.Fuzz/crashes/TARGET/
# (commit them: the CI test FuzzCorpusTests runs every file there) and replayed once to show the exception.
#
# TARGET: in | spool | spool-records | esmtp. Work directory: $FUZZ_WORK/TARGET (default /tmp/abilisfast-fuzz/TARGET).
# The harness's scratch files go to /dev/shm (else the work directory) and are removed at the end.
# No change to /proc/sys/kernel/core_pattern is needed (AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES); for
# slightly faster crash detection, as root: echo core > /proc/sys/kernel/core_pattern
# Exit: 0 no crash, 1 crashes found, 2 bad usage or missing afl-fuzz.
set -euo pipefail

target="${1:-}"
seconds="${2:-120}"
case "$target" in
    in|spool|spool-records|esmtp) ;;
    *) echo "usage: tools/fuzz.sh in|spool|spool-records|esmtp [SECONDS]" >&2; exit 2 ;;
esac
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
    echo "fuzz.sh: SECONDS must be a positive whole number, not '$seconds'" >&2
    exit 2
fi
if ! command -v afl-fuzz >/dev/null; then
    echo "fuzz.sh: afl-fuzz not found (apt-get install afl++)" >&2
    exit 2
fi

root="$(cd "$(dirname "$0")/.." && pwd)"
work="${FUZZ_WORK:-${TMPDIR:-/tmp}/abilisfast-fuzz}/$target"
bin="$work/bin"
findings="$work/findings"
corpus="$root/tools/AbilisFast.Fuzz/corpus/$target"
crashes="$root/tools/AbilisFast.Fuzz/crashes/$target"

cd "$root"
rm -rf "$bin" "$findings"
mkdir -p "$work"
dotnet tool restore >/dev/null
dotnet build tools/AbilisFast.Fuzz -c Release -o "$bin" -v quiet -nologo >/dev/null
# A fresh build every time: sharpfuzz refuses an assembly it has already instrumented.
dotnet tool run sharpfuzz "$bin/AbilisFast.Protocol.dll"
dotnet tool run sharpfuzz "$bin/AbilisFast.Server.dll"

echo "fuzz.sh: afl-fuzz on '$target' for $seconds s (findings in $findings)"
export AFL_SKIP_BIN_CHECK=1                    # the target is the dotnet host; the coverage comes from the instrumented IL
export AFL_SKIP_CPUFREQ=1
export AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
export AFL_NO_AFFINITY=1                       # shared machine: do not claim a core
export AFL_NO_UI=1
export AFL_SKIP_CRASHES=1
export DOTNET_TieredPGO=0
# The harness's scratch files (spool segments, the IN spool) in memory when /dev/shm is there, in a
# folder of this run's own: afl-fuzz kills the harness, which then cannot remove them itself.
scratch_root=/dev/shm
[ -d /dev/shm ] && [ -w /dev/shm ] || scratch_root="$work"
export ABILISFAST_FUZZ_TMP="$scratch_root/abilisfast-fuzz-scratch-$$"
mkdir -p "$ABILISFAST_FUZZ_TMP"
trap 'rm -rf "$ABILISFAST_FUZZ_TMP"' EXIT
dict=()
[ -f "$root/tools/AbilisFast.Fuzz/$target.dict" ] && dict=(-x "$root/tools/AbilisFast.Fuzz/$target.dict")
status=0
afl-fuzz -i "$corpus" -o "$findings" "${dict[@]}" -t 10000 -m none -V "$seconds" -- \
    dotnet "$bin/AbilisFast.Fuzz.dll" "$target" > "$work/afl.log" 2>&1 || status=$?
stats="$findings/default/fuzzer_stats"
if [ ! -f "$stats" ]; then
    tail -n 30 "$work/afl.log" >&2
    echo "fuzz.sh: afl-fuzz did not start (exit $status); log: $work/afl.log" >&2
    exit 2
fi

stat() { sed -n "s/^$1 *: *//p" "$stats"; }
echo "target:       $target"
echo "run time:     $(stat run_time) s"
echo "executions:   $(stat execs_done) ($(stat execs_per_sec)/s)"
echo "paths:        $(stat corpus_count) (found $(stat corpus_found), coverage $(stat bitmap_cvg))"
echo "crashes:      $(stat saved_crashes)"
echo "hangs:        $(stat saved_hangs)"

found=0
for file in "$findings"/default/crashes/id:* "$findings"/default/hangs/id:*; do
    [ -f "$file" ] || continue
    found=$((found + 1))
    mkdir -p "$crashes"
    name="$(sha1sum "$file" | cut -c1-16)"
    cp "$file" "$crashes/$name"
    echo "crash input:  $crashes/$name"
done
if [ "$found" -gt 0 ]; then
    dotnet "$bin/AbilisFast.Fuzz.dll" "$target" "$crashes"/* | head -n 60 || true
    exit 1
fi
