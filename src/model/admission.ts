// What the store's mutating admission steps (as the API server's admission plugins) are given besides the object.
import type { KubeObject } from './object.ts';

export interface AdmissionContext {
  operation: 'create' | 'update';
  /** The stored object as it is now (a pod's ServiceAccount, say); shared, never change it. */
  get(kind: string, namespace: string | undefined, name: string): KubeObject | undefined;
}

export type Admission = (obj: KubeObject, ctx: AdmissionContext) => KubeObject;
