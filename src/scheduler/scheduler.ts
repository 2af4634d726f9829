// convergit's kube-scheduler: watches Pods and Nodes through informers, and binds each pending pod to the best node
// by writing spec.nodeName to the store. Pods are decided one at a time, so each decision sees the ones before it.
//
// A pod that already has spec.nodeName is not ours, as in Kubernetes (the node runs it directly), so there is no
// NodeName filter: every pod the scheduler sees has no node name to match.
import { startHeartbeat } from '../model/component-health.ts';
import type { KubeObject } from '../model/object.ts';
import { isPodTerminal } from '../model/pod.ts';
import { preBindVolumes, volumeCycleState, type VolumeListers } from './plugins/volume-binding.ts';
import { podClaimNames } from '../model/volume-claims.ts';
import { Informer } from '../store/informer.ts';
import { StoreError, type Store } from '../store/store.ts';
import { SchedulerCache } from './cache.ts';
import { withSummary } from './cluster-summary.ts';
import { withControllerPods } from './plugins/selector-spread.ts';
import { bindPods, recordUnschedulable } from './bind.ts';
import { nodeSchedulingChanged, podFinished, podSpecChanged } from './cluster-events.ts';
import { defaultProfile } from './default-profile.ts';
import { observeScheduleAttempt } from '../model/metrics-registry.ts';
import { schedule, type Profile } from './framework.ts';
import { failedSchedulingMessage } from './reasons.ts';
import { SchedulingQueue, type Clock } from './scheduling-queue.ts';
import { keyOf } from '../model/key.ts';
import { TimeSlice } from '../model/time-slice.ts';

export interface SchedulerOptions {
  store: Store;
  now?: () => Date;
  log?: (m: string) => void;
  /** Wait after a pod's first failed attempt, doubled per further attempt. Default 1000 ms. */
  backoffInitialMs?: number;
  /** Default 10000 ms. */
  backoffMaxMs?: number;
  /** An unschedulable pod is retried after this long even when nothing changed. Default 5 min. */
  unschedulableTimeoutMs?: number;
  /** Pods whose spec.schedulerName is this (or unset, for the default) are ours. Default 'default-scheduler'. */
  schedulerName?: string;
  /** Plugins to run; default the profile in default-profile.ts. */
  profile?: Profile;
  /** xstate clock for the queue's backoff timers. */
  clock?: Clock;
  /** KubeSchedulerConfiguration's percentageOfNodesToScore; default adaptive (framework.ts numFeasibleNodesToFind). */
  percentageOfNodesToScore?: number;
}

export interface Scheduler {
  stop(): Promise<void>;
}

export const DEFAULT_SCHEDULER_NAME = 'default-scheduler';

/** One scheduling cycle's verdict, until its write is done: a node to bind to, or why the pod fits nowhere. */
interface Decision { key: string; pod: KubeObject; node?: string; message?: string; started: bigint }
type BindDecision = Decision & { node: string };

/** A pod this scheduler must place: not yet bound, not finished, not being deleted, and asking for this scheduler. */
export function needsScheduling(pod: KubeObject, schedulerName = DEFAULT_SCHEDULER_NAME): boolean {
  return !pod.spec?.nodeName && !isPodTerminal(pod) && !pod.metadata.deletionTimestamp
    && (pod.spec?.schedulerName ?? DEFAULT_SCHEDULER_NAME) === schedulerName;
}

export async function startScheduler(opts: SchedulerOptions): Promise<Scheduler> {
  const { store } = opts;
  const now = opts.now ?? (() => new Date());
  const log = opts.log ?? (() => {});
  const schedulerName = opts.schedulerName ?? DEFAULT_SCHEDULER_NAME;
  const profile = opts.profile ?? defaultProfile();
  const pods = new Informer(store, 'Pod');
  const nodes = new Informer(store, 'Node');
  // Claims, volumes and classes, for VolumeBinding; a claim or volume that changes may let a waiting pod fit.
  const storage = { claims: new Informer(store, 'PersistentVolumeClaim'), volumes: new Informer(store, 'PersistentVolume'), classes: new Informer(store, 'StorageClass') };
  const volumeListers: VolumeListers = {
    claim: (ns, name) => storage.claims.get(ns, name), volume: (name) => storage.volumes.get(undefined, name), classes: () => storage.classes.list(),
  };
  const cache = new SchedulerCache();
  const controllerPods = (uid: string) => cache.podsOfController(uid);
  let ready = false, stopped = false;
  /** Where the next cycle starts its search of the nodes (kube-scheduler's nextStartNodeIndex), so a sampled search
   *  moves round the cluster instead of filling the first nodes by name. */
  let nextStart = 0;
  let loop: Promise<void> | undefined;

  const queue = new SchedulingQueue({
    backoffInitialMs: opts.backoffInitialMs,
    backoffMaxMs: opts.backoffMaxMs,
    unschedulableTimeoutMs: opts.unschedulableTimeoutMs,
    clock: opts.clock,
    onActive: () => kick(),
  });

  // Pending pods with required pod affinity or DoNotSchedule spreading: a pod bound anywhere may be the one they
  // wait for (the queueing hints of InterPodAffinity and PodTopologySpread); only these are woken by a binding, so
  // a burst of bindings does not wake every waiting pod.
  const awaitingPods = new Set<string>();
  const track = (pod: KubeObject) => {
    const key = keyOf(pod);
    const waitsOnPods = pod.spec?.affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.length
      || pod.spec?.topologySpreadConstraints?.some((c: { whenUnsatisfiable?: string }) => c.whenUnsatisfiable === 'DoNotSchedule');
    if (needsScheduling(pod, schedulerName) && waitsOnPods) awaitingPods.add(key);
    else awaitingPods.delete(key);
  };

  // Handlers only queue keys and wake pods; the decisions happen in the loop.
  pods.on({
    add: (pod) => {
      cache.setPod(pod);
      track(pod);
      if (needsScheduling(pod, schedulerName)) queue.add(keyOf(pod));
      else if (pod.spec?.nodeName) for (const k of awaitingPods) queue.move(k);
    },
    update: (old, pod) => {
      cache.setPod(pod);
      track(pod);
      if (!old.spec?.nodeName && pod.spec?.nodeName) for (const k of awaitingPods) queue.move(k);
      const key = keyOf(pod);
      if (!needsScheduling(pod, schedulerName)) queue.remove(key);
      else if (!queue.has(key)) queue.add(key);
      else if (podSpecChanged(old, pod)) queue.move(key);
      if (podFinished(old, pod)) queue.moveAll();
    },
    delete: (pod) => {
      awaitingPods.delete(keyOf(pod));
      queue.remove(keyOf(pod));
      cache.deletePod(pod);
      if (pod.spec?.nodeName) queue.moveAll(); // its node has room again
    },
  });
  nodes.on({
    add: (node) => {
      cache.setNode(node);
      queue.moveAll();
    },
    update: (old, node) => {
      cache.setNode(node);
      if (nodeSchedulingChanged(old, node)) queue.moveAll();
    },
    delete: (node) => cache.removeNode(node.metadata.name),
  });

  for (const i of Object.values(storage)) i.on({ add: () => queue.moveAll(), update: () => queue.moveAll(), delete: () => queue.moveAll() });

  /** Binds in flight: a decision does not wait for the writes of the ones before it (kube-scheduler's binding cycle). */
  const binding = new Set<Promise<void>>();
  const MAX_BINDING = 64;
  /**
   * A turn of the loop decides for at most this long, and at most this many pods (each binding's write starts the
   * pod's worker on its node before the next turn), then yields, so informer events, the API and the nodes are
   * served meanwhile. A fixed 8 a turn left the scheduler a fraction of the loop at 1,000 nodes, where a decision
   * searches 420 of them while the ReplicaSets create 16 pods a turn: pending pods piled up by the thousand.
   */
  const TURN_MS = 5;
  const DECISIONS_PER_TURN = 32;
  /** The turn's decisions to bind, written together at its end (one store call, one task for the lot). */
  let toBind: BindDecision[] = [];

  /** Runs the loop unless it is running; it drains every active pod, one decision at a time. */
  function kick(): void {
    if (!ready || stopped || loop) return;
    loop = (async () => {
      await new Promise((r) => setImmediate(r)); // let the handler that woke us return first
      let decided = 0;
      const slice = new TimeSlice(TURN_MS);
      for (let key = queue.pop(); key !== undefined && !stopped; key = queue.pop()) {
        scheduleOne(key);
        if (++decided >= DECISIONS_PER_TURN || slice.over) {
          flushBinds();
          if (binding.size >= MAX_BINDING) await Promise.race(binding);
          await slice.next();
          decided = 0;
        }
      }
      flushBinds();
    })().finally(() => {
      loop = undefined;
      if (queue.hasActive) kick(); // woken between the last pop and here
    });
  }

  /** A background write, counted among the binds in flight. */
  function inFlight(write: Promise<void>): void {
    binding.add(write);
    void write.finally(() => binding.delete(write));
  }

  /** A decision's write is done: the queue and metrics learn how it went; a failed bind forgets the assumption. */
  function settle(d: Decision, err: unknown): void {
    if (!err) {
      log(d.node ? `scheduler: bound ${d.key} to ${d.node}` : `scheduler: ${d.key}: ${d.message}`);
      queue.done(d.key, d.node ? 'BOUND' : 'FAILED');
      observeScheduleAttempt(d.node ? 'scheduled' : 'unschedulable', schedulerName, d.started);
      return;
    }
    // A Conflict means the pod changed since we read it: it is tried again from its new state after the backoff.
    // NotFound: it was deleted meanwhile, and its informer delete takes it off the queue.
    cache.forget(d.key);
    if (!(err instanceof StoreError && err.reason === 'NotFound')) log(`scheduler: ${d.key}: ${err instanceof Error ? err.message : String(err)}; will retry`);
    queue.done(d.key, 'ERROR');
    observeScheduleAttempt('error', schedulerName, d.started);
  }

  /** Writes the turn's bindings in one store call (kube-scheduler binds each in its own goroutine). */
  function flushBinds(): void {
    if (!toBind.length) return;
    const batch = toBind;
    toBind = [];
    inFlight((async () => {
      let errors: (Error | undefined)[];
      try {
        errors = await bindPods(store, batch, now());
      } catch (err) {
        for (const d of batch) settle(d, err);
        return;
      }
      for (const [i, d] of batch.entries()) settle(d, errors[i]);
    })());
  }

  /** The scheduling cycle (synchronous, on the cache's snapshot), then the binding cycle in the background. */
  function scheduleOne(key: string): void {
    const [namespace, name] = key.split('/');
    const pod = pods.get(namespace, name);
    if (!pod || !needsScheduling(pod, schedulerName)) return queue.remove(key);
    const started = process.hrtime.bigint();
    let result;
    try {
      const nodes = cache.snapshot();
      const state = withControllerPods(withSummary(volumeCycleState(volumeListers), cache.summary()), controllerPods);
      result = schedule(pod, nodes, profile, state, { start: nextStart, percentageOfNodesToScore: opts.percentageOfNodesToScore });
      if ('searched' in result && nodes.length) nextStart = (nextStart + (result.searched ?? 0)) % nodes.length;
    } catch (err) {
      log(`scheduler: ${key}: ${err instanceof Error ? err.message : String(err)}; will retry`);
      observeScheduleAttempt('error', schedulerName, started);
      return queue.done(key, 'ERROR');
    }
    if ('node' in result) {
      cache.assume(pod, result.node); // counted from now on, before the binding is written
      const d: BindDecision = { key, pod, node: result.node, started };
      // A pod with claims has its PreBind (the claims learn their node) before its binding: written alone.
      if (!podClaimNames(pod).length) return void toBind.push(d);
      return inFlight((async () => {
        try {
          await preBindVolumes(store, pod, result.node, volumeListers);
          const [err] = await bindPods(store, [{ pod, node: result.node }], now());
          settle(d, err);
        } catch (err) {
          settle(d, err);
        }
      })());
    }
    // The event and condition carry the preemption verdict too, as kube-scheduler's FailedScheduling does.
    const message = Object.keys(result.reasons).length ? failedSchedulingMessage(cache.snapshot().length, result.reasons) : result.message;
    const d: Decision = { key, pod, message, started };
    inFlight(recordUnschedulable(store, pod, message, now()).then(() => settle(d, undefined), (err) => settle(d, err)));
  }

  await nodes.start();
  for (const i of Object.values(storage)) await i.start();
  await pods.start();
  ready = true;
  kick();
  log(`scheduler: started as ${schedulerName}`);
  // kube-scheduler's /healthz: its informers synced (sched-handler-sync) and the loop not stopped.
  const informers = [pods, nodes, ...Object.values(storage)];
  const heartbeat = startHeartbeat(store, 'scheduler', () => ({
    'sched-handler-sync': informers.every((i) => i.hasSynced) ? null : 'informers not synced',
    'scheduling-loop': stopped ? 'stopped' : null,
  }));

  return {
    async stop() {
      stopped = true;
      await heartbeat.stop();
      pods.stop();
      nodes.stop();
      for (const i of Object.values(storage)) i.stop();
      await loop;
      await Promise.all(binding);
      queue.stop();
    },
  };
}
