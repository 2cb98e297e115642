#!/usr/bin/env bash
# Makes the image's root filesystem as a tarball with mmdebstrap, from Debian packages alone, and caches it
# under the hash of everything that decides its content, so a repeat build takes no time.
#
#   scripts/image/rootfs.sh            prints the tarball's path (building it when the cache lacks it)
#
# HOSTNIC_IMAGE_CACHE: the cache dir (default ~/.cache/hostnic-image). HOSTNIC_DEBIAN_SUITE: default bookworm.
# The packages come from this machine's apt sources (its deb822 file when it has one), so the image gets the
# same mirror and security updates as the host.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
suite="${HOSTNIC_DEBIAN_SUITE:-bookworm}"
cache="${HOSTNIC_IMAGE_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/hostnic-image}"
sources=/etc/apt/sources.list.d/debian.sources

mapfile -t packages < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$here/packages.txt")
mirror=()
[ -f "$sources" ] && mirror=("$sources")

key="$( { printf '%s\n' "$suite" "${packages[@]}"; cat "$here/rootfs.sh" "$here/rootfs-extract-hook.sh"; [ -f "$sources" ] && cat "$sources"; } | sha256sum | cut -c1-16)"
tarball="$cache/rootfs-$suite-$key.tar"
if [ -s "$tarball" ]; then
  echo "$tarball"
  exit 0
fi

mkdir -p "$cache"
tmp="$tarball.$$.tmp"
trap 'rm -f "$tmp"' EXIT
include="$(IFS=,; echo "${packages[*]}")"
# extract: the packages' files without running maintainer scripts, so neither dpkg nor apt nor a shell
# need be in the image; the extract hook does the little those scripts would have done.
mmdebstrap --quiet --mode=auto --variant=extract --format=tar --include="$include" \
  --extract-hook="bash '$here/rootfs-extract-hook.sh' \"\$1\"" \
  "$suite" "$tmp" "${mirror[@]}" >&2
mv "$tmp" "$tarball"
trap - EXIT
# Older root filesystems of this suite are stale now: keep the cache at one tarball per suite.
find "$cache" -maxdepth 1 -name "rootfs-$suite-*.tar" ! -path "$tarball" -delete
echo "$tarball"
