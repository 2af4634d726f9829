// A live state as convergit would hold it after applying `objects` and settling: each Deployment with its
// ReplicaSet and Ready pods spread over `nodes`. Deterministic names, for golden files.
import type { KubeObject } from '../../src/model/object.ts';
import { objectKey } from '../../src/model/key.ts';
import { ownerRefTo } from '../../src/model/pod.ts';
import { POD_TEMPLATE_HASH_LABEL, podTemplateHash, templateWithHash } from '../../src/controllers/pod-template-hash.ts';
import type { LiveState } from '../../src/review/live-state.ts';

const T = '2026-01-01T00:00:00Z';

export function settledLive(applied: KubeObject[], nodes: KubeObject[]): LiveState {
  const objects: KubeObject[] = [...nodes];
  let next = 0;
  for (const o of applied) {
    const ns = o.metadata.namespace ?? 'default';
    const meta = { ...o.metadata, namespace: o.kind === 'Namespace' ? undefined : ns, uid: `uid-${o.kind.toLowerCase()}-${o.metadata.name}`, generation: 1, creationTimestamp: T };
    if (o.kind === 'Service') {
      objects.push({ ...o, metadata: meta, spec: { ...o.spec, clusterIP: `127.2.0.${10 + objects.length}` } });
      continue;
    }
    if (o.kind !== 'Deployment') {
      objects.push({ ...o, metadata: meta });
      continue;
    }
    const replicas = o.spec.replicas ?? 1;
    const deployment: KubeObject = {
      ...o, metadata: { ...meta, annotations: { ...meta.annotations, 'deployment.kubernetes.io/revision': '1' } },
      status: {
        observedGeneration: 1, replicas, updatedReplicas: replicas, readyReplicas: replicas, availableReplicas: replicas,
        conditions: [{ type: 'Available', status: 'True' }, { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable' }],
      },
    };
    const hash = podTemplateHash(o.spec.template);
    const template = templateWithHash(o.spec.template, hash);
    const rs: KubeObject = {
      apiVersion: 'apps/v1', kind: 'ReplicaSet',
      metadata: {
        name: `${o.metadata.name}-${hash}`, namespace: ns, uid: `uid-rs-${o.metadata.name}-${hash}`, creationTimestamp: T,
        labels: template.metadata!.labels as Record<string, string>,
        annotations: { 'deployment.kubernetes.io/revision': '1' }, ownerReferences: [ownerRefTo(deployment)],
      },
      spec: { replicas, selector: { matchLabels: { ...o.spec.selector.matchLabels, [POD_TEMPLATE_HASH_LABEL]: hash } }, template },
      status: { replicas, readyReplicas: replicas, availableReplicas: replicas, observedGeneration: 1 },
    };
    objects.push(deployment, rs);
    for (let i = 0; i < replicas; i++) {
      const t = template as { metadata: { labels: Record<string, string> }; spec: Record<string, unknown> };
      objects.push({
        apiVersion: 'v1', kind: 'Pod',
        metadata: { name: `${rs.metadata.name}-p${i}`, namespace: ns, uid: `uid-pod-${rs.metadata.name}-${i}`, labels: t.metadata.labels, ownerReferences: [ownerRefTo(rs)], creationTimestamp: T },
        spec: { ...t.spec, nodeName: nodes.length ? nodes[next++ % nodes.length].metadata.name : undefined },
        status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
      });
    }
  }
  return { objects, inventory: applied.map(objectKey), nodesKnown: true };
}
