#!/usr/bin/env bash
# Regenerates schemas/kubernetes-<minor>.swagger.json: Kubernetes' own OpenAPI v2 document for every built-in
# kind, as kube-apiserver serves it at /openapi/v2, byte for byte from the release branch; then
# schemas/kubernetes-<minor>.kinds.json, the kinds it describes (scripts/update-openapi-kinds.ts).
#   scripts/update-openapi.sh [1.32]            download from the kubernetes repository
#   scripts/update-openapi.sh 1.32 <checkout>   copy from a local kubernetes checkout at that release
set -euo pipefail
minor=${1:-1.32}
out="$(dirname "$0")/../schemas/kubernetes-$minor.swagger.json"
if [ -n "${2:-}" ]; then
  git -C "$2" show "origin/release-$minor:api/openapi-spec/swagger.json" > "$out.tmp" 2>/dev/null \
    || cp "$2/api/openapi-spec/swagger.json" "$out.tmp"
else
  curl -fsSL "https://raw.githubusercontent.com/kubernetes/kubernetes/release-$minor/api/openapi-spec/swagger.json" -o "$out.tmp"
fi
node -e 'const d=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")); if(!d.definitions["io.k8s.api.apps.v1.Deployment"]) throw new Error("not a Kubernetes OpenAPI v2 document")' "$out.tmp"
mv "$out.tmp" "$out"
echo "wrote $out"
# The built-in kinds it describes, which convergit reads at start instead of the whole document.
npx tsx "$(dirname "$0")/update-openapi-kinds.ts" "$minor"
