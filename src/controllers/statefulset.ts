// The StatefulSet controller, after kube-controller-manager 1.32's: pods `<set>-<ordinal>` with stable identity
// and one PersistentVolumeClaim per claim template and ordinal that outlives them, created and removed in order
// (statefulset-replicas.ts), ControllerRevisions recording each template (controller-revision.ts), the claims'
// retention policy as owner references (statefulset-claims.ts) and status (statefulset-status.ts).
import { writeOwners } from './write-owners.ts';
import type { KubeObject, ObjectRef } from '../model/object.ts';
import { controllerOf, ownerRefTo } from '../model/pod.ts';
import { matchesRequirements, requirementsOf } from '../model/selector.ts';
import { StoreError } from '../store/store.ts';
import { keyOf, splitKey } from '../model/key.ts';
import type { ControllerContext, ControllerSpec, SyncResult } from './controller.ts';
import { CONTROLLER_INDEX, controllerIndex, orphansOf } from './controller-index.ts';
import { Expectations, ownedPodHandlers } from './expectations.ts';
import { claimTemplates, defaultStorageClass, isMemberOf, ordinalOf, podName, statefulSetClaim, statefulSetPod, claimName } from './statefulset-identity.ts';
import { equalRevisions, revisionsToTruncate, sortRevisions, templateOf, updateRevisionStep } from './controller-revision.ts';
import { claimOwners, ownersDiffer } from './statefulset-claims.ts';
import { replicaActions, revisionOfPod, type Creation } from './statefulset-replicas.ts';
import { statefulSetStatus } from './statefulset-status.ts';

export interface StatefulSetControllerOptions {
  /** How long to wait for the cache to show pods just created or deleted before trusting it anyway. Default 300 000 ms. */
  expectationsTimeoutMs?: number;
}

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));
const isStoreError = (err: unknown, reason: string) => err instanceof StoreError && err.reason === reason;


export function statefulSetController(opts: StatefulSetControllerOptions = {}): ControllerSpec {
  const expectations = new Expectations(opts.expectationsTimeoutMs ?? 300_000);
  /** What each set last waited on: logged when it changes, not at every sync. */
  const waitingOn = new Map<string, string>();

  return {
    name: 'statefulset',
    kinds: ['StatefulSet', 'Pod', 'PersistentVolumeClaim', 'ControllerRevision', 'StorageClass'],

    watch(ctx, enqueue) {
      const sets = ctx.informer('StatefulSet');
      ctx.informer('Pod').addIndex(CONTROLLER_INDEX, controllerIndex);
      ctx.informer('ControllerRevision').addIndex(CONTROLLER_INDEX, controllerIndex);
      const ownerKey = (o: KubeObject): string | undefined => {
        const ref = controllerOf(o);
        if (ref?.kind !== 'StatefulSet') return undefined;
        const set = sets.get(o.metadata.namespace, ref.name);
        return set && set.metadata.uid === ref.uid ? keyOf(set) : undefined;
      };
      const enqueueAdopters = (pod: KubeObject) => {
        for (const set of sets.list(pod.metadata.namespace ?? 'default')) if (selects(set, pod) && isMemberOf(set, pod)) enqueue(keyOf(set));
      };
      sets.on({ add: (s) => enqueue(keyOf(s)), update: (_o, s) => enqueue(keyOf(s)), delete: (s) => { expectations.delete(keyOf(s)); } });
      ctx.informer('Pod').on(ownedPodHandlers(expectations, ownerKey, enqueue, enqueueAdopters));
      // A claim shown or gone: the set whose `<template>-<set>-` it is named after may go on.
      const claimChanged = (claim: KubeObject) => {
        for (const set of sets.list(claim.metadata.namespace ?? 'default')) {
          if (claimTemplates(set).some((t) => claim.metadata.name.startsWith(`${t.metadata?.name}-${set.metadata.name}-`))) enqueue(keyOf(set));
        }
      };
      ctx.informer('PersistentVolumeClaim').on({ add: claimChanged, delete: claimChanged, update: (_o, c) => claimChanged(c) });
      ctx.informer('ControllerRevision').on({ delete: (r) => { const k = ownerKey(r); if (k) enqueue(k); } });
    },

    async sync(key, ctx): Promise<SyncResult> {
      const { namespace, name } = splitKey(key);
      const set = ctx.informer('StatefulSet').get(namespace, name);
      if (!set) {
        expectations.delete(key);
        waitingOn.delete(key);
        return;
      }
      if (set.metadata.deletionTimestamp) return; // being deleted: the garbage collector takes its pods
      if (!requirementsOf(set.spec?.selector ?? {}).length) {
        ctx.log(`statefulset: ${key} has an empty selector; ignored`);
        return;
      }

      const pods = await claimPods(ctx, set);
      let collisionCount: number = set.status?.collisionCount ?? 0;
      const history = sortRevisions(ctx.informer('ControllerRevision').byIndex(CONTROLLER_INDEX, set.metadata.uid!));
      const update = await updateRevision(ctx, set, history, collisionCount, (n) => { collisionCount = n; });
      const current = history.find((r) => r.metadata.name === set.status?.currentRevision) ?? update;

      let result: SyncResult = undefined;
      let failure: unknown;
      if (expectations.satisfied(key)) {
        try {
          result = await manage(ctx, set, key, pods, current, update);
        } catch (err) {
          failure = err;
        }
      }
      const live = new Set([current.metadata.name, update.metadata.name, ...pods.map(revisionOfPod).filter((r): r is string => !!r)]);
      for (const r of revisionsToTruncate(history.filter((r) => r.metadata.name !== update.metadata.name), live, set.spec?.revisionHistoryLimit ?? 10)) {
        await ctx.store.delete('ControllerRevision', namespace, r.metadata.name);
      }

      // Status from the cache's pods; the sync that their changes cause counts them again.
      const fresh = ctx.informer('Pod').byIndex(CONTROLLER_INDEX, set.metadata.uid!).filter((p) => isMemberOf(set, p) && selects(set, p));
      const status = statefulSetStatus({ set, pods: fresh, currentRevision: current.metadata.name, updateRevision: update.metadata.name, collisionCount, now: ctx.now() });
      await ctx.store.updateStatus('StatefulSet', namespace, name, status, { shared: true });
      if (failure !== undefined) throw failure;
      return result;
    },
  };

  /** Carries out one step of replicaActions: claims and pods created, claims' owners set, pods deleted. */
  async function manage(ctx: ControllerContext, set: KubeObject, key: string, pods: KubeObject[], current: KubeObject, update: KubeObject): Promise<SyncResult> {
    const actions = replicaActions({ set, pods, updateRevision: update.metadata.name, now: ctx.now() });
    if (actions.waiting && waitingOn.get(key) !== actions.waiting) ctx.log(`statefulset: ${key}: ${actions.waiting}`);
    if (actions.waiting) waitingOn.set(key, actions.waiting);
    else waitingOn.delete(key);

    // Claims first (their owners as the retention policy wants them, before a condemned pod goes).
    for (const pod of pods) if (!pod.metadata.deletionTimestamp) await retainClaims(ctx, set, pod);

    const ready = [];
    for (const c of actions.create) if (await claimsReady(ctx, set, c.ordinal)) ready.push(c);
    if (ready.length) {
      expectations.expectCreations(key, ready.map((c) => podName(set, c.ordinal)));
      await Promise.all(ready.map((c) => createPod(ctx, set, key, c, c.revision === 'current' ? current : update)));
    }
    const victims = actions.delete.map((d) => d.pod);
    if (victims.length) {
      expectations.expectDeletions(key, victims.map((p) => p.metadata.name));
      await Promise.all(victims.map((p) => deletePod(ctx, set, key, p)));
    }
    return actions.requeueAfterMs === undefined ? undefined : { requeueAfterMs: actions.requeueAfterMs };
  }

  async function createPod(ctx: ControllerContext, set: KubeObject, key: string, c: Creation, revision: KubeObject): Promise<void> {
    const pod = statefulSetPod(set, templateOf(revision), c.ordinal, revision.metadata.name);
    try {
      await ctx.store.create(pod);
      await event(ctx, set, 'Normal', 'SuccessfulCreate', `create Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} successful`);
    } catch (err) {
      expectations.creationObserved(key, pod.metadata.name);
      if (isStoreError(err, 'AlreadyExists')) return; // the cache was behind: the next sync sees it
      await event(ctx, set, 'Warning', 'FailedCreate', `create Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} failed error: ${errorText(err)}`);
      throw err;
    }
  }

  async function deletePod(ctx: ControllerContext, set: KubeObject, key: string, pod: KubeObject): Promise<void> {
    try {
      const gone = await ctx.store.delete('Pod', pod.metadata.namespace, pod.metadata.name);
      if (!gone) expectations.deletionObserved(key, pod.metadata.name);
      else await event(ctx, set, 'Normal', 'SuccessfulDelete', `delete Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} successful`);
    } catch (err) {
      expectations.deletionObserved(key, pod.metadata.name);
      await event(ctx, set, 'Warning', 'FailedDelete', `delete Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} failed error: ${errorText(err)}`);
      throw err;
    }
  }
}

const selects = (set: KubeObject, pod: KubeObject) => {
  const reqs = requirementsOf(set.spec?.selector ?? {});
  return reqs.length > 0 && matchesRequirements(reqs, pod.metadata.labels);
};

/**
 * The set's pods: its own members that still match (those that no longer match are released), and orphan
 * members that match (adopted), as upstream's ControllerRefManager.
 */
async function claimPods(ctx: ControllerContext, set: KubeObject): Promise<KubeObject[]> {
  const inf = ctx.informer('Pod');
  const ns = set.metadata.namespace ?? 'default';
  const candidates = [...inf.byIndex(CONTROLLER_INDEX, set.metadata.uid!), ...inf.byIndex(CONTROLLER_INDEX, orphansOf(ns))]
    .filter((p) => (p.metadata.namespace ?? 'default') === ns);
  const out: KubeObject[] = [];
  for (const pod of candidates) {
    const ours = controllerOf(pod)?.uid === set.metadata.uid;
    const matches = selects(set, pod) && isMemberOf(set, pod);
    if (ours && matches) out.push(pod);
    else if (ours) await writeOwners(ctx, pod, (pod.metadata.ownerReferences ?? []).filter((r) => r.uid !== set.metadata.uid));
    else if (matches && !pod.metadata.deletionTimestamp) {
      const adopted = await writeOwners(ctx, pod, [...(pod.metadata.ownerReferences ?? []), ownerRefTo(set)]);
      if (adopted) out.push(adopted);
    }
  }
  return out;
}

/**
 * The update revision for the set's template: an existing equal one (renumbered when it is not the newest: a
 * rollback), or a new one; a name taken by a different template bumps collisionCount, as upstream.
 */
async function updateRevision(ctx: ControllerContext, set: KubeObject, history: KubeObject[], collisionCount: number, setCollisions: (n: number) => void): Promise<KubeObject> {
  for (let count = collisionCount; ; count++) {
    const step = updateRevisionStep(set, history, count);
    if (step.action === 'use') return step.revision;
    if (step.action === 'renumber') {
      const next = structuredClone(step.revision);
      next.revision = step.to;
      return ctx.store.update(next);
    }
    try {
      return await ctx.store.create(step.revision);
    } catch (err) {
      if (!isStoreError(err, 'AlreadyExists')) throw err;
      const taken = await ctx.store.get('ControllerRevision', set.metadata.namespace, step.revision.metadata.name);
      // Ours with the same template (the cache was behind): use it; else another template has the name.
      if (taken && controllerOf(taken)?.uid === set.metadata.uid && equalRevisions(taken, step.revision)) return taken;
      setCollisions(count + 1);
    }
  }
}

/**
 * The ordinal's claims exist (created now if missing): the pod is created only once they are in the cache and
 * none is being deleted, so a node never sees a pod whose claim is not there. Binding is not waited for: a
 * WaitForFirstConsumer class binds only once the pod is scheduled.
 */
async function claimsReady(ctx: ControllerContext, set: KubeObject, ordinal: number): Promise<boolean> {
  const inf = ctx.informer('PersistentVolumeClaim');
  let ready = true;
  for (const template of claimTemplates(set)) {
    const name = claimName(set, template.metadata.name, ordinal);
    const cached = inf.get(set.metadata.namespace, name);
    if (cached) {
      if (cached.metadata.deletionTimestamp) ready = false;
      continue;
    }
    ready = false;
    const claim = statefulSetClaim(set, template, ordinal, defaultStorageClass(ctx.informer('StorageClass').list()));
    try {
      await ctx.store.create(claim);
      await event(ctx, set, 'Normal', 'SuccessfulCreate', `create Claim ${name} Pod ${podName(set, ordinal)} in StatefulSet ${set.metadata.name} success`);
    } catch (err) {
      if (isStoreError(err, 'AlreadyExists')) continue;
      await event(ctx, set, 'Warning', 'FailedCreate', `create Claim ${name} for Pod ${podName(set, ordinal)} in StatefulSet ${set.metadata.name} failed error: ${errorText(err)}`);
      throw err;
    }
  }
  return ready;
}

/** Sets the owners of the pod's claims as the retention policy wants them (upstream's UpdatePodClaimForRetentionPolicy). */
async function retainClaims(ctx: ControllerContext, set: KubeObject, pod: KubeObject): Promise<void> {
  const ordinal = ordinalOf(pod);
  for (const template of claimTemplates(set)) {
    const claim = ctx.informer('PersistentVolumeClaim').get(set.metadata.namespace, claimName(set, template.metadata.name, ordinal));
    if (!claim || claim.metadata.deletionTimestamp) continue;
    const owners = claimOwners(claim, set, pod);
    if (ownersDiffer(claim.metadata.ownerReferences, owners)) await writeOwners(ctx, claim, owners);
  }
}

/** Events never fail a sync: they are for people, not for convergence. */
async function event(ctx: ControllerContext, set: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
  const ref: ObjectRef = { apiVersion: set.apiVersion, kind: set.kind, namespace: set.metadata.namespace, name: set.metadata.name, uid: set.metadata.uid };
  try {
    await ctx.store.recordEvent(ref, type, reason, message);
  } catch (err) {
    ctx.log(`statefulset: event ${reason} for ${keyOf(set)}: ${errorText(err)}`);
  }
}
