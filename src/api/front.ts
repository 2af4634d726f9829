// Starts the API's front (front-worker.ts): the listening socket in a thread of its own, answering GETs of stored
// objects from a replica of those clients read (replica-feed.ts) and relaying the rest to the main thread's server.
import { randomUUID } from 'node:crypto';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
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

export async function startFront(store: Store, data: FrontData, count: (l: RequestLabels, code: number, seconds: number) => void): Promise<Front> {
  const feedChannel = new MessageChannel(), countsChannel = new MessageChannel();
  const feed = new ReplicaFeed(store, [...new Set(data.routes.map((r) => r.kind))], feedChannel.port1, Math.min(1000, data.mainStallMs / 4));
  await feed.start();
  const onCount = ({ code, seconds, ...labels }: RequestLabels & { code: number; seconds: number }) => count(labels, code, seconds);
  countsChannel.port1.on('message', onCount);
  countsChannel.port1.unref();
  const worker = moduleWorker(import.meta.url, 'front-worker', { workerData: { ...data, feed: feedChannel.port2, counts: countsChannel.port2 }, transferList: [feedChannel.port2, countsChannel.port2] });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the API's front thread exited (${code}) before it listened`)));
    worker.once('message', (m: { port?: number; error?: string; code?: string }) => {
      if (m.port !== undefined) return resolve(m.port);
      reject(Object.assign(new Error(m.error), { code: m.code }));
    });
  }).catch(async (e) => { feed.stop(); await worker.terminate(); throw e; });
  worker.removeAllListeners('error').removeAllListeners('exit');
  let exited = false, closing = false;
  worker.on('error', (e) => console.error(`convergit: the API's front thread failed: ${e.stack ?? e.message}`));
  worker.on('exit', (code) => {
    exited = true;
    if (!closing) console.error(`convergit: the API's front thread exited (${code}): the API no longer answers`);
  });
  return {
    port,
    feed,
    takeCounts: () => { for (let m = receiveMessageOnPort(countsChannel.port1); m; m = receiveMessageOnPort(countsChannel.port1)) onCount(m.message); },
    close: async () => {
      closing = true;
      feed.stop();
      if (!exited) await new Promise<void>((resolve) => {
        worker.once('exit', () => resolve());
        worker.on('message', (m: { closed?: boolean }) => { if (m.closed) void worker.terminate(); });
        worker.postMessage({ close: true });
      });
      countsChannel.port1.close();
      feedChannel.port1.close();
    },
  };
}
