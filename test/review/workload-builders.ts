// Builders for the review tests: desired objects loaded from YAML as `serve` loads them, and live state as the
// controllers leave it (a Deployment, its ReplicaSets by pod-template-hash, their pods bound to nodes).
import * as assert from 'uvu/assert';
import { loadManifests } from '../../src/manifests/load-manifests.ts';
import type { DesiredObject } from '../../src/manifests/types.ts';
import type { KubeObject } from '../../src/model/object.ts';
import { gitKinds } from '../../src/model/kinds.ts';
import { objectKey } from '../../src/model/key.ts';
import { podTemplateHash, templateWithHash } from '../../src/controllers/pod-template-hash.ts';
import { REVISION_ANNOTATION } from '../../src/controllers/rollout.ts';
import { makePlan, type Plan } from '../../src/plan/plan.ts';
import type { LiveState } from '../../src/review/live-state.ts';

export { node } from '../scheduler/helpers.ts';

export interface DeploymentOpts {
  name?: string;
  replicas?: number;
  /** The image tag: changing it changes the pod template. */
  version?: string;
  cpu?: string;
  memory?: string;
  strategy?: 'Recreate' | { maxSurge?: number | string; maxUnavailable?: number | string };
  paused?: boolean;
}

/** A Deployment's YAML, labels app=<name>. */
export function deploymentYaml(o: DeploymentOpts = {}): string {
  const name = o.name ?? 'web';
  const requests = [o.cpu && `cpu: ${o.cpu}`, o.memory && `memory: ${o.memory}`].filter(Boolean).join(', ');
  const strategy = o.strategy === 'Recreate'
    ? '  strategy: { type: Recreate }\n'
    : o.strategy
      ? `  strategy: { type: RollingUpdate, rollingUpdate: { ${Object.entries(o.strategy).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join(', ')} } }\n`
      : '';
  return `apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name} }
spec:
  replicas: ${o.replicas ?? 3}
${strategy}${o.paused ? '  paused: true\n' : ''}  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec:
      containers:
        - name: app
          image: registry.local/${name}:${o.version ?? 'v1'}
${requests ? `          resources: { requests: { ${requests} } }\n` : ''}`;
}

/** Desired objects as the loader gives them (defaults applied, positions known); fails on any error. */
export function load(text: string, file = 'app.yaml'): DesiredObject[] {
  const r = loadManifests([{ path: file, content: text }]);
  assert.equal(r.issues.filter((i) => i.severity === 'error'), [], 'fixture loads without errors');
  return r.objects;
}

export const objectsOf = (text: string) => load(text).map((d) => d.object);

let clock = 0;
/** Creation times in the order objects are built, so "newest" is well defined. */
const created = () => new Date(Date.UTC(2024, 4, 1, 10, 0, clock++)).toISOString();

/** `o` as the store holds it once applied: with a uid, a creation time and (optionally) a status. */
export function stored(o: KubeObject, status?: unknown): KubeObject {
  const s = structuredClone(o);
  s.metadata.uid = `uid-${o.kind}-${o.metadata.name}`.toLowerCase();
  s.metadata.creationTimestamp = created();
  if (status !== undefined) s.status = status;
  return s;
}

/** The ReplicaSet the Deployment controller makes for `template`, named by its hash. */
export function replicaSet(deployment: KubeObject, template: unknown, replicas: number, revision: number): KubeObject {
  const hash = podTemplateHash(template as any);
  const t = templateWithHash(template as any, hash);
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: `${deployment.metadata.name}-${hash}`,
      namespace: deployment.metadata.namespace,
      uid: `uid-rs-${deployment.metadata.name}-${hash}`,
      creationTimestamp: created(),
      labels: t.metadata!.labels,
      annotations: { [REVISION_ANNOTATION]: String(revision) },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name, uid: deployment.metadata.uid!, controller: true }],
    },
    spec: { replicas, selector: { matchLabels: t.metadata!.labels }, template: t },
    status: { replicas, readyReplicas: replicas, availableReplicas: replicas },
  };
}

export interface PodOpts {
  /** Nodes the pods are bound to, round robin; none: Pending. */
  nodes?: string[];
  phase?: string;
  deleting?: boolean;
}

/** `n` pods of `owner` (a ReplicaSet), Running and Ready on `nodes` unless told otherwise. */
export function podsOf(owner: KubeObject, n: number, o: PodOpts = {}): KubeObject[] {
  const phase = o.phase ?? (o.nodes?.length ? 'Running' : 'Pending');
  return Array.from({ length: n }, (_, i) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `${owner.metadata.name}-${String.fromCharCode(97 + i)}${clock}`,
      namespace: owner.metadata.namespace,
      uid: `uid-pod-${owner.metadata.name}-${i}-${clock}`,
      creationTimestamp: created(),
      labels: owner.spec.template.metadata?.labels,
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: owner.metadata.name, uid: owner.metadata.uid!, controller: true }],
      ...(o.deleting && { deletionTimestamp: '2024-05-01T11:00:00Z' }),
    },
    spec: { ...structuredClone(owner.spec.template.spec), ...(o.nodes?.length && { nodeName: o.nodes[i % o.nodes.length] }) },
    status: {
      phase,
      ...(phase === 'Running' && { conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: created() }] }),
    },
  }));
}

/** A Deployment applied from `text`, with its current ReplicaSet (revision `revision`) and its pods on `nodes`. */
export function running(text: string, o: PodOpts & { revision?: number; pods?: number } = {}): { deployment: KubeObject; rs: KubeObject; pods: KubeObject[]; all: KubeObject[] } {
  const desired = objectsOf(text)[0];
  const replicas = desired.spec.replicas;
  const deployment = stored(desired, { replicas, readyReplicas: replicas, availableReplicas: replicas, updatedReplicas: replicas });
  const rs = replicaSet(deployment, desired.spec.template, replicas, o.revision ?? 1);
  const pods = podsOf(rs, o.pods ?? replicas, o);
  return { deployment, rs, pods, all: [deployment, rs, ...pods] };
}

/** A live state whose inventory is the given git-applied objects. */
export function liveState(objects: KubeObject[], fromGit: KubeObject[], nodesKnown = true): LiveState {
  return { objects, inventory: fromGit.map(objectKey).sort(), nodesKnown };
}

/** The plan `convergit plan` makes: desired against the live objects of the kinds git may own. */
export function planOf(desired: KubeObject[], live: LiveState): Plan {
  const kinds = new Set(gitKinds());
  return makePlan({ desired, live: live.objects.filter((o) => kinds.has(o.kind)), inventory: live.inventory });
}
