#!/usr/bin/env bash
# tools/release.sh [VERSION]: the release tarballs, into dist/ (git-ignored):
#   dist/abilisfast-VERSION-linux-x64.tar.gz, dist/abilisfast-VERSION-linux-arm64.tar.gz, dist/SHA256SUMS
# Each unpacks to abilisfast-VERSION-linux-ARCH/ with the Native AOT binary (built with that
# version), abilisfast.service (deploy/), abilisfast.conf (the documented sample that
# `abilisfast --sample-config` prints) and README.md. VERSION defaults to <Version> of
# Directory.Build.props. The arm64 binary needs the cross toolchain (see README, "Two architectures").
# Checks each tarball's contents and the binary's architecture; prints the files and exits 0, or
# says what failed and exits 1.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/smoke-lib.sh
smoke_name="release"
work=$(mktemp -d /tmp/abilisfast-release.XXXXXX)
smoke_init

version=${1:-$(sed -nE 's|.*<Version>([^<]+)</Version>.*|\1|p' Directory.Build.props | head -1)}
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] || smoke_fail "VERSION '$version' is not like 1.2.3 or 1.2.3-rc.1"
[ -f deploy/abilisfast.service ] || smoke_fail "no deploy/abilisfast.service"

declare -A bins
for arch in x64 arm64; do
    smoke_publish "linux-$arch" "$work/publish-$arch" -p:Version="$version"
    smoke_check_elf "$arch"
    bins[$arch]=$bin
done

# The sample configuration, printed by whichever of the two binaries runs on this machine.
sample="$work/abilisfast.conf"
{ "${bins[x64]}" --sample-config >"$sample" 2>/dev/null || "${bins[arm64]}" --sample-config >"$sample" 2>/dev/null; } \
    || smoke_fail "neither binary ran --sample-config here"
grep -q "sample configuration of abilisfast $version " "$sample" || smoke_fail "the sample is not of version $version: $(head -1 "$sample")"

mkdir -p dist
tarballs=()
for arch in x64 arm64; do
    name="abilisfast-$version-linux-$arch"
    stage="$work/stage/$name"
    mkdir -p "$stage"
    install -m 0755 "${bins[$arch]}" "$stage/abilisfast"
    install -m 0644 deploy/abilisfast.service "$stage/abilisfast.service"
    install -m 0644 "$sample" "$stage/abilisfast.conf"
    install -m 0644 README.md "$stage/README.md"
    # Reproducible: fixed order, owner and time (the last commit's).
    tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$(git log -1 --format=%ct)" \
        -C "$work/stage" -czf "dist/$name.tar.gz" "$name"
    listed=$(tar -tzf "dist/$name.tar.gz" | sort | tr '\n' ' ')
    [ "$listed" = "$name/ $name/README.md $name/abilisfast $name/abilisfast.conf $name/abilisfast.service " ] \
        || smoke_fail "dist/$name.tar.gz holds: $listed"
    tarballs+=("$name.tar.gz")
done

(cd dist && sha256sum "${tarballs[@]}" >SHA256SUMS && sha256sum --quiet -c SHA256SUMS) || smoke_fail "SHA256SUMS"
for t in "${tarballs[@]}"; do
    echo "dist/$t  $(( $(stat -c %s "dist/$t") / 1024 )) KiB"
done
echo "dist/SHA256SUMS"
echo "release $version: ok"
