// The ReplicaSet controller, after kube-controller-manager's: keeps spec.replicas active pods matching the
// selector, adopting orphans and releasing pods that no longer match, and reports what it sees in status.
import { isDeepStrictEqual } from 'node:util';
import { getCondition } from '../model/conditions.ts';
import { writeOwners } from './write-owners.ts';
import type { KubeObject, ObjectRef } from '../model/object.ts';
import { controllerOf, isPodActive, ownerRefTo } from '../model/pod.ts';
import { matchesRequirements, requirementsOf, type LabelSelector, type Requirement } from '../model/selector.ts';
import { keyOf, splitKey } from '../model/key.ts';
import { type ControllerContext, type ControllerSpec, type SyncResult } from './controller.ts';
import { CONTROLLER_INDEX, controllerIndex, orphansOf } from './controller-index.ts';
import { Expectations, ownedPodHandlers } from './expectations.ts';
import { generateName, podFromTemplate } from './pod-from-template.ts';
import { replicaSetStatus, type ReplicaFailure } from './replicaset-status.ts';
import { ReplicaSetPods } from './replicaset-pods.ts';
import { podsToDelete } from './scale-down.ts';

export interface ReplicaSetControllerOptions {
  /** How long to wait for the cache to show pods just created or deleted before trusting it anyway. Default 300 000 ms (Kubernetes' 5 minutes). */
  expectationsTimeoutMs?: number;
  /** Most pods created or deleted by one sync. Default 500, as Kubernetes' burstReplicas. */
  burstReplicas?: number;
  /** For tests: the expectations to use (to look into them). */
  expectations?: Expectations;
}

/** An error from managing replicas, carried to status as ReplicaFailure and then rethrown for a retry. */
class ManageError extends Error {
  constructor(readonly failure: ReplicaFailure, readonly cause: unknown) {
    super(failure.message);
  }
}

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * `kind` ReplicationController runs the same controller, as in kube-controller-manager (its replication
 * controller wraps the ReplicaSet one): its selector is a plain map, read as matchLabels.
 */
export function replicaSetController(opts: ReplicaSetControllerOptions = {}, kind: 'ReplicaSet' | 'ReplicationController' = 'ReplicaSet'): ControllerSpec {
  const expectations = opts.expectations ?? new Expectations(opts.expectationsTimeoutMs ?? 300_000);
  const burst = opts.burstReplicas ?? 500;
  let tallies: ReplicaSetPods | undefined;
  const selects = (rs: KubeObject, pod: KubeObject) => {
    const reqs = requirementsOf(selectorOf(rs));
    return reqs.length > 0 && matchesRequirements(reqs, pod.metadata.labels);
  };

  return {
    name: kind === 'ReplicaSet' ? 'replicaset' : 'replicationcontroller',
    kinds: [kind, 'Pod'],

    watch(ctx, enqueue) {
      const sets = ctx.informer(kind);
      ctx.informer('Pod').addIndex(CONTROLLER_INDEX, controllerIndex);
      /** The key of the ReplicaSet that controls the pod, if it is (still) the one in the cache. */
      const ownerKey = (pod: KubeObject): string | undefined => {
        const ref = controllerOf(pod);
        if (ref?.kind !== kind) return undefined;
        const rs = sets.get(pod.metadata.namespace, ref.name);
        return rs && rs.metadata.uid === ref.uid ? keyOf(rs) : undefined;
      };
      /** An orphan may be adopted by any ReplicaSet whose selector it matches. */
      const enqueueAdopters = (pod: KubeObject) => {
        for (const rs of sets.list(pod.metadata.namespace ?? 'default')) {
          if (selects(rs, pod)) enqueue(keyOf(rs));
        }
      };

      const podsInf = ctx.informer('Pod');
      const pods = (tallies = new ReplicaSetPods((uid) => podsInf.byIndex(CONTROLLER_INDEX, uid)));
      sets.on({
        add: (rs) => enqueue(keyOf(rs)),
        update: (_old, rs) => enqueue(keyOf(rs)),
        delete: (rs) => { pods.forget(rs.metadata.uid); enqueue(keyOf(rs)); },
      });
      const handlers = ownedPodHandlers(expectations, ownerKey, enqueue, enqueueAdopters);
      // Every change goes into the tallies (a pod to delete is chosen by what they hold, its node and restarts
      // included); a change the sync cannot see (the binding, container states) is no reason to sync: with
      // thousands of pods each bind would otherwise cost a sync.
      podsInf.on({
        add: (pod) => { pods.changed(undefined, pod); handlers.add!(pod); },
        update: (old, pod) => { pods.changed(old, pod); if (!sameForReplicaSet(old, pod)) handlers.update!(old, pod); },
        delete: (pod) => { pods.changed(pod, undefined); handlers.delete!(pod); },
      });
    },

    async sync(key, ctx): Promise<SyncResult> {
      const { namespace, name } = splitKey(key);
      const rs = ctx.informer(kind).get(namespace, name);
      if (!rs) {
        expectations.delete(key);
        return;
      }
      if (rs.metadata.deletionTimestamp) return; // being deleted: the garbage collector takes its pods

      const reqs = requirementsOf(selectorOf(rs));
      if (!reqs.length) {
        // An empty selector would select every pod of the namespace; Kubernetes rejects it, so do nothing.
        ctx.log(`replicaset: ${key} has an empty selector; ignored`);
        return;
      }
      // What this ReplicaSet could claim: its own pods (tallied as they change) and the namespace's orphans.
      const tally = tallies!.of(rs, reqs);
      const orphans = ctx.informer('Pod').byIndex(CONTROLLER_INDEX, orphansOf(namespace))
        .filter((p) => isPodActive(p) && (p.metadata.namespace ?? 'default') === namespace);
      const adopted = await claimPods(ctx, rs, reqs, [...tally.unmatched.values()], orphans);
      // Counted before pods are created or deleted, as Kubernetes reports the pods its sync began with. The adopted
      // are in the tally already if the cache saw their new owner; else counted besides.
      const extra = adopted.filter((p) => !tally.claimed.has(keyOf(p)));
      const counts = tally.counts(rs.spec?.minReadySeconds ?? 0, ctx.now(), extra);

      let failure: ManageError | undefined;
      if (expectations.satisfied(key)) {
        try {
          await manageReplicas(ctx, rs, key, counts.replicas, () => [...tally.claimed.values(), ...extra]);
        } catch (err) {
          if (!(err instanceof ManageError)) throw err;
          failure = err;
        }
      }

      const { status, nextAvailableInMs } = replicaSetStatus(rs, counts, ctx.now(), failure?.failure);
      await ctx.store.updateStatus(kind, namespace, name, status, { shared: true });
      if (failure) throw failure.cause;
      return nextAvailableInMs === undefined ? undefined : { requeueAfterMs: nextAvailableInMs };
    },
  };

  /** Creates or deletes pods to reach spec.replicas, recording expectations first. */
  async function manageReplicas(ctx: ControllerContext, rs: KubeObject, key: string, count: number, pods: () => KubeObject[]): Promise<void> {
    const diff = count - (rs.spec?.replicas ?? 1);
    if (diff < 0) await createPods(ctx, rs, key, Math.min(-diff, burst));
    else if (diff > 0) await deletePods(ctx, rs, key, podsToDelete(pods(), Math.min(diff, burst)));
  }

  /** Creates in batches of 1, 2, 4 … and stops at a batch with a failure, so a quota or bad template costs one error, not hundreds. */
  async function createPods(ctx: ControllerContext, rs: KubeObject, key: string, count: number): Promise<void> {
    const names = new Set<string>();
    while (names.size < count) names.add(generateName(`${rs.metadata.name}-`));
    const pending = [...names];
    expectations.expectCreations(key, pending);
    let batch = 1;
    let firstError: unknown;
    while (pending.length && firstError === undefined) {
      const now = pending.splice(0, batch);
      // A batch of 256 creates would hold the event loop for all of them (each write is delivered to every informer
      // at once): the API and the nodes get a turn between slices; the whole batch is still tried.
      for (let at = 0; at < now.length; at += CREATES_PER_TICK) {
        if (at) await new Promise((r) => setImmediate(r));
        await Promise.all(now.slice(at, at + CREATES_PER_TICK).map(async (podName) => {
          try {
            await ctx.store.create(podFromTemplate(rs, podName), { shared: true }); // the result is not kept: no copy
            await event(ctx, rs, 'Normal', 'SuccessfulCreate', `Created pod: ${podName}`);
          } catch (err) {
            expectations.creationObserved(key, podName); // it will never show up
            firstError ??= err;
            await event(ctx, rs, 'Warning', 'FailedCreate', `Error creating: ${errorText(err)}`);
          }
        }));
      }
      batch *= 2;
    }
    for (const skipped of pending) expectations.creationObserved(key, skipped);
    if (firstError !== undefined) throw new ManageError({ reason: 'FailedCreate', message: errorText(firstError) }, firstError);
  }

  async function deletePods(ctx: ControllerContext, rs: KubeObject, key: string, victims: KubeObject[]): Promise<void> {
    expectations.expectDeletions(key, victims.map((p) => p.metadata.name));
    let firstError: unknown;
    await Promise.all(victims.map(async (pod) => {
      const podName = pod.metadata.name;
      try {
        const gone = await ctx.store.delete('Pod', pod.metadata.namespace, podName);
        if (!gone) expectations.deletionObserved(key, podName); // already gone: nothing to observe
        else await event(ctx, rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${podName}`);
      } catch (err) {
        expectations.deletionObserved(key, podName);
        firstError ??= err;
        await event(ctx, rs, 'Warning', 'FailedDelete', `Error deleting: ${errorText(err)}`);
      }
    }));
    if (firstError !== undefined) throw new ManageError({ reason: 'FailedDelete', message: errorText(firstError) }, firstError);
  }
}

/** The same pod as far as a ReplicaSet's sync is concerned: what it claims by (labels, owners), counts (active,
 * terminal) and reports (Ready, and since when, for minReadySeconds). */
export function sameForReplicaSet(a: KubeObject, b: KubeObject): boolean {
  if (a.metadata.uid !== b.metadata.uid || a.metadata.deletionTimestamp !== b.metadata.deletionTimestamp) return false;
  if (a.status?.phase !== b.status?.phase) return false;
  const ra = getCondition(a.status?.conditions, 'Ready'), rb = getCondition(b.status?.conditions, 'Ready');
  if (ra?.status !== rb?.status || ra?.lastTransitionTime !== rb?.lastTransitionTime) return false;
  return isDeepStrictEqual(a.metadata.labels, b.metadata.labels) && isDeepStrictEqual(a.metadata.ownerReferences, b.metadata.ownerReferences);
}

/** Pod creations between turns of the event loop. */
const CREATES_PER_TICK = 16;

/** A ReplicaSet's label selector; a ReplicationController's equality selector (a plain map) as matchLabels. */
function selectorOf(set: KubeObject): LabelSelector {
  if (set.kind === 'ReplicationController') return { matchLabels: set.spec?.selector ?? {} };
  return set.spec?.selector ?? {};
}


/**
 * Claims, as Kubernetes' ClaimPods: releases `unmatched` (its own active pods its selector no longer matches: they
 * keep running, without an owner) and adopts the `orphans` it matches. Returns the pods adopted.
 */
async function claimPods(ctx: ControllerContext, rs: KubeObject, reqs: Requirement[], unmatched: KubeObject[], orphans: KubeObject[]): Promise<KubeObject[]> {
  for (const pod of unmatched) await writeOwners(ctx, pod, (pod.metadata.ownerReferences ?? []).filter((r) => r.uid !== rs.metadata.uid));
  const claimed: KubeObject[] = [];
  let fresh: Promise<KubeObject | undefined> | undefined;
  // Adopt only for a ReplicaSet that still exists (read from the store, not the cache), as Kubernetes rechecks.
  const canAdopt = async () => {
    fresh ??= ctx.store.get(rs.kind, rs.metadata.namespace, rs.metadata.name);
    const cur = await fresh;
    return !!cur && cur.metadata.uid === rs.metadata.uid && !cur.metadata.deletionTimestamp;
  };
  for (const pod of orphans) {
    if (controllerOf(pod) || !matchesRequirements(reqs, pod.metadata.labels) || !(await canAdopt())) continue;
    const adopted = await writeOwners(ctx, pod, [...(pod.metadata.ownerReferences ?? []), ownerRefTo(rs)]);
    if (adopted) claimed.push(adopted);
  }
  return claimed;
}

/** Events never fail a sync: they are for people, not for convergence. */
async function event(ctx: ControllerContext, rs: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
  const ref: ObjectRef = { apiVersion: rs.apiVersion, kind: rs.kind, namespace: rs.metadata.namespace, name: rs.metadata.name, uid: rs.metadata.uid };
  try {
    await ctx.store.recordEvent(ref, type, reason, message);
  } catch (err) {
    ctx.log(`replicaset: event ${reason} for ${keyOf(rs)}: ${errorText(err)}`);
  }
}
