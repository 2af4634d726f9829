// The node's Lease, as the kubelet keeps it (pkg/kubelet/nodelease, component-helpers' lease controller): one
// Lease a node in kube-node-lease, named for the node, owned by its Node, renewed every 10 s (a quarter of its
// 40 s duration). The Lease is the heartbeat: small, and watched only by the node lifecycle controller, where a
// Node status write would reach every Node informer (scheduler, controllers, health). The Node's status itself is
// written only when it changes or every nodeStatusReportFrequency (5 min): see shouldReportStatus.
import type { KubeObject } from '../model/object.ts';
import { StoreError, type Store } from '../store/store.ts';

export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
/** The kubelet's nodeLeaseDurationSeconds. */
export const LEASE_DURATION_SECONDS = 40;
/** The kubelet's nodeStatusReportFrequency: a Node status unchanged is still posted this often. */
export const STATUS_REPORT_MS = 5 * 60_000;

/** A MicroTime, as Lease's renewTime is written: `2024-05-01T10:00:00.000000Z`. */
export const microTime = (d: Date) => d.toISOString().replace(/Z$/, '000Z');

/** Creates the node's Lease, or renews its renewTime. */
export async function renewLease(store: Store, node: KubeObject, now: Date): Promise<void> {
  const name = node.metadata.name;
  const lease = await store.get('Lease', NODE_LEASE_NAMESPACE, name, { shared: true });
  const renewTime = microTime(now);
  if (lease) {
    await store.update({ ...lease, spec: { ...lease.spec, holderIdentity: name, leaseDurationSeconds: LEASE_DURATION_SECONDS, renewTime } }, { shared: true });
    return;
  }
  try {
    await store.create({
      apiVersion: 'coordination.k8s.io/v1', kind: 'Lease',
      metadata: {
        name, namespace: NODE_LEASE_NAMESPACE,
        // Owned by the Node, so a deleted Node's Lease is collected with it (as the kubelet sets it).
        ...(node.metadata.uid && { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name, uid: node.metadata.uid }] }),
      },
      spec: { holderIdentity: name, leaseDurationSeconds: LEASE_DURATION_SECONDS, renewTime },
    }, { shared: true });
  } catch (e) {
    if (!(e instanceof StoreError)) throw e; // made meanwhile: the next renewal updates it
  }
}

