// Discovery documents, so kubectl can find the resources this server offers: every kind the registry knows,
// built-in and custom, in each version it is served in.
import { allKinds, type KindInfo } from '../model/kinds.ts';

const resourcesOf = (group: string, version: string) =>
  allKinds().filter((k) => k.group === group && k.versions.includes(version)).flatMap((k: KindInfo) => [
    {
      name: k.resource, singularName: k.singular, namespaced: k.namespaced, kind: k.kind, verbs: ['get', 'list', 'watch'],
      ...(k.shortNames.length ? { shortNames: k.shortNames } : {}), ...(k.categories.length ? { categories: k.categories } : {}),
    },
    ...(k.kind === 'Pod' ? [{ name: 'pods/log', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get'] }] : []),
  ]);

/** Each API group with its versions, the preferred one first. */
function groups(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const k of allKinds()) {
    if (!k.group) continue;
    const vs = out.get(k.group) ?? [];
    for (const v of k.versions) if (!vs.includes(v)) vs.push(v);
    out.set(k.group, vs);
  }
  return out;
}

const groupDoc = (name: string, versions: string[]) => {
  const list = versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
  return { name, versions: list, preferredVersion: list[0] };
};

/** The body for a discovery path, or undefined when the path is not one. */
export function discovery(pathname: string, serverAddress: string): unknown {
  const p = pathname.replace(/\/+$/, '');
  if (p === '/api') return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
  if (p === '/api/v1') return { kind: 'APIResourceList', groupVersion: 'v1', resources: resourcesOf('', 'v1') };
  const all = groups();
  if (p === '/apis') return { kind: 'APIGroupList', apiVersion: 'v1', groups: [...all].map(([g, vs]) => groupDoc(g, vs)) };
  const m = p.match(/^\/apis\/([^/]+)(?:\/([^/]+))?$/);
  const versions = m && all.get(m[1]);
  if (!m || !versions) return undefined;
  if (!m[2]) return { kind: 'APIGroup', apiVersion: 'v1', ...groupDoc(m[1], versions) };
  if (!versions.includes(m[2])) return undefined;
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: `${m[1]}/${m[2]}`, resources: resourcesOf(m[1], m[2]) };
}
