// Discovery documents, so kubectl can find the resources this server offers: /api, /api/v1, /apis, /apis/<group>,
// /apis/<group>/<version>, with categories (`kubectl get all`) and the subresources served.
import { allKinds, type KindInfo } from '../model/kinds.ts';
import { DERIVED_KINDS } from './derived.ts';
import { REVIEW_KINDS } from './reviews.ts';

/** Kubernetes' `all` category: what `kubectl get all` lists. */
const ALL = new Set(['/pods', '/services', 'apps/deployments', 'apps/replicasets', 'apps/statefulsets', 'apps/daemonsets', 'batch/jobs', 'batch/cronjobs',
  '/replicationcontrollers', 'autoscaling/horizontalpodautoscalers']);
/** Resources with a scale subresource (GET only here). */
export const SCALABLE = new Set(['deployments', 'replicasets', 'statefulsets', 'replicationcontrollers']);
/** Kinds without a status subresource in Kubernetes. */
const NO_STATUS = new Set(['ConfigMap', 'Secret', 'Event', 'Endpoints', 'EndpointSlice', 'ServiceAccount', 'Role', 'RoleBinding',
  'ClusterRole', 'ClusterRoleBinding', 'PriorityClass', 'StorageClass', 'NetworkPolicy', 'LimitRange', 'PodTemplate', 'ControllerRevision', 'Lease', 'NodeMetrics', 'PodMetrics', 'ComponentStatus']);
export const hasStatus = (info: KindInfo) => !NO_STATUS.has(info.kind);

const READ = ['get', 'list', 'watch'];
/** Served without watch, as their storages have none: componentstatuses, and metrics-server's nodes and pods. */
const NO_WATCH = (k: KindInfo) => k.kind === 'ComponentStatus' || k.group === 'metrics.k8s.io';

/** Every kind the API serves: the registry's (built-in and custom), then derived ones the registry does not hold. */
export function servedKinds(): KindInfo[] {
  // Reviews and Bindings are actions, not objects: they are served as `create` (reviews.ts) or not at all.
  const kinds = allKinds().filter((k) => !/Review$/.test(k.kind) && k.kind !== 'Binding');
  const seen = new Set(kinds.map((k) => `${k.group}/${k.resource}`));
  return [...kinds, ...DERIVED_KINDS.filter((k) => !seen.has(`${k.group}/${k.resource}`))];
}

function resourcesOf(group: string, version: string) {
  const out: unknown[] = [];
  for (const k of servedKinds().filter((x) => x.group === group && x.versions.includes(version))) {
    const categories = [...new Set([...k.categories, ...(ALL.has(`${k.group}/${k.resource}`) ? ['all'] : [])])];
    out.push({
      name: k.resource, singularName: k.singular, namespaced: k.namespaced, kind: k.kind, verbs: NO_WATCH(k) ? ['get', 'list'] : READ,
      ...(k.shortNames.length ? { shortNames: k.shortNames } : {}),
      ...(categories.length ? { categories } : {}),
    });
    if (hasStatus(k)) out.push({ name: `${k.resource}/status`, singularName: '', namespaced: k.namespaced, kind: k.kind, verbs: ['get'] });
    if (SCALABLE.has(k.resource)) out.push({ name: `${k.resource}/scale`, singularName: '', namespaced: k.namespaced, group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get'] });
    if (k.kind === 'Pod') out.push({ name: 'pods/log', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get'] });
  }
  for (const r of REVIEW_KINDS.filter((x) => x.group === group && x.version === version)) {
    out.push({ name: r.resource, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: ['create'] });
  }
  return out;
}

/** group → its versions, preferred first. */
export function groupVersions(): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const k of [...servedKinds(), ...REVIEW_KINDS]) {
    if (!k.group) continue;
    const vs = m.get(k.group) ?? [];
    for (const v of k.versions ?? [k.version]) if (!vs.includes(v)) vs.push(v);
    m.set(k.group, vs);
  }
  for (const vs of m.values()) vs.sort(byKubeVersion);
  return m;
}

/** Kubernetes' version priority: GA over beta over alpha, higher numbers first (v2 > v1 > v1beta2 > v1beta1). */
export function byKubeVersion(a: string, b: string): number {
  const rank = (v: string) => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!m) return [0, 0, 0];
    return [m[2] === 'alpha' ? 1 : m[2] === 'beta' ? 2 : 3, Number(m[1]), Number(m[3] ?? 0)];
  };
  const [x, y] = [rank(a), rank(b)];
  return y[0] - x[0] || y[1] - x[1] || y[2] - x[2];
}

function apiGroup(name: string, versions: string[]) {
  const gvs = versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
  return { name, versions: gvs, preferredVersion: gvs[0] };
}

/** The body for a discovery path, or undefined when the path is not one. */
export function discovery(pathname: string, serverAddress: string): unknown {
  const p = pathname.replace(/\/+$/, '');
  if (p === '/api') return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
  if (p === '/api/v1') return { kind: 'APIResourceList', groupVersion: 'v1', resources: resourcesOf('', 'v1') };
  const groups = groupVersions();
  if (p === '/apis') return { kind: 'APIGroupList', apiVersion: 'v1', groups: [...groups].map(([g, vs]) => apiGroup(g, vs)) };
  const m = p.match(/^\/apis\/([^/]+)(?:\/([^/]+))?$/);
  if (!m || !groups.has(m[1])) return undefined;
  if (!m[2]) return { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(m[1], groups.get(m[1])!) };
  if (!groups.get(m[1])!.includes(m[2])) return undefined;
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: `${m[1]}/${m[2]}`, resources: resourcesOf(m[1], m[2]) };
}

/** The content type of aggregated discovery (apidiscovery.k8s.io/v2), which kubectl 1.32 asks for first. */
export const AGGREGATED_TYPE = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';
export const wantsAggregated = (accept: string | undefined) => !!accept && /g=apidiscovery\.k8s\.io;\s*v=v2;\s*as=APIGroupDiscoveryList/.test(accept);

/** One group's versions in aggregated form, from the same resource lists the legacy documents give. */
function aggregatedGroup(group: string, versions: string[]) {
  return {
    metadata: group ? { name: group } : {},
    versions: versions.map((version) => {
      const all = resourcesOf(group, version) as any[];
      const top = all.filter((r) => !r.name.includes('/'));
      return {
        version,
        freshness: 'Current',
        resources: top.map((r) => ({
          resource: r.name,
          responseKind: { group, version, kind: r.kind },
          scope: r.namespaced ? 'Namespaced' : 'Cluster',
          singularResource: r.singularName,
          verbs: r.verbs,
          ...(r.shortNames ? { shortNames: r.shortNames } : {}),
          ...(r.categories ? { categories: r.categories } : {}),
          ...(() => {
            const subs = all.filter((x) => x.name.startsWith(`${r.name}/`)).map((x) => ({
              subresource: x.name.slice(r.name.length + 1),
              responseKind: { group: x.group ?? group, version: x.version ?? version, kind: x.kind },
              verbs: x.verbs,
            }));
            return subs.length ? { subresources: subs } : {};
          })(),
        })),
      };
    }),
  };
}

/** `/api` or `/apis` as an APIGroupDiscoveryList; undefined for other paths. */
export function aggregatedDiscovery(pathname: string): unknown {
  const p = pathname.replace(/\/+$/, '');
  const list = (items: unknown[]) => ({ kind: 'APIGroupDiscoveryList', apiVersion: 'apidiscovery.k8s.io/v2', metadata: {}, items });
  if (p === '/api') return list([aggregatedGroup('', ['v1'])]);
  if (p === '/apis') return list([...groupVersions()].map(([g, vs]) => aggregatedGroup(g, vs)));
  return undefined;
}
