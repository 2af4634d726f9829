// Health of custom resources, by kstatus' rules (what Flux and the cli-utils use): a resource whose controller
// writes conditions says Ready / Reconciling / Stalled and observedGeneration; one with no conditions tells
// nothing, and since nothing in convergit runs custom kinds it is Unknown, never Healthy because it exists.
import { kindInfo } from '../model/kinds.ts';
import type { KubeObject } from '../model/object.ts';
import type { ObjectHealth } from './types.ts';

interface Cond { type: string; status: string; reason?: string; message?: string }

export function customResourceHealth(obj: KubeObject): ObjectHealth | undefined {
  if (!kindInfo(obj.kind)?.custom) return undefined;
  const name = `${obj.kind} ${obj.metadata.name}`;
  const status = obj.status ?? {};
  const conditions: Cond[] = Array.isArray(status.conditions) ? status.conditions : [];
  const why = (c: Cond) => [c.reason, c.message].filter(Boolean).join(': ');
  const observed = status.observedGeneration;
  if (typeof observed === 'number' && obj.metadata.generation !== undefined && observed < obj.metadata.generation) {
    return { status: 'Progressing', message: `${name}: generation ${obj.metadata.generation} not observed yet (${observed})` };
  }
  const cond = (type: string) => conditions.find((c) => c.type === type);
  const stalled = cond('Stalled');
  if (stalled?.status === 'True') return { status: 'Degraded', message: `${name} is stalled${why(stalled) ? `: ${why(stalled)}` : ''}` };
  const reconciling = cond('Reconciling');
  if (reconciling?.status === 'True') return { status: 'Progressing', message: `${name} is reconciling${why(reconciling) ? `: ${why(reconciling)}` : ''}` };
  const ready = cond('Ready');
  if (ready?.status === 'True') return { status: 'Healthy', message: `${name} is ready` };
  if (ready) return { status: 'Progressing', message: `${name} is not ready${why(ready) ? `: ${why(ready)}` : ''}` };
  return { status: 'Unknown', message: `${name}: nothing runs ${obj.kind} in convergit, and it has no Ready condition` };
}
