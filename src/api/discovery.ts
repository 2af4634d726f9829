// Discovery documents, so kubectl can find the resources this server offers.
import { KINDS } from '../model/kinds.ts';

const resourcesOf = (group: string) =>
  KINDS.filter((k) => k.group === group).flatMap((k) => [
    { name: k.resource, singularName: k.singular, namespaced: k.namespaced, kind: k.kind, verbs: ['get', 'list', 'watch'], shortNames: k.shortNames },
    ...(k.kind === 'Pod' ? [{ name: 'pods/log', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get'] }] : []),
  ]);

const groups = () => [...new Set(KINDS.map((k) => k.group).filter(Boolean))];

/** The body for a discovery path, or undefined when the path is not one. */
export function discovery(pathname: string, serverAddress: string): unknown {
  const p = pathname.replace(/\/+$/, '');
  if (p === '/api') return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
  if (p === '/api/v1') return { kind: 'APIResourceList', groupVersion: 'v1', resources: resourcesOf('') };
  if (p === '/apis') {
    return {
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: groups().map((g) => {
        const gv = { groupVersion: `${g}/v1`, version: 'v1' };
        return { name: g, versions: [gv], preferredVersion: gv };
      }),
    };
  }
  const m = p.match(/^\/apis\/([^/]+)\/v1$/);
  if (m && groups().includes(m[1])) return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: `${m[1]}/v1`, resources: resourcesOf(m[1]) };
  return undefined;
}
