#!/usr/bin/env bash
# Lays out what the image adds to its root filesystem, under DIR (built bundles required: `npm run build`):
#
#   /usr/local/bin/node                 the pinned Node (the root package.json's `node`), symbols stripped
#   /usr/local/bin/hostnic-agent        -> /app/hostnic-agent.mjs (likewise hostnic-controller, hostnic-iaas)
#   /app/hostnic                        the CNI plugin bundle that install-cni copies onto the node
#   /app/node_modules/                  lmdb and the packages it loads at run time
#
# Both image builds use it (scripts/image/build.sh and deploy/images/Dockerfile), so they have one layout.
#   scripts/image/stage-app.sh DIR
set -euo pipefail
out="${1:?usage: stage-app.sh DIR}"
repo="$(cd "$(dirname "$0")/../.." && pwd)"

node_bin="$(readlink -f "$repo/node_modules/node/bin/node")"
want="$(sed -n 's/^ *"node": "\([0-9.]*\)",\{0,1\}$/\1/p' "$repo/package.json" | head -1)"
have="$("$node_bin" --version)"
if [ "v$want" != "$have" ]; then
  echo "stage-app: node_modules has Node $have, package.json pins $want: run npm ci" >&2
  exit 1
fi

bundles=(
  "packages/agent/dist/bundle"
  "packages/controller/dist/bundle"
  "packages/iaas-client/dist/bundle"
)
for b in "${bundles[@]}" packages/cni-plugin/dist/hostnic; do
  [ -e "$repo/$b" ] || { echo "stage-app: $b is missing: run npm run build first" >&2; exit 1; }
done

rm -rf "$out"
mkdir -p "$out/usr/local/bin" "$out/app"
# The official build keeps its debug symbols (about 18 MB); the image has no use for them.
strip --strip-all -o "$out/usr/local/bin/node" "$node_bin"
for b in "${bundles[@]}"; do
  cp -R "$repo/$b/." "$out/app/"
done
cp "$repo/packages/cni-plugin/dist/hostnic" "$out/app/hostnic"
for cmd in hostnic-agent hostnic-controller hostnic-iaas; do
  ln -s "/app/$cmd.mjs" "$out/usr/local/bin/$cmd"
done
