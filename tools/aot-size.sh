#!/usr/bin/env bash
# What each Native AOT switch costs in bytes of the binary: publishes src/AbilisFast once as it is
# (the baseline) and once per variant with one MSBuild property changed, from a copy of the tree in
# a temporary folder (so the work tree's obj/ and bin/ are never touched), and prints the size of
# each binary and its difference to the baseline.
#
# Usage: tools/aot-size.sh [--rid linux-x64] [--map] [VARIANT ...]
#   VARIANT    NAME=Property=Value[;Property=Value...]; without variants, the default list below
#   --rid RID  the runtime to publish for (linux-arm64 needs the cross toolchain, see arm64-smoke.sh)
#   --map      also write the ILC's map and mstat files of the baseline (IlcGenerateMapFile,
#              IlcGenerateMstatFile) and itemise them with tools/aot-itemise.py (bytes by kind,
#              by assembly and by AbilisFast namespace)
# Environment: ABILISFAST_SIZE_KEEP=1 keeps the temporary folder.
# Each publish takes one to three minutes on a 2-core machine.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
rid=linux-x64
map=0
variants=()
while [ $# -gt 0 ]; do
    case $1 in
        --rid) rid=$2; shift ;;
        --map) map=1 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) variants+=("$1") ;;
    esac
    shift
done
if [ ${#variants[@]} = 0 ]; then
    variants=(
        "resource-keys=UseSystemResourceKeys=false"
        "globalization=InvariantGlobalization=false"
        "eventsource=EventSourceSupport=true"
        "stacktraces=StackTraceSupport=false"
        "speed=OptimizationPreference=Speed"
        "fold=IlcFoldIdenticalMethodBodies=false"
        "timezone=InvariantTimezone=true"
        "metrics=MetricsSupport=false"
        "debugger=DebuggerSupport=false"
        "http-activity=HttpActivityPropagationSupport=false"
        "cert-downloader=CertificateDownloaderSupport=true"
    )
fi

work=$(mktemp -d /tmp/abilisfast-size.XXXXXX)
[ "${ABILISFAST_SIZE_KEEP:-0}" = 1 ] || trap 'rm -rf "$work"' EXIT

publish() { # NAME PROPS(;-separated) -> prints the size; each variant builds in its own copy of the tree
    local name=$1 props=$2 args=()
    local IFS=';'
    for p in $props; do [ -n "$p" ] && args+=("-p:$p"); done
    unset IFS
    mkdir -p "$work/$name"
    (cd "$repo" && cp -r src Directory.*.props global.json "$work/$name/" && { [ ! -e nuget.config ] || cp nuget.config "$work/$name/"; })
    find "$work/$name" \( -name bin -o -name obj \) -prune -exec rm -rf {} +
    dotnet publish -c Release -r "$rid" "$work/$name/src/AbilisFast" -o "$work/out/$name" -nologo -v quiet "${args[@]}" \
        >"$work/$name.log" 2>&1 || { tail -20 "$work/$name.log" >&2; echo "publish $name failed" >&2; return 1; }
    stat -c %s "$work/out/$name/abilisfast"
}

base_props=""
[ $map = 0 ] || base_props="IlcGenerateMapFile=true;IlcGenerateMstatFile=true"
base=$(publish baseline "$base_props")
printf '%-44s %10s %10s\n' "variant" "bytes" "change"
printf '%-44s %10d %10s\n' "baseline (the project as it is)" "$base" ""
for v in "${variants[@]}"; do
    name=${v%%=*}
    props=${v#*=}
    size=$(publish "$(echo "$name" | tr -c 'A-Za-z0-9_.\n-' _)" "$props") || continue
    printf '%-44s %10d %+10d\n' "$props" "$size" $((size - base))
done

if [ $map = 1 ]; then
    mapfile=$(find "$work/baseline" -name '*.map.xml' | head -1)
    rspfile=$(find "$work/baseline" -name '*.ilc.rsp' | head -1)
    if [ -n "$mapfile" ] && [ -n "$rspfile" ]; then
        cp "$mapfile" "$work/out/baseline/" 2>/dev/null || true
        echo
        python3 "$repo/tools/aot-itemise.py" "$mapfile" "$rspfile"
    fi
    [ "${ABILISFAST_SIZE_KEEP:-0}" = 1 ] && echo "kept $work"
fi
