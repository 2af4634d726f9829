// Health of claims and volumes, as Argo CD reads a PersistentVolumeClaim (Bound Healthy, Pending Progressing,
// Lost Degraded); a volume is Healthy while usable or kept (Available, Bound, Released), Degraded when Failed.
import type { KubeObject } from '../model/object.ts';
import type { ObjectHealth } from './types.ts';

export function claimHealth(pvc: KubeObject): ObjectHealth {
  const name = `PersistentVolumeClaim ${pvc.metadata.name}`;
  switch (pvc.status?.phase) {
    case 'Bound': return { status: 'Healthy', message: `${name} is bound to ${pvc.spec?.volumeName}` };
    case 'Lost': return { status: 'Degraded', message: `${name} has lost its volume ${pvc.spec?.volumeName ?? ''}`.trimEnd() };
    default: return { status: 'Progressing', message: `${name} is waiting for a volume (Pending)` };
  }
}

export function volumeHealth(pv: KubeObject): ObjectHealth {
  const name = `PersistentVolume ${pv.metadata.name}`;
  switch (pv.status?.phase) {
    case 'Failed': return { status: 'Degraded', message: `${name} failed: ${pv.status?.message ?? ''}`.trimEnd() };
    case 'Available': case 'Bound': case 'Released': return { status: 'Healthy', message: `${name} is ${pv.status.phase}` };
    default: return { status: 'Progressing', message: `${name} is Pending` };
  }
}
