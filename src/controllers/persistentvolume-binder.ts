// The PersistentVolume binder, after Kubernetes' PV controller (pkg/controller/volume/persistentvolume): binds each
// claim to the smallest fitting volume (class, volumeMode, access modes, size, selector; a volume pre-bound to the
// claim first), or hands it to its class's provisioner, and keeps both phases: a claim Pending / Bound / Lost, a
// volume Available / Bound / Released / Failed. Keys are `claim:<namespace>/<name>` and `volume:<name>`.
import type { KubeObject } from '../model/object.ts';
import {
  BETA_STORAGE_PROVISIONER_ANNOTATION, BIND_COMPLETED_ANNOTATION, BOUND_BY_CONTROLLER_ANNOTATION, PROVISIONED_BY_ANNOTATION,
  SELECTED_NODE_ANNOTATION, STORAGE_PROVISIONER_ANNOTATION, claimClassName, claimRefMatches, findBestMatch, podClaimNames,
} from '../model/volume-claims.ts';
import { isPodTerminal } from '../model/pod.ts';
import { isoSeconds } from '../model/time.ts';
import type { ControllerContext, ControllerSpec } from './controller.ts';

const NO_PROVISIONER = 'kubernetes.io/no-provisioner';

const ns = (o: KubeObject) => o.metadata.namespace ?? 'default';
const claimKey = (namespace: string, name: string) => `claim:${namespace}/${name}`;
const volumeKey = (name: string) => `volume:${name}`;

/** The claim's status once bound to `pv`: its phase, and the volume's access modes and capacity. */
const boundClaimStatus = (pv: KubeObject) => ({
  phase: 'Bound', accessModes: pv.spec?.accessModes ?? [], capacity: pv.spec?.capacity ?? {},
});

function sameStatus(a: any, b: any): boolean {
  return JSON.stringify(a ?? {}) === JSON.stringify(b ?? {});
}

export function persistentVolumeBinder(): ControllerSpec {
  return {
    name: 'persistentvolume-binder',
    kinds: ['PersistentVolumeClaim', 'PersistentVolume', 'StorageClass', 'Pod'],
    watch(ctx, enqueue) {
      const claim = (c: KubeObject) => {
        enqueue(claimKey(ns(c), c.metadata.name));
        if (c.spec?.volumeName) enqueue(volumeKey(c.spec.volumeName));
      };
      const volume = (v: KubeObject) => {
        enqueue(volumeKey(v.metadata.name));
        const ref = v.spec?.claimRef;
        if (ref?.name) enqueue(claimKey(ref.namespace ?? 'default', ref.name));
      };
      ctx.informer('PersistentVolumeClaim').on({
        add: claim, update: (_o, c) => claim(c),
        // A deleted claim releases its volume (and any volume naming it).
        delete: (c) => {
          claim(c);
          for (const v of ctx.informer('PersistentVolume').list()) if (claimRefMatches(v, c)) enqueue(volumeKey(v.metadata.name));
        },
      });
      ctx.informer('PersistentVolume').on({ add: volume, update: (_o, v) => volume(v), delete: volume });
      // A new or changed class may let waiting claims go on.
      const pending = () => { for (const c of ctx.informer('PersistentVolumeClaim').list()) if (c.status?.phase !== 'Bound') claim(c); };
      ctx.informer('StorageClass').on({ add: pending, update: pending, delete: pending });
      // A pod that stops or goes may free a volume whose claim was deleted while the pod used it.
      const released = (p: KubeObject) => {
        for (const name of podClaimNames(p)) {
          for (const v of ctx.informer('PersistentVolume').list()) {
            const ref = v.spec?.claimRef;
            if (ref?.name === name && (ref.namespace ?? 'default') === ns(p)) enqueue(volumeKey(v.metadata.name));
          }
        }
      };
      ctx.informer('Pod').on({ update: (_o, p) => { if (isPodTerminal(p)) released(p); }, delete: released });
    },
    initialKeys: (ctx) => [
      ...ctx.informer('PersistentVolumeClaim').list().map((c) => claimKey(ns(c), c.metadata.name)),
      ...ctx.informer('PersistentVolume').list().map((v) => volumeKey(v.metadata.name)),
    ],
    async sync(key, ctx) {
      if (key.startsWith('claim:')) {
        const [namespace, name] = key.slice(6).split('/');
        return syncClaim(namespace, name, ctx);
      }
      if (key.startsWith('volume:')) return syncVolume(key.slice(7), ctx);
    },
  };
}

async function event(ctx: ControllerContext, o: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string) {
  await ctx.store.recordEvent({ apiVersion: 'v1', kind: o.kind, namespace: o.metadata.namespace, name: o.metadata.name, uid: o.metadata.uid }, type, reason, message).catch(() => {});
}

async function setClaimStatus(ctx: ControllerContext, pvc: KubeObject, status: Record<string, unknown>) {
  if (sameStatus(pvc.status, status)) return;
  await ctx.store.updateStatus('PersistentVolumeClaim', ns(pvc), pvc.metadata.name, status, { shared: true });
}

async function setVolumePhase(ctx: ControllerContext, pv: KubeObject, phase: string, message?: string) {
  const cur = pv.status ?? {};
  if (cur.phase === phase && cur.message === message) return;
  const now = isoSeconds(ctx.now());
  await ctx.store.updateStatus('PersistentVolume', undefined, pv.metadata.name, {
    phase, ...(message && { message }), lastPhaseTransitionTime: cur.phase === phase ? cur.lastPhaseTransitionTime ?? now : now,
  }, { shared: true });
}

async function syncClaim(namespace: string, name: string, ctx: ControllerContext): Promise<void> {
  const pvc = ctx.informer('PersistentVolumeClaim').get(namespace, name);
  if (!pvc || pvc.metadata.deletionTimestamp) return;
  const volumes = ctx.informer('PersistentVolume');
  const wasBound = pvc.status?.phase === 'Bound' || pvc.status?.phase === 'Lost';

  if (pvc.spec?.volumeName && (pvc.metadata.annotations?.[BIND_COMPLETED_ANNOTATION] || wasBound)) {
    // Bound before: it stays bound while its volume names it, and is Lost when the volume goes.
    const pv = volumes.get(undefined, pvc.spec.volumeName);
    if (pv && claimRefMatches(pv, pvc)) return setClaimStatus(ctx, pvc, boundClaimStatus(pv));
    if (pvc.status?.phase !== 'Lost') await event(ctx, pvc, 'Warning', 'ClaimLost', 'Bound claim has lost its PersistentVolume. Data on the volume is lost!');
    return setClaimStatus(ctx, pvc, { phase: 'Lost' });
  }

  const classes = ctx.informer('StorageClass').list();
  const className = claimClassName(pvc, classes);
  if (pvc.spec?.storageClassName === undefined && className) {
    // Kubernetes' retroactive default class: an unbound claim without a class gets the default one written in.
    const next = structuredClone(pvc);
    next.spec.storageClassName = className;
    await ctx.store.update(next);
    return; // its update event brings it back
  }
  const pv = findBestMatch(pvc, volumes.list(), className);
  if (pv) return bind(ctx, pvc, pv);
  if (pvc.spec?.volumeName) {
    await event(ctx, pvc, 'Warning', 'FailedBinding', `volume "${pvc.spec.volumeName}" ${volumes.get(undefined, pvc.spec.volumeName) ? 'does not fit this claim or is bound to another' : 'not found'}`);
    return setClaimStatus(ctx, pvc, { phase: 'Pending' });
  }

  // No volume fits: the class's provisioner makes one, once the claim's first pod has a node if the class waits for it.
  const sc = classes.find((c) => c.metadata.name === className);
  const waits = sc?.volumeBindingMode === 'WaitForFirstConsumer' && !pvc.metadata.annotations?.[SELECTED_NODE_ANNOTATION];
  if (waits) {
    await event(ctx, pvc, 'Normal', 'WaitForFirstConsumer', 'waiting for first consumer to be created before binding');
  } else if (sc && sc.provisioner && sc.provisioner !== NO_PROVISIONER) {
    const ann = pvc.metadata.annotations ?? {};
    if (ann[STORAGE_PROVISIONER_ANNOTATION] !== sc.provisioner) {
      const next = structuredClone(pvc);
      const provisioner = String(sc.provisioner);
      next.metadata.annotations = { ...ann, [STORAGE_PROVISIONER_ANNOTATION]: provisioner, [BETA_STORAGE_PROVISIONER_ANNOTATION]: provisioner };
      await ctx.store.update(next);
      await event(ctx, pvc, 'Normal', 'ExternalProvisioning', `Waiting for a volume to be created either by the external provisioner '${sc.provisioner}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`);
      return;
    }
  } else {
    const why = className === '' ? 'no persistent volumes available for this claim and no storage class is set'
      : !sc ? `storageclass.storage.k8s.io "${className}" not found` : 'no persistent volumes available for this claim';
    await event(ctx, pvc, 'Warning', sc || className === '' ? 'FailedBinding' : 'ProvisioningFailed', why);
  }
  await setClaimStatus(ctx, pvc, { phase: 'Pending' });
}

/** Binds both ways: the volume's claimRef first (so a crash in between leaves a pre-bound volume), then the claim. */
async function bind(ctx: ControllerContext, pvc: KubeObject, pv: KubeObject): Promise<void> {
  const ref = pv.spec?.claimRef;
  if (!ref?.uid) {
    const next = structuredClone(pv);
    next.spec.claimRef = { kind: 'PersistentVolumeClaim', namespace: ns(pvc), name: pvc.metadata.name, uid: pvc.metadata.uid, apiVersion: 'v1', resourceVersion: pvc.metadata.resourceVersion };
    if (!ref) next.metadata.annotations = { ...next.metadata.annotations, [BOUND_BY_CONTROLLER_ANNOTATION]: 'yes' };
    pv = await ctx.store.update(next);
  }
  await setVolumePhase(ctx, pv, 'Bound');
  const cur = await ctx.store.get('PersistentVolumeClaim', ns(pvc), pvc.metadata.name);
  if (!cur || cur.metadata.uid !== pvc.metadata.uid) return;
  if (cur.spec?.volumeName !== pv.metadata.name || !cur.metadata.annotations?.[BIND_COMPLETED_ANNOTATION]) {
    const next = structuredClone(cur);
    next.spec.volumeName = pv.metadata.name;
    next.metadata.annotations = {
      ...next.metadata.annotations, [BIND_COMPLETED_ANNOTATION]: 'yes',
      ...(!cur.spec?.volumeName && { [BOUND_BY_CONTROLLER_ANNOTATION]: 'yes' }),
    };
    await ctx.store.update(next);
  }
  const fresh = await ctx.store.get('PersistentVolumeClaim', ns(pvc), pvc.metadata.name);
  if (fresh) await setClaimStatus(ctx, fresh, boundClaimStatus(pv));
}

async function syncVolume(name: string, ctx: ControllerContext): Promise<void> {
  const pv = ctx.informer('PersistentVolume').get(undefined, name);
  if (!pv || pv.metadata.deletionTimestamp) return;
  const ref = pv.spec?.claimRef;
  if (!ref?.name) return setVolumePhase(ctx, pv, 'Available');
  const pvc = ctx.informer('PersistentVolumeClaim').get(ref.namespace ?? 'default', ref.name);
  if (pvc && (!ref.uid || pvc.metadata.uid === ref.uid)) {
    // Its claim exists: Bound once the claim names it; until then pre-bound and Available (the claim's sync binds).
    return setVolumePhase(ctx, pv, pvc.spec?.volumeName === name ? 'Bound' : 'Available');
  }
  if (!ref.uid) return setVolumePhase(ctx, pv, 'Available'); // pre-bound to a claim not made yet
  // Its claim is gone, but pods still mount it: kept Bound until they stop (Kubernetes' pvc-protection keeps the
  // claim itself; the store keeps no object back, so the volume waits instead), so no data goes from under them.
  const users = ctx.informer('Pod').list(ref.namespace ?? 'default').filter((p) => !isPodTerminal(p) && podClaimNames(p).includes(ref.name));
  if (users.length) return;
  // Its claim is gone: Released, and reclaimed as its policy says.
  const policy = pv.spec?.persistentVolumeReclaimPolicy ?? 'Retain';
  if (policy === 'Delete' && !pv.metadata.annotations?.[PROVISIONED_BY_ANNOTATION]) {
    if (pv.status?.phase !== 'Failed') await event(ctx, pv, 'Warning', 'VolumeFailedDelete', 'error getting deleter volume plugin for volume: no deletable volume plugin matched (only volumes a provisioner made are deleted)');
    return setVolumePhase(ctx, pv, 'Failed', 'error getting deleter volume plugin for volume: no deletable volume plugin matched');
  }
  if (policy === 'Recycle') {
    if (pv.status?.phase !== 'Failed') await event(ctx, pv, 'Warning', 'VolumeFailedRecycle', 'the Recycle reclaim policy is deprecated and not supported; use Delete or Retain');
    return setVolumePhase(ctx, pv, 'Failed', 'the Recycle reclaim policy is not supported');
  }
  // Retain: kept, with its data, until someone removes it; Delete (provisioned): the provisioner removes it.
  return setVolumePhase(ctx, pv, 'Released');
}
