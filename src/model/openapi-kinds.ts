// The built-in kinds as Kubernetes' OpenAPI document describes them: group, kind, resource, scope and the
// definition of each served version. Derived once, when the document is updated (scripts/update-openapi.sh writes
// schemas/kubernetes-<minor>.kinds.json), not at every start: parsing the 3.3 MB document cost a start ~100 ms of
// CPU and kept its ~30 MB of objects alive (docs/engine.md, "Start-up"). model/kinds.ts adds convergit's policy.

/** One built-in kind, as the OpenAPI document gives it. */
export interface OpenApiKind {
  kind: string;
  group: string;
  /** Every version served, preferred first. */
  versions: string[];
  resource: string;
  namespaced: boolean;
  /** The OpenAPI definition of each version, `io.k8s.api.apps.v1.Deployment`. */
  definitions: Record<string, string>;
}

export interface OpenApiDocument { definitions: Record<string, any>; paths: Record<string, Record<string, any>> }

const GA = /^v\d+$/;
const SERVED = /^v\d+(beta\d+)?$/;
const RESOURCE_PATH = /^\/apis?\/(?:[^/]+\/)?[^/]+\/(namespaces\/\{namespace\}\/)?([a-z0-9]+)(\/\{name\})?$/;

/**
 * Built-in kinds: their GA versions, as a fresh cluster serves them; a beta version only for a kind that has no GA
 * version yet (resource.k8s.io, ServiceCIDR …), so such manifests validate instead of being unknown. In the order
 * of the document's paths.
 */
export function kindsOfOpenApi(doc: OpenApiDocument): OpenApiKind[] {
  const found = new Map<string, OpenApiKind>();
  const defOf = new Map<string, string>();
  for (const [name, d] of Object.entries(doc.definitions)) {
    for (const g of d['x-kubernetes-group-version-kind'] ?? []) defOf.set(`${g.group}/${g.version}/${g.kind}`, name);
  }
  for (const [path, ops] of Object.entries(doc.paths)) {
    const m = RESOURCE_PATH.exec(path);
    if (!m) continue;
    for (const op of Object.values(ops)) {
      const gvk = op?.['x-kubernetes-group-version-kind'];
      if (!gvk || !SERVED.test(gvk.version)) continue;
      const { group, version, kind } = gvk as { group: string; version: string; kind: string };
      const def = defOf.get(`${group}/${version}/${kind}`);
      if (!def) continue;
      const id = `${group}/${kind}`;
      let entry = found.get(id);
      if (!entry) {
        entry = { kind, group, versions: [], resource: m[2], namespaced: false, definitions: {} };
        found.set(id, entry);
      }
      if (m[1]) entry.namespaced = true;
      if (!entry.versions.includes(version)) entry.versions.push(version);
      entry.definitions[version] = def;
    }
  }
  // Kubernetes prefers the newest GA version of a group (autoscaling/v2 over v1), and GA over beta.
  const rank = (v: string) => Number(/^v(\d+)/.exec(v)![1]) * 1000 - (v.includes('beta') ? 500 - Number(/beta(\d+)/.exec(v)![1]) : 0);
  const kinds = [...found.values()];
  for (const k of kinds) {
    k.versions.sort((a, b) => rank(b) - rank(a));
    if (k.versions.some((v) => GA.test(v))) k.versions = k.versions.filter((v) => GA.test(v));
    for (const v of Object.keys(k.definitions)) if (!k.versions.includes(v)) delete k.definitions[v];
  }
  return kinds;
}
