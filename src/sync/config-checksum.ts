// Environment read from a ConfigMap or Secret is fixed when a container starts, so in Kubernetes a changed
// ConfigMap reaches pods only when something restarts them. GitOps users expect a commit to take effect, so, as
// Helm's checksum annotations and Kustomize's generated names do, each pod template gets a checksum of the
// ConfigMaps and Secrets it reads: changing one rolls the workload out, and a revert brings the old
// ReplicaSet back.
import { createHash } from 'node:crypto';
import type { KubeObject } from '../model/object.ts';
import { canonical } from '../plan/canonical.ts';
import { configRefs } from '../model/config-refs.ts';

export const CONFIG_CHECKSUM = 'convergit.dev/config-checksum';

interface Refs { ConfigMap: Set<string>; Secret: Set<string> }

function referenced(podSpec: any): Refs {
  const refs: Refs = { ConfigMap: new Set(), Secret: new Set() };
  for (const r of configRefs(podSpec)) if (r.name) refs[r.kind].add(r.name);
  return refs;
}

/**
 * Annotates the pod template of each Deployment, ReplicaSet and StatefulSet with a checksum of the data of the ConfigMaps
 * and Secrets of the same revision that it reads. Changes `objects` in place; templates reading none are left
 * alone. (A bare Pod's spec cannot change in place, so Pods are not stamped.)
 */
export function stampConfigChecksums(objects: KubeObject[]): void {
  const data = new Map(objects.filter((o) => o.kind === 'ConfigMap' || o.kind === 'Secret')
    .map((o) => [`${o.kind}/${o.metadata.namespace}/${o.metadata.name}`, { data: o.data, binaryData: o.binaryData }]));
  for (const o of objects) {
    if (!['Deployment', 'ReplicaSet', 'StatefulSet'].includes(o.kind) || !o.spec?.template) continue;
    const refs = referenced(o.spec.template.spec);
    const read = (['ConfigMap', 'Secret'] as const).flatMap((kind) => [...refs[kind]].sort().map((name) => {
      const key = `${kind}/${o.metadata.namespace}/${name}`;
      return [key, data.get(key) ?? null];
    }));
    if (!read.length) continue;
    const sum = createHash('sha256').update(canonical(read)).digest('hex').slice(0, 16);
    const meta = (o.spec.template.metadata ??= {});
    meta.annotations = { ...meta.annotations, [CONFIG_CHECKSUM]: sum };
  }
}
