// The kinds convergit knows: how each is addressed (group/version/resource) and whether it is namespaced.

export interface KindInfo {
  kind: string;
  group: string; // '' for the core group
  version: string;
  resource: string; // plural, as in URLs
  singular: string;
  shortNames: string[];
  namespaced: boolean;
  /** true when users may commit it (the rest are created by convergit itself). */
  fromGit: boolean;
}

const k = (kind: string, group: string, resource: string, namespaced: boolean, shortNames: string[] = [], fromGit = true): KindInfo => ({
  kind, group, version: 'v1', resource, singular: kind.toLowerCase(), shortNames, namespaced, fromGit,
});

export const KINDS: readonly KindInfo[] = [
  k('Namespace', '', 'namespaces', false, ['ns']),
  k('ConfigMap', '', 'configmaps', true, ['cm']),
  k('Secret', '', 'secrets', true),
  k('Service', '', 'services', true, ['svc']),
  k('Pod', '', 'pods', true, ['po']),
  k('Deployment', 'apps', 'deployments', true, ['deploy']),
  k('ReplicaSet', 'apps', 'replicasets', true, ['rs']),
  k('Event', '', 'events', true, ['ev'], false),
  k('Node', '', 'nodes', false, ['no'], false),
  k('Endpoints', '', 'endpoints', true, ['ep'], false),
];

export const apiVersionOf = (info: KindInfo) => (info.group ? `${info.group}/${info.version}` : info.version);

const byKind = new Map(KINDS.map((i) => [i.kind, i]));
const byResource = new Map(KINDS.map((i) => [`${i.group}/${i.resource}`, i]));

export const kindInfo = (kind: string): KindInfo | undefined => byKind.get(kind);
export const kindByResource = (group: string, resource: string) => byResource.get(`${group}/${resource}`);
export const gitKinds = () => KINDS.filter((i) => i.fromGit).map((i) => i.kind);
export const isNamespaced = (kind: string) => byKind.get(kind)?.namespaced ?? true;

/** Namespaces that exist without being committed, as in a fresh Kubernetes cluster. */
export const BUILTIN_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];
