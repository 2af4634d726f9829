// Node health: the kubelet's Ready condition. Ready is Healthy; NotReady or no word from the kubelet is Degraded.
import type { KubeObject } from '../model/object.ts';
import { getCondition } from '../model/conditions.ts';
import type { ObjectHealth } from './types.ts';

export function nodeHealth(node: KubeObject): ObjectHealth {
  const name = `Node ${node.metadata.name}`;
  const ready = getCondition(node.status?.conditions, 'Ready');
  if (ready?.status === 'True') return { status: 'Healthy', message: `${name}: Ready` };
  if (!ready) return { status: 'Degraded', message: `${name}: no Ready condition (the kubelet has not posted status)` };
  const why = [ready.reason, ready.message].filter(Boolean).join(': ');
  return { status: 'Degraded', message: `${name}: ${ready.status === 'Unknown' ? 'Unknown' : 'NotReady'}${why ? `: ${why}` : ''}` };
}
