// The built-in dynamic provisioner, after k3s's local-path-provisioner: a claim handed to `rancher.io/local-path`
// (by the binder, through the storage-provisioner annotation) gets a PersistentVolume that is a folder under the
// storage folder (`pvc-<uid>_<namespace>_<name>`), pre-bound to the claim; a Released volume it made whose policy is
// Delete is removed with its folder. Retain keeps both. Every node runs on this host, so the folder is reachable from
// any of them; the volume is still pinned to the claim's selected node, as local-path does.
import { mkdir, rm } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import type { KubeObject } from '../model/object.ts';
import {
  LOCAL_PATH_PROVISIONER, PROVISIONED_BY_ANNOTATION, SELECTED_NODE_ANNOTATION, STORAGE_PROVISIONER_ANNOTATION, claimClassName,
} from '../model/volume-claims.ts';
import { StoreError } from '../store/store.ts';
import type { ControllerContext, ControllerSpec } from './controller.ts';

export interface LocalPathOptions {
  /** Where volumes' folders are made (serve --storage-dir; default <data-dir>/storage). */
  storageDir: string;
}

/** The StorageClass serve creates at start: the default class, as k3s ships it. */
export const LOCAL_PATH_CLASS: Readonly<KubeObject> = {
  apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass',
  metadata: { name: 'local-path', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
  provisioner: LOCAL_PATH_PROVISIONER, reclaimPolicy: 'Delete', volumeBindingMode: 'WaitForFirstConsumer',
} as KubeObject;

const ns = (o: KubeObject) => o.metadata.namespace ?? 'default';
export const provisionedName = (pvc: KubeObject) => `pvc-${pvc.metadata.uid}`;

async function event(ctx: ControllerContext, o: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string) {
  await ctx.store.recordEvent({ apiVersion: 'v1', kind: o.kind, namespace: o.metadata.namespace, name: o.metadata.name, uid: o.metadata.uid }, type, reason, message).catch(() => {});
}

/** The PersistentVolume local-path makes for `pvc` of class `sc`, in folder `path`. */
export function provisionedVolume(pvc: KubeObject, sc: KubeObject, path: string): KubeObject {
  const node = pvc.metadata.annotations?.[SELECTED_NODE_ANNOTATION];
  return {
    apiVersion: 'v1', kind: 'PersistentVolume',
    metadata: { name: provisionedName(pvc), annotations: { [PROVISIONED_BY_ANNOTATION]: LOCAL_PATH_PROVISIONER } },
    spec: {
      capacity: { storage: pvc.spec?.resources?.requests?.storage ?? '0' },
      accessModes: pvc.spec?.accessModes ?? ['ReadWriteOnce'],
      volumeMode: 'Filesystem',
      persistentVolumeReclaimPolicy: sc.reclaimPolicy ?? 'Delete',
      storageClassName: sc.metadata.name,
      hostPath: { path, type: 'DirectoryOrCreate' },
      claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: ns(pvc), name: pvc.metadata.name, uid: pvc.metadata.uid, resourceVersion: pvc.metadata.resourceVersion },
      ...(node && { nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] }] } } }),
    },
  } as KubeObject;
}

export function localPathProvisioner(opts: LocalPathOptions): ControllerSpec {
  const storageDir = resolve(opts.storageDir);
  return {
    name: 'local-path-provisioner',
    kinds: ['PersistentVolumeClaim', 'PersistentVolume', 'StorageClass'],
    watch(ctx, enqueue) {
      const claim = (c: KubeObject) => enqueue(`claim:${ns(c)}/${c.metadata.name}`);
      const volume = (v: KubeObject) => enqueue(`volume:${v.metadata.name}`);
      ctx.informer('PersistentVolumeClaim').on({ add: claim, update: (_o, c) => claim(c) });
      ctx.informer('PersistentVolume').on({ add: volume, update: (_o, v) => volume(v) });
    },
    initialKeys: (ctx) => [
      ...ctx.informer('PersistentVolumeClaim').list().map((c) => `claim:${ns(c)}/${c.metadata.name}`),
      ...ctx.informer('PersistentVolume').list().map((v) => `volume:${v.metadata.name}`),
    ],
    async sync(key, ctx) {
      if (key.startsWith('claim:')) {
        const [namespace, name] = key.slice(6).split('/');
        return provision(ctx.informer('PersistentVolumeClaim').get(namespace, name), ctx, storageDir);
      }
      if (key.startsWith('volume:')) return reclaim(ctx.informer('PersistentVolume').get(undefined, key.slice(7)), ctx, storageDir);
    },
  };
}

async function provision(pvc: KubeObject | undefined, ctx: ControllerContext, storageDir: string): Promise<void> {
  if (!pvc || pvc.metadata.deletionTimestamp || pvc.spec?.volumeName || pvc.status?.phase === 'Bound') return;
  if (pvc.metadata.annotations?.[STORAGE_PROVISIONER_ANNOTATION] !== LOCAL_PATH_PROVISIONER) return;
  const classes = ctx.informer('StorageClass').list();
  const sc = classes.find((c) => c.metadata.name === claimClassName(pvc, classes));
  if (!sc || sc.provisioner !== LOCAL_PATH_PROVISIONER) return;
  if (sc.volumeBindingMode === 'WaitForFirstConsumer' && !pvc.metadata.annotations?.[SELECTED_NODE_ANNOTATION]) return;
  if (ctx.informer('PersistentVolume').get(undefined, provisionedName(pvc))) return;
  if (pvc.spec?.volumeMode === 'Block') {
    await event(ctx, pvc, 'Warning', 'ProvisioningFailed', `failed to provision volume with StorageClass "${sc.metadata.name}": local-path makes folders; volumeMode Block is not supported`);
    return;
  }
  if (pvc.spec?.dataSource || pvc.spec?.dataSourceRef) {
    await event(ctx, pvc, 'Warning', 'ProvisioningFailed', `failed to provision volume with StorageClass "${sc.metadata.name}": local-path cannot populate a volume from a dataSource`);
    return;
  }
  await event(ctx, pvc, 'Normal', 'Provisioning', `External provisioner is provisioning volume for claim "${ns(pvc)}/${pvc.metadata.name}"`);
  const path = join(storageDir, `${provisionedName(pvc)}_${ns(pvc)}_${pvc.metadata.name}`);
  await mkdir(path, { recursive: true, mode: 0o777 });
  try {
    await ctx.store.create(provisionedVolume(pvc, sc, path));
  } catch (e) {
    if (!(e instanceof StoreError && e.reason === 'AlreadyExists')) throw e;
    return;
  }
  await event(ctx, pvc, 'Normal', 'ProvisioningSucceeded', `Successfully provisioned volume ${provisionedName(pvc)}`);
}

/** A Released volume this provisioner made, with policy Delete: its folder, then the object, go. */
async function reclaim(pv: KubeObject | undefined, ctx: ControllerContext, storageDir: string): Promise<void> {
  if (!pv || pv.metadata.annotations?.[PROVISIONED_BY_ANNOTATION] !== LOCAL_PATH_PROVISIONER) return;
  if (pv.status?.phase !== 'Released' || (pv.spec?.persistentVolumeReclaimPolicy ?? 'Delete') !== 'Delete') return;
  const path: string | undefined = pv.spec?.hostPath?.path;
  // Only a folder inside the storage folder is ever removed: a volume object naming another path is left alone.
  const rel = path ? relative(storageDir, resolve(path)) : '';
  if (path && rel && rel !== '..' && !rel.startsWith('../') && !rel.startsWith('/')) await rm(path, { recursive: true, force: true });
  else if (path) await event(ctx, pv, 'Warning', 'VolumeFailedDelete', `${path} is outside the storage folder ${storageDir}: not removed`);
  await ctx.store.delete('PersistentVolume', undefined, pv.metadata.name);
}
