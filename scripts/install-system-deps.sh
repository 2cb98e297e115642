#!/usr/bin/env bash
# Installs the Debian packages that the dataplane tests and the sandbox need, when they are missing.
# Safe to run repeatedly: it does nothing when everything is present.
#   --image   also what building and testing the image takes (npm run image does this; so does CI, CI=true)
set -euo pipefail
image=0
if [ "${1:-}" = "--image" ] || [ "${CI:-}" = "true" ]; then image=1; fi

declare -A need=(
  [ip]=iproute2
  [iptables]=iptables
  [iptables-restore]=iptables
  [ebtables]=ebtables
  [ipset]=ipset
  [nsenter]=util-linux
  [flock]=util-linux
  [ping]=iputils-ping
  # The sandbox's DHCP server on VLAN vxnets, and the agent's DHCP client for their bridges.
  [dnsmasq]=dnsmasq-base
  [busybox]=busybox-static
  # The fake kube-apiserver's CA and serving certificate; kubectl for the tests that run it against the fake.
  [openssl]=openssl
  [kubectl]=kubernetes-client
  # podman with its CNI backend, runc and the cgroupfs manager: the test that runs a container (not a
  # Kubernetes pod) on a sandbox node through the hostnic plugin.
  [podman]=podman
  [runc]=runc
)
if [ "$image" -eq 1 ]; then
  # The root filesystem (mmdebstrap), its library check and Node's stripping (readelf, strip), the assembly
  # (buildah) and the image test (podman; runc, which also runs where crun cannot: cgroups v1 hybrid). As root, no uidmap or
  # fuse-overlayfs: those are for rootless builds.
  need+=([mmdebstrap]=mmdebstrap [readelf]=binutils [strip]=binutils [buildah]=buildah [podman]=podman [runc]=runc)
fi
missing=()
for cmd in "${!need[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || [ -x "/sbin/$cmd" ] || missing+=("${need[$cmd]}")
done
# The reference plugins (ptp, host-local, portmap, bandwidth, tuning) used by the CNI chaining tests.
[ -x /usr/lib/cni/ptp ] || missing+=(containernetworking-plugins)
# The podman test builds its image from the static busybox (no registry is reached), also where a dynamic
# busybox is the one on PATH.
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' || missing+=(busybox-static)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
mapfile -t pkgs < <(printf '%s\n' "${missing[@]}" | sort -u)
if [ "$(id -u)" -ne 0 ]; then
  echo "hostnic tests need these Debian packages: ${pkgs[*]}" >&2
  echo "Install them as root: apt-get install -y ${pkgs[*]}  (or run this script as root: npm run system-deps)" >&2
  exit 1
fi
echo "installing Debian packages: ${pkgs[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
