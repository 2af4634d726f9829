// The workload engine of one `serve`: controllers, scheduler, service addresses and proxy, and the local nodes.
// Started after the API (so status is visible at once) and stopped before the store closes.
import os from 'node:os';
import type { Store } from '../store/store.ts';
import { startControllers } from '../controllers/manager.ts';
import { startScheduler } from '../scheduler/scheduler.ts';
import { startServiceAllocator } from '../network/service-allocator.ts';
import { startServiceProxy } from '../network/proxy.ts';
import { startNode } from '../node/executor.ts';
import { ImageCache } from '../node/images.ts';
import { ProcessRuntime } from '../node/runtime/process.ts';
import { HollowRuntime, type HollowOptions } from '../node/runtime/hollow/hollow.ts';

export interface EngineOptions {
  store: Store;
  dataDir: string;
  /** Writes a git tree (an image) into a folder: the watched repository's GitSource.exportTree. */
  exportTree: (oid: string, dest: string) => Promise<void>;
  /** Where NodePorts listen and the nodes' InternalIP. */
  host: string;
  /** 0 runs no node: pods are scheduled nowhere and stay Pending. */
  nodes: number;
  nodeName: string;
  capacity: { cpu?: string; memory?: string; pods?: number };
  labels: Record<string, string>;
  restartBackoff: { baseMs: number; maxMs: number };
  log: (msg: string) => void;
  /** Given: the nodes run hollow pods (no processes, src/node/runtime/hollow/), for scale tests. */
  hollow?: HollowOptions;
}

export interface Engine {
  nodeNames: string[];
  stop(): Promise<void>;
}

/** `web` for one node; `web-1`, `web-2`… for several. */
export const nodeNames = (base: string, n: number) => (n === 1 ? [base] : Array.from({ length: n }, (_, i) => `${base}-${i + 1}`));

export const defaultNodeName = () => os.hostname().toLowerCase().replace(/[^a-z0-9.-]/g, '-').replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '') || 'node';

export async function startEngine(opts: EngineOptions): Promise<Engine> {
  const { store, log } = opts;
  const stops: (() => Promise<void>)[] = [];
  try {
    const allocator = await startServiceAllocator({ store, log: (m) => log(`services: ${m}`) });
    stops.push(() => allocator.stop());
    const proxy = await startServiceProxy({ store, nodeHost: opts.host, log: (m) => log(`proxy: ${m}`) });
    stops.push(() => proxy.stop());
    const controllers = await startControllers({ store, log: (m) => log(`controllers: ${m}`) });
    stops.push(() => controllers.stop());
    const scheduler = await startScheduler({ store, log });
    stops.push(() => scheduler.stop());
    const images = new ImageCache({ dataDir: opts.dataDir, pull: ({ oid }, dest) => opts.exportTree(oid, dest) });
    const runtime = opts.hollow ? new HollowRuntime(opts.hollow) : new ProcessRuntime();
    const names = nodeNames(opts.nodeName, opts.nodes);
    const nodes: { stop(): Promise<void> }[] = [];
    // Nodes stop together: each waits out its pods' grace periods, and those need not add up.
    stops.push(async () => { await Promise.all(nodes.map((n) => n.stop())); });
    for (const nodeName of names) {
      nodes.push(await startNode({
        store, nodeName, dataDir: opts.dataDir, hostIP: opts.host, capacity: opts.capacity, labels: opts.labels,
        runtime, images, restartBackoff: opts.restartBackoff, log,
      }));
    }
    return { nodeNames: names, stop: () => stopAll(stops) };
  } catch (e) {
    await stopAll(stops);
    throw e;
  }
}

/** Last started, first stopped: nodes stop their pods while the proxy and controllers still run. */
async function stopAll(stops: (() => Promise<void>)[]): Promise<void> {
  for (const stop of stops.reverse()) await stop().catch((e) => console.error(e));
}
