#!/usr/bin/env bash
# `npm run image`: builds the hostnic image from Debian packages and the npm registry alone (no base image,
# no registry), into the local container storage as localhost/hostnic:<version> and as an OCI archive,
# dist/image/hostnic-<version>.oci.tar, for `podman load`. Prints how long it took and the image's size.
#
#   scripts/image/build.sh [--no-build]
# HOSTNIC_IMAGE: the image reference (default localhost/hostnic:<version of package.json>).
# HOSTNIC_IMAGE_CACHE: where the root filesystem tarball is cached (see rootfs.sh).
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$repo"
started=$SECONDS

bash scripts/install-system-deps.sh --image
# --no-build: the bundles are built already (the image test runs under `turbo run test`, whose ^build made
# them; a turbo inside a turbo task would contend for its cache).
if [ "${1:-}" != "--no-build" ]; then
  npx turbo run build --output-logs=errors-only \
    --filter=@hostnic/agent --filter=@hostnic/controller --filter=@hostnic/iaas-client --filter=@hostnic/cni-plugin
fi

version="$(node -p "require('./package.json').version")"
ref="${HOSTNIC_IMAGE:-localhost/hostnic:$version}"
archive="$repo/dist/image/hostnic-$version.oci.tar"
revision="$(git rev-parse HEAD 2>/dev/null || echo unknown)"

rootfs="$(bash scripts/image/rootfs.sh)"
work="$(mktemp -d "${TMPDIR:-/tmp}/hostnic-image-XXXXXX")"
ctr=""
cleanup() {
  [ -z "$ctr" ] || buildah rm "$ctr" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
bash scripts/image/stage-app.sh "$work/app"

ctr="$(buildah from scratch)"
buildah add --quiet "$ctr" "$rootfs" / >/dev/null
buildah add --quiet "$ctr" "$work/app" / >/dev/null
buildah config \
  --label org.opencontainers.image.title=hostnic \
  --label "org.opencontainers.image.description=hostnic CNI for QingCloud: hostnic-agent, hostnic-controller, hostnic-iaas and the CNI plugin" \
  --label "org.opencontainers.image.version=$version" \
  --label "org.opencontainers.image.revision=$revision" \
  --label "org.opencontainers.image.created=$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  --label org.opencontainers.image.licenses=Apache-2.0 \
  --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --workingdir /app \
  --entrypoint '[]' \
  --cmd '["hostnic-agent"]' \
  --os linux --arch amd64 \
  "$ctr"
buildah commit --quiet --rm "$ctr" "$ref" >/dev/null
ctr=""

mkdir -p "$(dirname "$archive")"
rm -f "$archive"
buildah push --quiet "$ref" "oci-archive:$archive:$ref" >/dev/null

size="$(podman image inspect --format '{{.Size}}' "$ref")"
echo "built $ref in $((SECONDS - started)) s: $((size / 1000000)) MB uncompressed; archive $archive"
