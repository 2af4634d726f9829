// The DaemonSet controller, after kube-controller-manager's (apps/v1, Kubernetes 1.32): one pod on every node that
// should run it (nodeSelector, required node affinity, taints against the pod's tolerations plus the daemon
// defaults), pinned there by a matchFields metadata.name node affinity for the scheduler to bind; new nodes get
// theirs, nodes that stop matching lose theirs; RollingUpdate within maxUnavailable or maxSurge, or OnDelete;
// ControllerRevisions for history; status as Kubernetes counts it; orphans its selector matches are adopted.
import { CONTROLLER_INDEX, controllerIndex, orphansOf } from './controller-index.ts';
import { writeOwners } from './write-owners.ts';
import { isDeepStrictEqual } from 'node:util';
import type { KubeObject, ObjectRef } from '../model/object.ts';
import { controllerOf, isPodReady, ownerRefTo } from '../model/pod.ts';
import { keyOf, splitKey } from '../model/key.ts';
import { requirementsOf, matchesRequirements } from '../model/selector.ts';
import { StoreError } from '../store/store.ts';
import type { ControllerContext, ControllerSpec, SyncResult } from './controller.ts';
import { Expectations } from './expectations.ts';
import { generateName } from './pod-from-template.ts';
import { daemonPod, nodeShouldRunDaemonPod, targetNode } from './daemonset-pods.ts';
import { daemonSetActions, daemonSetCounts, isAvailable, type NodeDaemonPods } from './daemonset-plan.ts';
import { ownRevisions, syncRevisions } from './daemonset-revisions.ts';
import { getCondition } from '../model/conditions.ts';
import { compareText } from '../model/compare-text.ts';

export interface DaemonSetControllerOptions {
  /** For tests: the expectations to use. */
  expectations?: Expectations;
}

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** A node change that can change where daemon pods belong (not its heartbeats). */
const nodePlacementChanged = (a: KubeObject, b: KubeObject) =>
  !isDeepStrictEqual(a.metadata.labels ?? {}, b.metadata.labels ?? {}) || !isDeepStrictEqual(a.spec?.taints ?? [], b.spec?.taints ?? []);

export function daemonSetController(opts: DaemonSetControllerOptions = {}): ControllerSpec {
  const expectations = opts.expectations ?? new Expectations(300_000);

  return {
    name: 'daemonset',
    kinds: ['DaemonSet', 'Pod', 'Node', 'ControllerRevision'],

    watch(ctx, enqueue) {
      const sets = ctx.informer('DaemonSet');
      ctx.informer('Pod').addIndex(CONTROLLER_INDEX, controllerIndex);
      const ownerKey = (pod: KubeObject) => {
        const ref = controllerOf(pod);
        if (ref?.kind !== 'DaemonSet') return undefined;
        const ds = sets.get(pod.metadata.namespace, ref.name);
        return ds && ds.metadata.uid === ref.uid ? keyOf(ds) : undefined;
      };
      const all = () => { for (const ds of sets.list()) enqueue(keyOf(ds)); };
      sets.on({ add: (ds) => enqueue(keyOf(ds)), update: (_o, ds) => enqueue(keyOf(ds)), delete: (ds) => { expectations.delete(keyOf(ds)); } });
      ctx.informer('Pod').on({
        add(pod) {
          const key = ownerKey(pod);
          if (!key) {
            // An orphan may be adopted by a DaemonSet of its namespace that selects it.
            if (!controllerOf(pod)) for (const ds of sets.list(pod.metadata.namespace ?? 'default')) {
              const reqs = requirementsOf(ds.spec?.selector ?? {});
              if (reqs.length && matchesRequirements(reqs, pod.metadata.labels)) enqueue(keyOf(ds));
            }
            return;
          }
          expectations.creationObserved(key, pod.metadata.name);
          enqueue(key);
        },
        update(old, pod) {
          const key = ownerKey(pod);
          if (!key) return;
          if (pod.metadata.deletionTimestamp) expectations.deletionObserved(key, pod.metadata.name);
          // Readiness, phase and binding matter; a container's restart count alone does not.
          if (old.spec?.nodeName !== pod.spec?.nodeName || old.status?.phase !== pod.status?.phase || isPodReady(old) !== isPodReady(pod)
            || !!old.metadata.deletionTimestamp !== !!pod.metadata.deletionTimestamp) enqueue(key);
        },
        delete(pod) {
          const key = ownerKey(pod);
          if (!key) return;
          expectations.deletionObserved(key, pod.metadata.name);
          enqueue(key);
        },
      });
      ctx.informer('Node').on({ add: all, update: (o, n) => { if (nodePlacementChanged(o, n)) all(); }, delete: all });
    },

    async sync(key, ctx): Promise<SyncResult> {
      const { namespace, name } = splitKey(key);
      const ds = ctx.informer('DaemonSet').get(namespace, name);
      if (!ds) { expectations.delete(key); return; }
      if (ds.metadata.deletionTimestamp) return; // the garbage collector takes its pods
      const reqs = requirementsOf(ds.spec?.selector ?? {});
      if (!reqs.length) { ctx.log(`daemonset: ${key} has an empty selector; ignored`); return; }

      const pods = await claimPods(ctx, ds, (p) => matchesRequirements(reqs, p.metadata.labels));
      const revisions = ownRevisions(ds, ctx.informer('ControllerRevision').list(namespace));
      const liveHashes = new Set(pods.map((p) => p.metadata.labels?.['controller-revision-hash'] ?? ''));
      const { hash } = await syncRevisions(ctx.store, ds, revisions, liveHashes);

      const now = ctx.now();
      const nodes = ctx.informer('Node').list().sort((a, b) => compareText(a.metadata.name, b.metadata.name));
      const byNode = new Map<string, KubeObject[]>();
      for (const p of pods) {
        if (p.metadata.deletionTimestamp) continue;
        // A pod for a node the cache does not show is left alone: the cache may lag, as upstream leaves it to PodGC.
        const target = targetNode(p);
        if (target) (byNode.get(target) ?? byNode.set(target, []).get(target)!).push(p);
      }
      const states: NodeDaemonPods[] = nodes.map((n) => ({ name: n.metadata.name, verdict: nodeShouldRunDaemonPod(ds, n), pods: byNode.get(n.metadata.name) ?? [] }));

      let failure: unknown;
      if (expectations.satisfied(key)) {
        const { create, delete: victims } = daemonSetActions(ds, states, hash, now);
        try {
          await deletePods(ctx, ds, key, victims);
          await createPods(ctx, ds, key, hash, create);
        } catch (err) {
          failure = err;
        }
      }

      const counts = daemonSetCounts(ds, states, hash, now);
      const status = { ...ds.status, ...counts, observedGeneration: ds.metadata.generation ?? 1 };
      if (!isDeepStrictEqual(status, ds.status)) await ctx.store.updateStatus('DaemonSet', namespace, name, status, { shared: true });
      if (failure) throw failure;
      return nextAvailable(ds, pods, now);
    },
  };

  async function createPods(ctx: ControllerContext, ds: KubeObject, key: string, hash: string, nodeNames: string[]): Promise<void> {
    if (!nodeNames.length) return;
    const planned = nodeNames.map((n) => ({ node: n, name: generateName(`${ds.metadata.name}-`) }));
    expectations.expectCreations(key, planned.map((p) => p.name));
    let firstError: unknown;
    // Slow start, as the ReplicaSet controller: 1, 2, 4 … so a bad template costs one error, not one per node.
    for (let batch = 1, i = 0; i < planned.length && firstError === undefined; i += batch, batch *= 2) {
      await Promise.all(planned.slice(i, i + batch).map(async ({ node, name }) => {
        try {
          await ctx.store.create(daemonPod(ds, node, hash, name));
          await event(ctx, ds, 'Normal', 'SuccessfulCreate', `Created pod: ${name}`);
        } catch (err) {
          expectations.creationObserved(key, name);
          firstError ??= err;
          await event(ctx, ds, 'Warning', 'FailedCreate', `Error creating: ${errorText(err)}`);
        }
      }));
    }
    for (const p of planned) if (firstError !== undefined) expectations.creationObserved(key, p.name); // not created: never seen
    if (firstError !== undefined) throw firstError;
  }

  async function deletePods(ctx: ControllerContext, ds: KubeObject, key: string, victims: KubeObject[]): Promise<void> {
    const unique = [...new Map(victims.map((p) => [p.metadata.name, p])).values()];
    if (!unique.length) return;
    expectations.expectDeletions(key, unique.map((p) => p.metadata.name));
    let firstError: unknown;
    await Promise.all(unique.map(async (pod) => {
      try {
        const gone = await ctx.store.delete('Pod', pod.metadata.namespace, pod.metadata.name);
        if (!gone) expectations.deletionObserved(key, pod.metadata.name);
        else await event(ctx, ds, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
      } catch (err) {
        expectations.deletionObserved(key, pod.metadata.name);
        if (!(err instanceof StoreError && err.reason === 'NotFound')) firstError ??= err;
      }
    }));
    if (firstError !== undefined) throw firstError;
  }
}

/**
 * Its pods, as the ControllerRefManager claims them: its own that still match its selector; its own that no
 * longer match are released (they keep running, without an owner); orphans that match are adopted.
 */
async function claimPods(ctx: ControllerContext, ds: KubeObject, matches: (p: KubeObject) => boolean): Promise<KubeObject[]> {
  const ns = ds.metadata.namespace ?? 'default';
  const index = ctx.informer('Pod');
  const claimed: KubeObject[] = [];
  for (const p of index.byIndex(CONTROLLER_INDEX, ds.metadata.uid!)) {
    if (matches(p)) { claimed.push(p); continue; }
    await writeOwners(ctx, p, (p.metadata.ownerReferences ?? []).filter((r) => r.uid !== ds.metadata.uid));
  }
  for (const p of index.byIndex(CONTROLLER_INDEX, orphansOf(ns))) {
    if (!matches(p) || p.metadata.deletionTimestamp) continue;
    const adopted = await writeOwners(ctx, p, [...(p.metadata.ownerReferences ?? []), ownerRefTo(ds)]);
    if (adopted) claimed.push(adopted);
  }
  return claimed;
}

/** When a ready pod becomes available (minReadySeconds): the time to count it. */
function nextAvailable(ds: KubeObject, pods: KubeObject[], now: Date): SyncResult {
  const min = ds.spec?.minReadySeconds ?? 0;
  if (!min) return undefined;
  let next: number | undefined;
  for (const p of pods) {
    if (!isPodReady(p) || isAvailable(p, min, now)) continue;
    const since = Date.parse(getCondition(p.status?.conditions, 'Ready')?.lastTransitionTime ?? '');
    if (!Number.isNaN(since)) next = Math.min(next ?? Infinity, since + min * 1000 - now.getTime() + 1);
  }
  return next === undefined ? undefined : { requeueAfterMs: Math.max(1, next) };
}

/** Events never fail a sync. */
async function event(ctx: ControllerContext, ds: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
  const ref: ObjectRef = { apiVersion: ds.apiVersion, kind: ds.kind, namespace: ds.metadata.namespace, name: ds.metadata.name, uid: ds.metadata.uid };
  try { await ctx.store.recordEvent(ref, type, reason, message); } catch (err) { ctx.log(`daemonset: event ${reason} for ${keyOf(ds)}: ${errorText(err)}`); }
}

