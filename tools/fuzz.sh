#!/usr/bin/env bash
# tools/fuzz.sh TARGET [SECONDS]     fuzz one target for SECONDS (default 120)
# tools/fuzz.sh all [SECONDS]        every target for SECONDS each, FUZZ_JOBS (default 2) at a time
# tools/fuzz.sh cmin TARGET          minimise the last run's queue into tools/AbilisFast.Fuzz/corpus/TARGET
# tools/fuzz.sh cov TARGET [DIR]     edges afl-showmap sees over DIR (default: seeds + corpus of TARGET)
#
# Coverage-guided fuzzing of the AbilisFast.Fuzz targets with SharpFuzz and AFL++ (apt-get install afl++):
# builds tools/AbilisFast.Fuzz (Release) once into $FUZZ_WORK/bin, instruments AbilisFast.Protocol.dll and
# AbilisFast.Server.dll with sharpfuzz (the local dotnet tool in .config/dotnet-tools.json), and runs
# afl-fuzz for SECONDS from the seeds tools/AbilisFast.Fuzz/seeds/TARGET and the minimised corpus
# tools/AbilisFast.Fuzz/corpus/TARGET (with the dictionary tools/AbilisFast.Fuzz/TARGET.dict when there
# is one); it prints executions, paths, crashes, hangs and the edges the queue covers. Crash and hang
# inputs are copied to tools/AbilisFast.Fuzz/crashes/TARGET/ (commit them with a fix: the CI test
# FuzzCorpusTests runs every file there) and replayed once to show the exception.
#
# TARGET: in | spool | spool-records | console | config | received | path | esmtp | aliases.
# Work directory: $FUZZ_WORK/TARGET (default /tmp/abilisfast-fuzz/TARGET); the last run's queue stays in
# $FUZZ_WORK/TARGET/findings/default/queue for cmin. The harness's scratch files go to /dev/shm (else
# the work directory) and are removed at the end.
# No change to /proc/sys/kernel/core_pattern is needed (AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES); for
# slightly faster crash detection, as root: echo core > /proc/sys/kernel/core_pattern
# Exit: 0 no crash, 1 crashes or hangs found, 2 bad usage or missing afl-fuzz.
set -euo pipefail

targets=(in spool spool-records console config received path esmtp aliases)
root="$(cd "$(dirname "$0")/.." && pwd)"
work_root="${FUZZ_WORK:-${TMPDIR:-/tmp}/abilisfast-fuzz}"
# The instrumented build: one per target for a single run (runs of two targets may overlap), one
# shared by every target under "all"; cmin and cov take the target's own, else the shared one.
bin="$work_root/${2:-x}/bin"
[ "${1:-}" = all ] && bin="$work_root/bin"
case "${1:-}" in
    cmin|cov) [ -f "$bin/AbilisFast.Fuzz.dll" ] || [ ! -f "$work_root/bin/AbilisFast.Fuzz.dll" ] || bin="$work_root/bin" ;;
esac
fuzzdir="$root/tools/AbilisFast.Fuzz"

usage() {
    echo "usage: tools/fuzz.sh TARGET [SECONDS] | all [SECONDS] | cmin TARGET | cov TARGET [DIR]" >&2
    echo "       TARGET: ${targets[*]}" >&2
    exit 2
}

is_target() {
    local t
    for t in "${targets[@]}"; do [ "$t" = "$1" ] && return 0; done
    return 1
}

need_afl() {
    if ! command -v afl-fuzz >/dev/null; then
        echo "fuzz.sh: afl-fuzz not found (apt-get install afl++)" >&2
        exit 2
    fi
}

# A fresh instrumented build (sharpfuzz refuses an assembly it has already instrumented);
# FUZZ_NO_BUILD=1 reuses the last one.
build() {
    if [ "${FUZZ_NO_BUILD:-0}" = 1 ] && [ -f "$bin/AbilisFast.Fuzz.dll" ]; then
        return
    fi

    rm -rf "$bin"
    mkdir -p "$work_root"
    (cd "$root" && dotnet tool restore >/dev/null \
        && dotnet build tools/AbilisFast.Fuzz -c Release -o "$bin" -v quiet -nologo >/dev/null \
        && dotnet tool run sharpfuzz "$bin/AbilisFast.Protocol.dll" >/dev/null \
        && dotnet tool run sharpfuzz "$bin/AbilisFast.Server.dll" >/dev/null)
}

afl_env() {
    export AFL_SKIP_BIN_CHECK=1                    # the target is the dotnet host; the coverage comes from the instrumented IL
    export AFL_SKIP_CPUFREQ=1
    export AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
    export AFL_NO_AFFINITY=1                       # shared machine: do not claim a core
    export AFL_NO_UI=1
    export AFL_ALLOW_TMP=1                         # afl-cmin refuses work files under /tmp without it
    export AFL_SKIP_CRASHES=1
    export DOTNET_TieredPGO=0
}

# Scratch files of the harness (spool segments, WDIRs) in memory when /dev/shm is there, in a folder
# of this run's own: afl-fuzz kills the harness, which then cannot remove them itself.
scratch() {
    local scratch_root=/dev/shm
    [ -d /dev/shm ] && [ -w /dev/shm ] || scratch_root="$work_root"
    export ABILISFAST_FUZZ_TMP="$scratch_root/abilisfast-fuzz-scratch-$1-$$"
    mkdir -p "$ABILISFAST_FUZZ_TMP"
}

# The seeds and the committed corpus of a target, in one folder.
inputs() {
    local target="$1" into="$2"
    rm -rf "$into"
    mkdir -p "$into"
    local kind f
    for kind in seeds corpus; do
        for f in "$fuzzdir/$kind/$target"/*; do
            [ -f "$f" ] && cp "$f" "$into/$kind-$(basename "$f")"
        done
    done
    return 0
}

# Edges over the files of a folder: afl-showmap -C (one run of each file, the union of their maps).
coverage() {
    local target="$1" dir="$2" out="$work_root/$1/showmap"
    afl_env
    scratch "$target-cov"
    AFL_QUIET=1 afl-showmap -C -i "$dir" -o "$out" -t 10000 -m none -- dotnet "$bin/AbilisFast.Fuzz.dll" "$target" >"$work_root/$target/showmap.log" 2>&1 || true
    rm -rf "$ABILISFAST_FUZZ_TMP"
    local edges
    edges=$(wc -l < "$out" 2>/dev/null || echo 0)
    awk -v e="$edges" -v t="$target" -v n="$(find "$dir" -maxdepth 1 -type f | wc -l)" \
        'BEGIN { printf "coverage:     %s edges over %d files = %.2f%% of the 65536-entry map (%s)\n", e, n, 100 * e / 65536, t }'
}

run_one() {
    local target="$1" seconds="$2"
    local work="$work_root/$target"
    local findings="$work/findings"
    local crashes="$fuzzdir/crashes/$target"
    rm -rf "$findings"
    mkdir -p "$work"
    inputs "$target" "$work/input"
    afl_env
    scratch "$target"
    local dict=()
    [ -f "$fuzzdir/$target.dict" ] && dict=(-x "$fuzzdir/$target.dict")
    echo "fuzz.sh: afl-fuzz on '$target' for $seconds s (findings in $findings)"
    local status=0
    afl-fuzz -i "$work/input" -o "$findings" "${dict[@]}" -t 10000 -m none -V "$seconds" -- \
        dotnet "$bin/AbilisFast.Fuzz.dll" "$target" > "$work/afl.log" 2>&1 || status=$?
    rm -rf "$ABILISFAST_FUZZ_TMP"
    local stats="$findings/default/fuzzer_stats"
    if [ ! -f "$stats" ]; then
        tail -n 30 "$work/afl.log" >&2
        echo "fuzz.sh: afl-fuzz did not start on '$target' (exit $status); log: $work/afl.log" >&2
        return 2
    fi

    stat() { sed -n "s/^$1 *: *//p" "$stats"; }
    {
        echo "target:       $target"
        echo "run time:     $(stat run_time) s"
        echo "executions:   $(stat execs_done) ($(stat execs_per_sec)/s)"
        echo "paths:        $(stat corpus_count) (found $(stat corpus_found), afl bitmap $(stat bitmap_cvg))"
        echo "crashes:      $(stat saved_crashes)"
        echo "hangs:        $(stat saved_hangs)"
        coverage "$target" "$findings/default/queue"
    } | tee "$work/summary"

    local found=0 file name
    for file in "$findings"/default/crashes/id:* "$findings"/default/hangs/id:*; do
        [ -f "$file" ] || continue
        found=$((found + 1))
        mkdir -p "$crashes"
        name="$(sha1sum "$file" | cut -c1-16)"
        cp "$file" "$crashes/$name"
        echo "crash input:  $crashes/$name"
    done
    if [ "$found" -gt 0 ]; then
        # Replayed with a build that is not instrumented: instrumented code needs afl's shared memory.
        scratch "$target-replay"
        (cd "$root" && dotnet build tools/AbilisFast.Fuzz -c Release -v quiet -nologo >/dev/null) || true
        dotnet "$fuzzdir/bin/Release/net10.0/AbilisFast.Fuzz.dll" "$target" "$crashes"/* | grep -v '^ok' | head -n 60 || true
        rm -rf "$ABILISFAST_FUZZ_TMP"
        return 1
    fi
}

command="${1:-}"
case "$command" in
    all)
        seconds="${2:-120}"
        need_afl
        build
        export FUZZ_NO_BUILD=1
        jobs_max="${FUZZ_JOBS:-2}"
        status=0
        pids=()
        for target in "${targets[@]}"; do
            while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do sleep 5; done
            run_one "$target" "$seconds" > "$work_root/$target.out" 2>&1 &
            pids+=($!)
        done
        for pid in "${pids[@]}"; do wait "$pid" || status=1; done
        for target in "${targets[@]}"; do cat "$work_root/$target.out"; echo; done
        exit "$status"
        ;;
    cmin)
        target="${2:-}"
        is_target "$target" || usage
        need_afl
        queue="$work_root/$target/findings/default/queue"
        [ -d "$queue" ] || { echo "fuzz.sh: no queue in $queue: run tools/fuzz.sh $target first" >&2; exit 2; }
        [ -f "$bin/AbilisFast.Fuzz.dll" ] || build
        afl_env
        scratch "$target-cmin"
        out="$work_root/$target/cmin"
        rm -rf "$out"
        # The committed corpus and seeds go in too, so what they covered is kept.
        inputs "$target" "$work_root/$target/cmin-input"
        cp "$queue"/id:* "$work_root/$target/cmin-input/" 2>/dev/null || true
        AFL_QUIET=1 afl-cmin -i "$work_root/$target/cmin-input" -o "$out" -t 10000 -m none -- "$(command -v dotnet)" "$bin/AbilisFast.Fuzz.dll" "$target" > "$work_root/$target/cmin.log" 2>&1 \
            || { tail -n 20 "$work_root/$target/cmin.log" >&2; rm -rf "$ABILISFAST_FUZZ_TMP"; exit 2; }
        rm -rf "$ABILISFAST_FUZZ_TMP"
        dest="$fuzzdir/corpus/$target"
        rm -rf "$dest"
        mkdir -p "$dest"
        # Content-named files, without the seeds (they stay in seeds/TARGET).
        for f in "$out"/*; do
            [ -f "$f" ] || continue
            case "$(basename "$f")" in seeds-*) continue ;; esac
            cp "$f" "$dest/$(sha1sum "$f" | cut -c1-16)"
        done
        echo "fuzz.sh: $(find "$dest" -type f | wc -l) files in $dest (of $(find "$work_root/$target/cmin-input" -type f | wc -l))"
        coverage "$target" "$out"
        ;;
    cov)
        target="${2:-}"
        is_target "$target" || usage
        need_afl
        [ -f "$bin/AbilisFast.Fuzz.dll" ] || build
        mkdir -p "$work_root/$target"
        dir="${3:-}"
        if [ -z "$dir" ]; then
            dir="$work_root/$target/cov-input"
            inputs "$target" "$dir"
        fi
        coverage "$target" "$dir"
        ;;
    *)
        target="$command"
        is_target "$target" || usage
        bin="$work_root/$target/bin"
        seconds="${2:-120}"
        if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
            echo "fuzz.sh: SECONDS must be a positive whole number, not '$seconds'" >&2
            exit 2
        fi
        need_afl
        build
        run_one "$target" "$seconds"
        ;;
esac
