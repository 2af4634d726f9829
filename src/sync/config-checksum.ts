// Environment read from a ConfigMap or Secret is fixed when a container starts, so in Kubernetes a changed
// ConfigMap reaches pods only when something restarts them. GitOps users expect a commit to take effect, so, as
// Helm's checksum annotations and Kustomize's generated names do, each pod template gets a checksum of the
// ConfigMaps and Secrets it reads: changing one rolls the workload out, and a revert brings the old
// ReplicaSet back.
import { createHash } from 'node:crypto';
import type { KubeObject } from '../model/object.ts';
import { canonical } from '../plan/canonical.ts';
import { configRefs } from '../model/config-refs.ts';
import { deepFreeze } from '../model/deep-freeze.ts';

export const CONFIG_CHECKSUM = 'convergit.dev/config-checksum';

interface Refs { ConfigMap: Set<string>; Secret: Set<string> }

/** What a frozen (shared, never changed) pod spec reads: the same answer commit after commit, worked out once. */
const refsOf = new WeakMap<object, Refs>();

function referenced(podSpec: any): Refs {
  const hit = podSpec && refsOf.get(podSpec);
  if (hit) return hit;
  const refs: Refs = { ConfigMap: new Set(), Secret: new Set() };
  for (const r of configRefs(podSpec)) if (r.name) refs[r.kind].add(r.name);
  if (podSpec && Object.isFrozen(podSpec)) refsOf.set(podSpec, refs);
  return refs;
}

/**
 * Annotates the pod template of each Deployment, ReplicaSet and StatefulSet with a checksum of the data of the ConfigMaps
 * and Secrets of the same revision that it reads. Changes `objects` in place, but for frozen (shared) objects, which
 * are replaced in the array by a stamped copy (the same copy for the same object and checksum, so an unchanged
 * object keeps its identity from one load to the next); templates reading none are left alone. (A bare Pod's spec
 * cannot change in place, so Pods are not stamped.) Returns `objects`.
 */
export function stampConfigChecksums(objects: KubeObject[]): KubeObject[] {
  let data: Map<string, unknown> | undefined;
  for (let i = 0; i < objects.length; i++) {
    const o = objects[i];
    if (!WORKLOADS.has(o.kind) || !o.spec?.template) continue;
    const refs = referenced(o.spec.template.spec);
    if (!refs.ConfigMap.size && !refs.Secret.size) continue;
    data ??= new Map(objects.filter((x) => x.kind === 'ConfigMap' || x.kind === 'Secret')
      .map((x) => [`${x.kind}/${x.metadata.namespace}/${x.metadata.name}`, { data: x.data, binaryData: x.binaryData }]));
    const read = (['ConfigMap', 'Secret'] as const).flatMap((kind) => [...refs[kind]].sort().map((name) => {
      const key = `${kind}/${o.metadata.namespace}/${name}`;
      return [key, data!.get(key) ?? null];
    }));
    const sum = createHash('sha256').update(canonical(read)).digest('hex').slice(0, 16);
    if (Object.isFrozen(o)) {
      const hit = stamped.get(o);
      if (hit?.sum === sum) { objects[i] = hit.copy; continue; }
      const copy = stampedCopy(o, sum);
      stamped.set(o, { sum, copy });
      objects[i] = copy;
    } else stampWith(o, sum);
  }
  return objects;
}

const WORKLOADS = new Set(['Deployment', 'ReplicaSet', 'StatefulSet']);
/** A shared object's stamped copy, by its checksum. */
const stamped = new WeakMap<KubeObject, { sum: string; copy: KubeObject }>();

/**
 * A frozen object's stamped copy, frozen: new down to the template's annotations, the rest shared with `o` (a copy
 * of the whole Deployment for each, held as long as the loader holds `o`, was 5 MB at 10,000 objects).
 */
function stampedCopy(o: KubeObject, sum: string): KubeObject {
  const template = o.spec.template;
  const annotations = { ...template.metadata?.annotations, [CONFIG_CHECKSUM]: sum };
  return deepFreeze({ ...o, spec: { ...o.spec, template: { ...template, metadata: { ...template.metadata, annotations } } } });
}

function stampWith(o: KubeObject, sum: string): void {
  const meta = (o.spec.template.metadata ??= {});
  meta.annotations = { ...meta.annotations, [CONFIG_CHECKSUM]: sum };
}
