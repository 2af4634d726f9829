// Health of kinds convergit keeps but does not run. Configuration-like kinds (RBAC, policies, classes) have
// nothing to wait for: present is Healthy, as in Argo CD. Kinds whose health is about something running
// (a StatefulSet's pods, a claim's volume) are Unknown until a controller runs them: never Healthy by existing.
import { kindInfo } from '../model/kinds.ts';
import type { KubeObject } from '../model/object.ts';
import type { ObjectHealth } from './types.ts';

const NEEDS_A_CONTROLLER = new Set([
  'PersistentVolumeClaim',
  'PersistentVolume', 'Ingress', 'CertificateSigningRequest', 'APIService',
]);

/** The health of a kept object, or undefined when `obj` is not of a kept kind. */
export function keptHealth(obj: KubeObject): ObjectHealth | undefined {
  const info = kindInfo(obj.kind);
  if (!info || info.mode !== 'kept' || info.custom) return undefined;
  if (NEEDS_A_CONTROLLER.has(obj.kind)) return { status: 'Unknown', message: `${obj.kind} ${obj.metadata.name} is kept: ${info.reason}` };
  return { status: 'Healthy', message: `${obj.kind} ${obj.metadata.name} exists (kept: ${info.reason})` };
}
