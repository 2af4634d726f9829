// The Namespaces a fresh Kubernetes cluster has (default, kube-system, kube-public, kube-node-lease), created in the
// store when serve starts, so `kubectl get ns` lists them and everything reads them as it reads committed ones.
import { BUILTIN_NAMESPACES } from '../model/kinds.ts';
import { StoreError, type Store } from '../store/store.ts';

export async function createBuiltinNamespaces(store: Store): Promise<void> {
  for (const name of BUILTIN_NAMESPACES) {
    if (await store.get('Namespace', undefined, name)) continue;
    try {
      await store.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'kubernetes.io/metadata.name': name } }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } });
    } catch (e) {
      if (!(e instanceof StoreError && e.reason === 'AlreadyExists')) throw e;
    }
  }
}
