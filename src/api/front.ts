// Starts the API's front (front-worker.ts): the listening socket in a thread of its own, answering GETs of stored
// objects from a replica of those clients read (replica-feed.ts) and relaying the rest to the main thread's server.
import { randomUUID } from 'node:crypto';
import { MessageChannel, receiveMessageOnPort, type MessagePort, type Worker } from 'node:worker_threads';
import { moduleWorker } from '../model/module-worker.ts';
import type { KindInfo } from '../model/kinds.ts';
import type { Store } from '../store/store.ts';
import type { FrontData, FrontRoute } from './front-protocol.ts';
import type { RequestLabels } from './metrics.ts';
import { ReplicaFeed } from './replica-feed.ts';

/** An abstract unix socket's path (Linux: no file, gone with the process) for the main thread's server. */
export const internalSocketPath = () => `\0convergit-api-${process.pid}-${randomUUID()}`;

/** The routes of the kinds answered from the replica: each version of each kind `answersFromReplica` accepts. */
export function frontRoutes(kinds: readonly KindInfo[], answersFromReplica: (k: KindInfo, version: string) => boolean): FrontRoute[] {
  return kinds.flatMap((k) => k.versions.filter((v) => answersFromReplica(k, v)).map((version) => ({
    prefix: k.group ? `/apis/${k.group}/${version}` : '/api/v1', resource: k.resource, kind: k.kind, group: k.group, version: k.version, namespaced: k.namespaced,
  })));
}

export interface Front {
  port: number;
  /** What the front keeps (want, offer, unwant: an object the front asked for), sent by flush() before the main thread
   * answers anything (replica-feed.ts). */
  feed: Pick<ReplicaFeed, 'flush' | 'want' | 'offer' | 'unwant'>;
  /** Counts the requests the front answered that the main thread has not heard of yet (before /metrics). */
  takeCounts(): void;
  close(): Promise<void>;
}

/**
 * A restarted front's wait: doubled at each restart up to RESTART_MAX_MS, and back to the first once a thread has run
 * STABLE_MS (a kubelet's back-off, in milliseconds rather than seconds: this thread is the API).
 */
const RESTART_MS = 100, RESTART_MAX_MS = 30_000, STABLE_MS = 60_000;

/** One front thread, listening, with the main thread's ends of its two ports. */
interface Thread { worker: Worker; port: number; counts: MessagePort; feed: MessagePort }

/**
 * Starts the front. A front thread that ends on its own (a bug of its own, memory) is started again on the port it had
 * (kube-apiserver's process, too, is restarted by its kubelet): the API stops answering only for the moment it takes,
 * and the new thread keeps nothing until clients read again.
 */
export async function startFront(store: Store, data: FrontData, count: (l: RequestLabels, code: number, seconds: number) => void): Promise<Front> {
  const firstFeed = new MessageChannel();
  const feed = new ReplicaFeed(store, [...new Set(data.routes.map((r) => r.kind))], firstFeed.port1, Math.min(1000, data.mainStallMs / 4), data.maxKept);
  await feed.start();
  const onCount = ({ code, seconds, ...labels }: RequestLabels & { code: number; seconds: number }) => count(labels, code, seconds);
  const drain = (counts: MessagePort) => { for (let m = receiveMessageOnPort(counts); m; m = receiveMessageOnPort(counts)) onCount(m.message); };
  let thread: Thread, startedAt = Date.now();
  let closing = false, waitMs = RESTART_MS, timer: NodeJS.Timeout | undefined, starting: Promise<void> | undefined;
  const watch = (t: Thread) => t.worker.once('exit', (code) => {
    if (closing) return;
    drain(t.counts); // what it answered before it ended
    t.counts.close();
    t.feed.close();
    feed.sendTo(undefined); // nothing kept until the next thread
    if (Date.now() - startedAt >= STABLE_MS) waitMs = RESTART_MS;
    console.error(`convergit: the API's front thread exited (${code}): starting it again on port ${t.port} in ${waitMs} ms`);
    restart();
  });
  const restart = () => {
    const wait = waitMs;
    waitMs = Math.min(waitMs * 2, RESTART_MAX_MS);
    timer = setTimeout(() => {
      starting = launch({ ...data, port: thread.port }, feed, onCount).then((t) => {
        if (closing) return closeThread(t);
        thread = t;
        startedAt = Date.now();
        console.error(`convergit: the API's front thread answers again on port ${t.port}`);
        watch(t);
      }, (e: Error) => {
        if (closing) return;
        console.error(`convergit: the API's front thread did not start again (${e.message}): trying again in ${waitMs} ms`);
        restart();
      }).finally(() => { starting = undefined; });
    }, wait);
  };
  try {
    thread = await launch(data, feed, onCount, firstFeed);
  } catch (e) {
    feed.stop();
    throw e;
  }
  watch(thread);
  return {
    port: thread.port,
    feed,
    takeCounts: () => drain(thread.counts),
    close: async () => {
      closing = true;
      clearTimeout(timer);
      await starting; // a thread starting meanwhile is closed as it listens
      feed.stop();
      await closeThread(thread);
    },
  };
}

/** Most ms a front thread's close waits for its connections (an upgraded one a client keeps open) before it is ended. */
const CLOSE_MS = 2000;

/** Lets a front thread finish what it answers, then ends it (at once if it ended already), and closes its ports. */
async function closeThread({ worker, counts, feed }: Thread): Promise<void> {
  await new Promise<void>((resolve) => {
    if (worker.threadId < 0) return resolve();
    const end = setTimeout(() => void worker.terminate(), CLOSE_MS);
    worker.once('exit', () => { clearTimeout(end); resolve(); });
    worker.on('message', (m: { closed?: boolean }) => { if (m.closed) void worker.terminate(); });
    worker.postMessage({ close: true });
  });
  counts.close();
  feed.close();
}

const logError = (e: Error) => console.error(`convergit: the API's front thread failed: ${e.stack ?? e.message}`);

/** A front thread, listening as `data` says: the feed sends to it from now on (`channel`: the feed's first one). */
async function launch(data: FrontData, feed: ReplicaFeed, onCount: (m: RequestLabels & { code: number; seconds: number }) => void, channel = new MessageChannel()): Promise<Thread> {
  const counts = new MessageChannel();
  counts.port1.on('message', onCount);
  counts.port1.unref();
  feed.sendTo(channel.port1);
  const worker = moduleWorker(import.meta.url, 'front-worker', { workerData: { ...data, feed: channel.port2, counts: counts.port2 }, transferList: [channel.port2, counts.port2] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the API's front thread exited (${code}) before it listened`)));
      worker.once('message', (m: { port?: number; error?: string; code?: string }) => {
        if (m.port !== undefined) return resolve(m.port);
        reject(Object.assign(new Error(m.error), { code: m.code }));
      });
    });
    worker.removeAllListeners('error').removeAllListeners('exit').on('error', logError);
    return { worker, port, counts: counts.port1, feed: channel.port1 };
  } catch (e) {
    feed.sendTo(undefined); // nothing kept while none runs
    await worker.terminate();
    counts.port1.close();
    channel.port1.close();
    throw e;
  }
}
