// Builders shared by the scheduler tests: Nodes as node executors register them, Pods as controllers create them.
import type { KubeObject } from '../../src/model/object.ts';
import type { Store } from '../../src/store/store.ts';

export interface NodeOpts {
  cpu?: string;
  memory?: string;
  pods?: string;
  ready?: boolean;
  unschedulable?: boolean;
  labels?: Record<string, string>;
}

export function node(name: string, o: NodeOpts = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...o.labels } },
    spec: o.unschedulable ? { unschedulable: true } : {},
    status: {
      allocatable: { cpu: o.cpu ?? '2', memory: o.memory ?? '4Gi', pods: o.pods ?? '110' },
      conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True', reason: 'KubeletReady', lastHeartbeatTime: '2024-05-01T10:00:00Z' }],
    },
  };
}

export interface PodOpts {
  cpu?: string;
  memory?: string;
  nodeName?: string;
  /** uid of the controlling ReplicaSet. */
  owner?: string;
  nodeSelector?: Record<string, string>;
  phase?: string;
  deleting?: boolean;
  schedulerName?: string;
  uid?: string;
}

export function pod(name: string, o: PodOpts = {}): KubeObject {
  const requests: Record<string, string> = {};
  if (o.cpu) requests.cpu = o.cpu;
  if (o.memory) requests.memory = o.memory;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'default',
      ...(o.uid && { uid: o.uid }),
      ...(o.owner && { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-abc', uid: o.owner, controller: true }] }),
      ...(o.deleting && { deletionTimestamp: '2024-05-01T10:00:30Z' }),
    },
    spec: {
      containers: [{ name: 'app', image: 'git:app', ...(Object.keys(requests).length && { resources: { requests } }) }],
      ...(o.nodeName && { nodeName: o.nodeName }),
      ...(o.nodeSelector && { nodeSelector: o.nodeSelector }),
      ...(o.schedulerName && { schedulerName: o.schedulerName }),
    },
    ...(o.phase && { status: { phase: o.phase } }),
  };
}

/** Registers a node as a node executor does: create, then write its status. */
export async function addNode(store: Store, n: KubeObject): Promise<KubeObject> {
  const { status, ...rest } = n;
  await store.create(rest as KubeObject);
  return store.updateStatus('Node', undefined, n.metadata.name, status);
}
