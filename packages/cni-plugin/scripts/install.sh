#!/bin/sh
# Installs the hostnic CNI plugin and the Node runtime it runs on into a CNI bin directory, so that the
# node needs no Node.js of its own:
#   DEST/hostnic-node  the Node binary (copied, or symlinked with --link-node)
#   DEST/hostnic       the bundle, its first line rewritten to "#!HOST_DIR/hostnic-node"
# HOST_DIR is where kubelet sees DEST: from a DaemonSet init container that mounts the node's /opt/cni/bin
# at /host/opt/cni/bin, pass --dest /host/opt/cni/bin --host-dir /opt/cni/bin. It defaults to DEST.
# Every file is written under a temporary name and renamed into place, so a kubelet running the plugin
# meanwhile sees either the old or the new file, never half of one. The runtime is replaced only when it
# differs, and before the plugin that needs it.
#
# usage: install.sh --plugin dist/hostnic --node "$(command -v node)" --dest DIR [--host-dir DIR] [--link-node]
set -eu

plugin=''
node=''
dest=''
host_dir=''
link_node=0
while [ $# -gt 0 ]; do
  case "$1" in
    --plugin) plugin="$2"; shift 2 ;;
    --node) node="$2"; shift 2 ;;
    --dest) dest="$2"; shift 2 ;;
    --host-dir) host_dir="$2"; shift 2 ;;
    --link-node) link_node=1; shift ;;
    *) echo "install.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ -z "$plugin" ] || [ -z "$node" ] || [ -z "$dest" ]; then
  echo "usage: install.sh --plugin PATH --node PATH --dest DIR [--host-dir DIR] [--link-node]" >&2
  exit 2
fi
[ -n "$host_dir" ] || host_dir="$dest"
case "$host_dir" in
  /*) ;;
  *) echo "install.sh: the host directory must be absolute (it becomes the shebang)" >&2; exit 2 ;;
esac
case "$host_dir" in
  *[[:space:]]*) echo "install.sh: the host directory may not contain blanks (it becomes the shebang)" >&2; exit 2 ;;
esac
[ -f "$plugin" ] || { echo "install.sh: no plugin at $plugin" >&2; exit 1; }
[ -x "$node" ] || { echo "install.sh: no executable Node at $node" >&2; exit 1; }

mkdir -p "$dest"
runtime="$dest/hostnic-node"
tmp_runtime="$dest/.hostnic-node.$$"
tmp_plugin="$dest/.hostnic.$$"
trap 'rm -f "$tmp_runtime" "$tmp_plugin"' EXIT

if [ "$link_node" -eq 1 ]; then
  ln -sf "$node" "$tmp_runtime"
  mv -f "$tmp_runtime" "$runtime"
elif ! cmp -s "$node" "$runtime" 2>/dev/null; then
  cp "$node" "$tmp_runtime"
  chmod 0755 "$tmp_runtime"
  mv -f "$tmp_runtime" "$runtime"
fi

{
  echo "#!$host_dir/hostnic-node"
  tail -n +2 "$plugin"
} >"$tmp_plugin"
chmod 0755 "$tmp_plugin"
mv -f "$tmp_plugin" "$dest/hostnic"
