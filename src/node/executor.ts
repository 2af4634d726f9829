// A node executor (a small kubelet): registers its Node, keeps it Ready with heartbeats, and runs one pod worker
// per pod bound to it. It talks to the rest of convergit only through the store.
import { join } from 'node:path';
import type { KubeObject } from '../model/object.ts';
import { parseQuantity } from '../model/quantity.ts';
import { Informer } from '../store/informer.ts';
import type { Store } from '../store/store.ts';
import type { ImageCache } from './images.ts';
import { heartbeat, markNodeNotReady, nodeCapacity, registerNode, type NodeCapacity } from './node-registration.ts';
import { PidsFile } from './pids-file.ts';
import { PodIps } from './pod-ips.ts';
import { PodWorker, type Clock } from './pod-worker.ts';
import type { Runtime } from './runtime/runtime.ts';
import { keyOf } from '../model/key.ts';

export interface NodeOptions {
  store: Store;
  nodeName: string;
  /** Data folder shared with the store: images/, pods/ (logs), nodes/<node>/pids.json. */
  dataDir: string;
  /** Default 127.0.0.1. */
  hostIP?: string;
  /** Default: the host's cpus, memory, and 110 pods. */
  capacity?: NodeCapacity;
  labels?: Record<string, string>;
  runtime: Runtime;
  images: ImageCache;
  /** Default 10 s. */
  heartbeatMs?: number;
  /** CrashLoopBackOff: base 10 s doubling to 300 s, reset after an instance ran 600 s. */
  restartBackoff?: { baseMs?: number; maxMs?: number; resetAfterMs?: number };
  /** How long a probe "second" lasts. Default 1000. */
  probeMsPerSecond?: number;
  /** How long a second of termination grace lasts. Default 1000. */
  graceMsPerSecond?: number;
  /** xstate clock for the pod and container machines (back-off, retries). */
  clock?: Clock;
  now?: () => Date;
  log?: (m: string) => void;
}

export interface RunningNode {
  name: string;
  /** The pod CIDR this node hands addresses out of. */
  podCIDR: string;
  /** Stops every pod gracefully (keeping the objects), marks the Node NotReady; leaves no process behind. */
  stop(): Promise<void>;
}

export async function startNode(opts: NodeOptions): Promise<RunningNode> {
  const { store, nodeName, dataDir } = opts;
  const now = opts.now ?? (() => new Date());
  const log = opts.log ?? (() => {});
  const hostIP = opts.hostIP ?? '127.0.0.1';

  // What a crashed previous run left running goes first: it may hold ports the pods are about to take.
  const pids = new PidsFile(join(dataDir, 'nodes', nodeName, 'pids.json'));
  const reaped = await pids.reapLeftovers();
  if (reaped) log(`node ${nodeName}: killed ${reaped} leftover process(es) of a previous run`);

  const node = await registerNode({ store, nodeName, hostIP, capacity: opts.capacity, labels: opts.labels, now });
  const podCIDR: string = node.spec.podCIDR;
  const ips = new PodIps(podCIDR);
  const cap = nodeCapacity(opts.capacity);
  const workers = new Map<string, PodWorker>(); // by pod uid: a pod recreated under the same name is another pod
  const deps = {
    store, nodeName, hostIP, dataDir, runtime: opts.runtime, images: opts.images, ips, pids,
    allocatable: { cpu: parseQuantity(cap.cpu), memory: parseQuantity(cap.memory) },
    backoff: { baseMs: 10_000, maxMs: 300_000, resetAfterMs: 600_000, ...opts.restartBackoff },
    probeMsPerSecond: opts.probeMsPerSecond ?? 1000,
    graceMsPerSecond: opts.graceMsPerSecond ?? 1000,
    clock: opts.clock, now, log,
  };

  // Only the pods bound here: with many nodes, each would otherwise hold (and be told about) every pod.
  const pods = new Informer(store, 'Pod', { nodeName });
  const queue = new Set<string>();
  let ready = false;
  let stopping = false;
  const enqueue = (p: KubeObject) => {
    queue.add(keyOf(p));
    if (ready && queue.size === 1) queueMicrotask(drain);
  };
  const drain = () => {
    for (const key of queue) {
      queue.delete(key);
      if (!stopping) sync(key);
    }
  };

  /** Level-triggered: one worker for the pod bound here under this key, and none for any other pod. */
  function sync(key: string): void {
    const [ns, name] = key.split('/');
    const cached = pods.get(ns, name);
    const pod = cached?.spec?.nodeName === nodeName ? cached : undefined;
    for (const w of workers.values()) if (w.key === key && w.uid !== pod?.metadata.uid) w.gone();
    if (!pod) return;
    const uid = pod.metadata.uid!;
    const existing = workers.get(uid);
    if (existing) return existing.update(pod);
    const w = new PodWorker(pod, deps);
    workers.set(uid, w);
    const usesGitImage = (pod.spec?.containers ?? []).some((c: { image?: string }) => opts.images.parse(c.image ?? ''));
    void w.done.then(() => {
      if (workers.get(uid) === w && !stopping) {
        workers.delete(uid);
        if (usesGitImage) void collectImages(); // nothing to collect after a pod that extracted no image
      }
    });
    w.start();
  }

  /** Extracted images no pod (of any node sharing this data folder's store) names any more are removed. */
  const collectImages = async () => {
    try {
      const inUse = (await store.list('Pod')).flatMap((p) => (p.spec?.containers ?? []).map((c: { image?: string }) => c.image ?? ''));
      await opts.images.gc(inUse);
    } catch (e) {
      log(`node ${nodeName}: image gc: ${e instanceof Error ? e.message : e}`);
    }
  };

  pods.on({ add: enqueue, update: (_old, p) => enqueue(p), delete: enqueue });
  await pods.start();
  // Addresses of pods already here are taken before any worker allocates one.
  for (const p of pods.list()) if (p.spec?.nodeName === nodeName) ips.reserve(p.metadata.uid!, p.status?.podIP);
  ready = true;
  drain();

  const beat = setInterval(() => {
    heartbeat(store, nodeName, now()).catch((e) => log(`node ${nodeName}: heartbeat: ${e instanceof Error ? e.message : e}`));
  }, opts.heartbeatMs ?? 10_000);
  beat.unref();
  log(`node ${nodeName}: ready, pod CIDR ${podCIDR}`);

  let stopped: Promise<void> | undefined;
  return {
    name: nodeName,
    podCIDR,
    stop() {
      stopped ??= (async () => {
        stopping = true;
        clearInterval(beat);
        pods.stop();
        await Promise.all([...workers.values()].map((w) => w.stopWithNode()));
        workers.clear();
        await markNodeNotReady(store, nodeName, now());
        log(`node ${nodeName}: stopped`);
      })();
      return stopped;
    },
  };
}
