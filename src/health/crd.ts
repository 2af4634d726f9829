// Health of a CustomResourceDefinition: Healthy once Established (its kinds are served), as Argo CD checks it.
import type { KubeObject } from '../model/object.ts';
import type { ObjectHealth } from './types.ts';

export function crdHealth(obj: KubeObject): ObjectHealth {
  const c = (obj.status?.conditions ?? []).find((x: { type: string }) => x.type === 'Established');
  if (c?.status === 'True') return { status: 'Healthy', message: `CustomResourceDefinition ${obj.metadata.name} is established` };
  if (c?.status === 'False') return { status: 'Degraded', message: `CustomResourceDefinition ${obj.metadata.name} is not established: ${c.message ?? c.reason ?? ''}` };
  return { status: 'Progressing', message: `CustomResourceDefinition ${obj.metadata.name} is waiting to be established` };
}
