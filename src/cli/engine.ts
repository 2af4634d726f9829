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
import { checkPodman } from '../node/runtime/podman/detect.ts';
import type { Runtime } from '../node/runtime/runtime.ts';
import { join } from 'node:path';
import { startUsageReporter } from '../node/usage-reporter.ts';
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
  /** How often nodes measure their containers' cpu and memory (metrics.k8s.io). Default 15 s. */
  metricResolutionMs?: number;
  log: (msg: string) => void;
  /** podman or process; undefined: podman when it is installed and works, else process. */
  runtime?: 'podman' | 'process';
  /** The nodes' pod CIDRs come from here; default by runtime (process 127.1.0.0/16, podman 10.244.0.0/16). */
  clusterCIDR?: string;
  /** podman: the image git trees are mounted over (default: the host's system folders). */
  gitImageBase?: string;
  allowPrivileged?: boolean;
  podPidsLimit?: number;
  /** Given: the nodes run hollow pods (no processes, src/node/runtime/hollow/), for scale tests. */
  hollow?: HollowOptions;
}

export const DEFAULT_CLUSTER_CIDRS = { process: '127.1.0.0/16', podman: '10.244.0.0/16' } as const;

/**
 * The runtime asked for; process by default, and says why. Podman becomes the default once pods in its sandboxes
 * reach Services' cluster IPs and are re-adopted after a restart, as process pods are: until then the example's
 * frontend could not reach its backend, and a restart would restart every container.
 */
async function chooseRuntime(opts: EngineOptions): Promise<{ runtime: Runtime; name: 'podman' | 'process'; version: string; close(): Promise<void> | void }> {
  const { log } = opts;
  if (opts.runtime === undefined) {
    log('runtime: process (the default; --runtime podman runs pods as containers of their images)');
  } else if (opts.runtime === 'podman') {
    const check = await checkPodman({ stateDir: join(opts.dataDir, 'podman'), pidsLimit: opts.podPidsLimit });
    if (check.ok) {
      log(`runtime: podman ${check.version} (--runtime podman)`);
      const runtime = check.runtime;
      return { runtime, name: 'podman', version: `podman://${check.version}`, close: () => runtime.close() };
    }
    throw new Error(`--runtime podman: ${check.reason}`);
  } else {
    log('runtime: process (--runtime process)');
  }
  return { runtime: new ProcessRuntime(), name: 'process', version: 'process://', close: () => {} };
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
    // The HPA has nothing new to read between two measurements: it syncs at the metric resolution (both 15 s by default).
    const controllers = await startControllers({ store, log: (m) => log(`controllers: ${m}`), hpa: { syncPeriodMs: opts.metricResolutionMs } });
    stops.push(() => controllers.stop());
    const scheduler = await startScheduler({ store, log });
    stops.push(() => scheduler.stop());
    const images = new ImageCache({ dataDir: opts.dataDir, pull: ({ oid }, dest) => opts.exportTree(oid, dest) });
    const chosen = opts.hollow
      ? { runtime: new HollowRuntime(opts.hollow) as Runtime, name: 'process' as const, version: 'hollow://', close: () => {} }
      : await chooseRuntime(opts);
    const runtime = chosen.runtime;
    stops.push(async () => chosen.close());
    const clusterCIDR = opts.clusterCIDR ?? DEFAULT_CLUSTER_CIDRS[chosen.name];
    const names = nodeNames(opts.nodeName, opts.nodes);
    const nodes: { detach(): Promise<void> }[] = [];
    // Nodes stop together, leaving their containers running: the next serve re-adopts them (`convergit stop`
    // stops them).
    stops.push(async () => { await Promise.all(nodes.map((n) => n.detach())); });
    for (const nodeName of names) {
      nodes.push(await startNode({
        store, nodeName, dataDir: opts.dataDir, hostIP: opts.host, capacity: opts.capacity, labels: opts.labels,
        runtime, images, restartBackoff: opts.restartBackoff, log,
        clusterCIDR, containerRuntimeVersion: chosen.version,
        allowPrivileged: opts.allowPrivileged, gitImageBase: opts.gitImageBase,
      }));
      const reporter = startUsageReporter({ store, nodeName, dataDir: opts.dataDir, resolutionMs: opts.metricResolutionMs, log });
      nodes.push({ detach: () => reporter.stop() });
    }
    return { nodeNames: names, stop: () => stopAll(stops) };
  } catch (e) {
    await stopAll(stops);
    throw e;
  }
}

/** Last started, first stopped: the nodes first, while the proxy and controllers still run. */
async function stopAll(stops: (() => Promise<void>)[]): Promise<void> {
  for (const stop of stops.reverse()) await stop().catch((e) => console.error(e));
}
