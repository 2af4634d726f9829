// Namespace health: Terminating while it is being deleted, otherwise Healthy (Active).
import type { KubeObject } from '../model/object.ts';
import type { ObjectHealth } from './types.ts';

export function namespaceHealth(ns: KubeObject): ObjectHealth {
  const name = `Namespace ${ns.metadata.name}`;
  if (ns.status?.phase === 'Terminating' || ns.metadata.deletionTimestamp) return { status: 'Progressing', message: `${name} is terminating` };
  return { status: 'Healthy', message: `${name}: Active` };
}
