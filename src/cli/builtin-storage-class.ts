// The StorageClass a fresh k3s cluster has: `local-path`, the default class, served by the built-in local-path
// provisioner. Created in the store when serve starts (once: a class git commits under that name replaces it).
import { LOCAL_PATH_CLASS } from '../controllers/local-path-provisioner.ts';
import { StoreError, type Store } from '../store/store.ts';

export async function createBuiltinStorageClass(store: Store): Promise<void> {
  if (await store.get('StorageClass', undefined, LOCAL_PATH_CLASS.metadata.name)) return;
  try {
    await store.create(structuredClone(LOCAL_PATH_CLASS) as any);
  } catch (e) {
    if (!(e instanceof StoreError && e.reason === 'AlreadyExists')) throw e;
  }
}
