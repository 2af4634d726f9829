// `convergit stop`: stops everything a data folder runs. `serve` leaves its pods' containers running when it stops
// or dies (the next serve re-adopts them); this is how to stop them for good. It asks the folder's serve, if one
// runs, to exit (SIGTERM) and waits for its lock; then, holding the lock so no serve starts meanwhile, it stops each
// container the nodes recorded (SIGTERM to its process group or podman container, SIGKILL after the pod's grace
// period, or --grace-period's), all at once; then whatever else of the folder's podman instance is left (pods, strays, bridges).
// The objects stay in state.json: the next serve starts the pods again.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { PidsFile } from '../node/pids-file.ts';
import { ProcessRuntime } from '../node/runtime/process.ts';
import { isPodmanRecord, PodmanRuntime } from '../node/runtime/podman/podman.ts';
import type { Runtime } from '../node/runtime/runtime.ts';
import { DataDirInUse, isDataDirLocked, lockDataDir, readLockOwner } from './data-dir-lock.ts';
import { removeOwnLocalRoute } from '../network/local-route.ts';
import { releaseAddressBlocks } from './address-blocks.ts';
import { forgetRuntime } from './runtime-choice.ts';

export interface StopOptions {
  dataDir: string;
  /** How long to wait for serve to exit, in ms. */
  timeout: number;
  /** Seconds each container has to exit after SIGTERM, instead of its pod's grace (`kubectl delete --grace-period`). */
  gracePeriod?: number;
}

export async function stop(opts: StopOptions, print: (line: string) => void = console.log): Promise<number> {
  const dataDir = path.resolve(opts.dataDir);
  // A mistyped folder is said so, not created.
  if (!existsSync(dataDir)) throw new Error(`no data folder at ${dataDir}: nothing to stop`);
  if (isDataDirLocked(dataDir)) {
    const owner = readLockOwner(dataDir);
    if (owner?.command !== 'serve') throw new DataDirInUse(dataDir, owner);
    print(`stopping convergit serve (pid ${owner.pid}${owner.url ? `, ${owner.url}` : ''})`);
    try {
      process.kill(owner.pid, 'SIGTERM');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e; // exited meanwhile: its lock is free
    }
    const deadline = Date.now() + opts.timeout;
    while (isDataDirLocked(dataDir)) {
      if (Date.now() > deadline) throw new Error(`convergit serve (pid ${owner.pid}) did not exit within ${opts.timeout / 1000}s; nothing else was stopped`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const lock = lockDataDir(dataDir, 'stop');
  try {
    const processes = new ProcessRuntime();
    // The podman runtime only where a serve ran one: a machine without podman never calls it.
    const podmanDir = path.join(dataDir, 'podman');
    const pod = existsSync(podmanDir) ? await PodmanRuntime.create({ stateDir: podmanDir }) : undefined;
    const nodesDir = path.join(dataDir, 'nodes');
    let nodes: string[];
    try {
      nodes = readdirSync(nodesDir);
    } catch {
      nodes = [];
    }
    let stopped = 0;
    const pods = new Set<string>();
    await Promise.all(nodes.map(async (node) => {
      const pids = new PidsFile(path.join(nodesDir, node, 'pids.json'));
      await Promise.all(pids.load().map(async (e) => {
        const runtime: Runtime = pod && isPodmanRecord(e.record) ? pod : processes;
        const handle = await runtime.adopt?.(e.record, e.launch).catch(() => undefined);
        if (handle) {
          await handle.stop(opts.gracePeriod !== undefined ? opts.gracePeriod * 1000 : e.graceMs);
          stopped++;
          pods.add(e.podUID);
        }
        pids.remove(e.podUID, e.container, e.record);
      }));
    }));
    // What podman refused to remove is said (a network left behind holds its subnet for the whole machine).
    const refused = pod ? await pod.removeAll() : [];
    await pod?.close();
    print(stopped ? `stopped ${stopped} container(s) of ${pods.size} pod(s)` : 'no container was running');
    for (const r of refused) print(`podman refused to remove ${r}`);
    // The service CIDR's local route, when this data folder's serve added it (podman's ClusterIPs).
    const route = await removeOwnLocalRoute(dataDir);
    if (route) print(`removed the local route of ${route}`);
    // Nothing runs on them now: another serve may take them; not while a network of the folder still holds a subnet
    // (another serve given it could make no network there).
    if (refused.some((r) => r.startsWith('network '))) print('the address blocks stay reserved while a network of this folder is left');
    else {
      const blocks = await releaseAddressBlocks(dataDir);
      if (blocks) print(`freed the address blocks ${blocks.clusterCIDR} and ${blocks.serviceCIDR}`);
    }
    forgetRuntime(dataDir); // nothing runs any more: the next serve may choose another runtime
    return refused.length ? 1 : 0;
  } finally {
    lock.release();
  }
}
