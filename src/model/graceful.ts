// Graceful deletion, as the Kubernetes API server does it for Pods: a pod that runs on a node is first marked
// (deletionTimestamp) so the node can stop it within its grace period; the node then removes it for good.
import type { KubeObject } from './object.ts';

export interface DeleteOptions {
  /** Seconds the node has to stop the pod. 0 removes it at once. Default: the pod's terminationGracePeriodSeconds. */
  gracePeriodSeconds?: number;
}

/** Seconds of grace when the object must be marked rather than removed; undefined when it can go now. */
export function graceFor(obj: KubeObject, opts: DeleteOptions = {}): number | undefined {
  if (obj.kind !== 'Pod' || !obj.spec?.nodeName) return undefined; // nothing runs it yet
  const phase = obj.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return undefined; // nothing runs it any more
  const grace = opts.gracePeriodSeconds ?? obj.metadata.deletionGracePeriodSeconds ?? obj.spec.terminationGracePeriodSeconds ?? 30;
  return grace > 0 ? grace : undefined;
}
