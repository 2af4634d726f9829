// Kubernetes-style status conditions: one entry per type; lastTransitionTime moves only when status flips.

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  lastUpdateTime?: string;
  lastProbeTime?: string | null;
  lastHeartbeatTime?: string;
}

export const getCondition = (conditions: Condition[] | undefined, type: string): Condition | undefined =>
  conditions?.find((c) => c.type === type);

export const isTrue = (conditions: Condition[] | undefined, type: string) => getCondition(conditions, type)?.status === 'True';

/**
 * A new list with `next` in place of the condition of its type. Keeps the old lastTransitionTime when the status
 * did not change, so that rewriting the same condition is a no-op the store can recognise.
 */
export function setCondition(conditions: Condition[] | undefined, next: Condition, now: string): Condition[] {
  const list = conditions ?? [];
  const old = getCondition(list, next.type);
  const merged: Condition = {
    ...next,
    lastTransitionTime: old && old.status === next.status ? old.lastTransitionTime ?? now : now,
  };
  if (old && 'lastUpdateTime' in old && next.lastUpdateTime === undefined) {
    const same = old.reason === next.reason && old.message === next.message && old.status === next.status;
    merged.lastUpdateTime = same ? old.lastUpdateTime : now;
  }
  return old ? list.map((c) => (c.type === next.type ? merged : c)) : [...list, merged];
}
