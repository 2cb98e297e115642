#!/usr/bin/env bash
# Writes deploy/hostnic.yaml, the one-file install, from the kustomize base: the resources that
# deploy/base/kustomization.yaml lists, in its order, comments kept. Run it after editing deploy/base/.
#   scripts/render-deploy.sh [OUT]    (default deploy/hostnic.yaml; the deploy test renders elsewhere to compare)
set -euo pipefail
deploy="$(cd "$(dirname "$0")/../deploy" && pwd)"
out="${1:-$deploy/hostnic.yaml}"
mapfile -t resources < <(sed -n 's/^  - \([a-z-]*\.yaml\)$/\1/p' "$deploy/base/kustomization.yaml")
[ "${#resources[@]}" -gt 0 ] || { echo "render-deploy: no resources in deploy/base/kustomization.yaml" >&2; exit 1; }
{
  cat <<'HEADER'
# hostnic: everything `kubectl apply -f deploy/hostnic.yaml` installs (the seed README's step 3).
# Before it: Secret kube-system/qcsecret (config.yaml), ConfigMaps kube-system/hostnic-cfg-cm and, on QKE,
# kube-system/clusterconfig. After it: VxNetPool v-pool and ConfigMap kube-system/hostnic-ipam-config
# (deploy/example.yaml). The end-to-end tests run hostnic with exactly these CRDs and RBAC rules.
# Generated from the kustomize base (deploy/base/) by scripts/render-deploy.sh: edit there, then run it.
HEADER
  for r in "${resources[@]}"; do
    echo '---'
    cat "$deploy/base/$r"
  done
} >"$out.tmp"
mv "$out.tmp" "$out"
