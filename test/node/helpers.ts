// Shared by the node executor tests: a real store in a temp folder, a node with fast timings, pod builders,
// and checks on real processes.
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeObject } from '../../src/model/object.ts';
import { openStore, type LowdbStore } from '../../src/store/lowdb-store.ts';
import { startNode, type NodeOptions, type RunningNode } from '../../src/node/executor.ts';
import { ImageCache } from '../../src/node/images.ts';
import { ProcessRuntime } from '../../src/node/runtime/process.ts';

const dirs: string[] = [];
const stores: LowdbStore[] = [];
const nodes: RunningNode[] = [];

export async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'convergit-node-'));
  dirs.push(d);
  return d;
}

export async function openTestStore(dir: string): Promise<LowdbStore> {
  const s = await openStore(dir, { flushDelay: 5 });
  stores.push(s);
  return s;
}

/** Files the test image holds: `pull` writes them, as exportTree would write a git tree. */
export const IMAGE_FILES: Record<string, string> = {
  'server.js': "process.stdout.write('image ' + process.cwd() + '\\n'); setInterval(() => {}, 1000);\n",
  'lib/hello.txt': 'hello from the image\n',
};

export function testImages(dataDir: string, pulls: string[] = []): ImageCache {
  return new ImageCache({
    dataDir,
    pull: async (ref, dest) => {
      pulls.push(ref.oid);
      for (const [f, body] of Object.entries(IMAGE_FILES)) {
        await mkdir(join(dest, f, '..'), { recursive: true });
        await writeFile(join(dest, f), body);
      }
    },
  });
}

/** A node with millisecond timings, stopped by cleanup when a test fails. */
export async function fastNode(store: LowdbStore, dataDir: string, extra: Partial<NodeOptions> = {}): Promise<RunningNode> {
  const node = await startNode({
    store, dataDir, nodeName: 'node-a',
    runtime: new ProcessRuntime(), images: testImages(dataDir),
    heartbeatMs: 50,
    restartBackoff: { baseMs: 40, maxMs: 160, resetAfterMs: 60_000 },
    probeMsPerSecond: 20,
    graceMsPerSecond: 100,
    capacity: { cpu: '4', memory: '8Gi', pods: 20 },
    ...extra,
  });
  nodes.push(node);
  return node;
}

export async function cleanup(): Promise<void> {
  await Promise.allSettled(nodes.splice(0).map((n) => n.stop()));
  await Promise.allSettled(stores.splice(0).map((s) => s.close()));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true }).catch((e: Error) => {
    // Something still wrote there after its node stopped: what is left is named, so the failure says what.
    throw new Error(`${e.message}; left in the folder: ${(readdirSync(d, { recursive: true }) as string[]).join(', ')}`);
  })));
}

/** A pod bound to `node` (as the scheduler would leave it) running `node -e script`. */
export function nodePod(name: string, script: string, extra: { spec?: Record<string, unknown>; container?: Record<string, unknown>; node?: string } = {}): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: 'default', labels: { app: name } },
    spec: {
      nodeName: extra.node ?? 'node-a',
      containers: [{ name: 'main', image: 'host', command: [process.execPath, '-e', script], ...extra.container }],
      ...extra.spec,
    },
    status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: '2024-01-01T00:00:00Z' }] },
  };
}

/** Whether a process with this pid exists (and is not a zombie). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !['Z', 'X'].includes(stat.slice(stat.lastIndexOf(')') + 2)[0]);
  } catch {
    return true;
  }
}

/** The pid in a containerID `process://<pid>`. */
export const pidOf = (containerID: string | undefined) => Number(String(containerID ?? '').replace('process://', ''));

export const statusOf = (pod: KubeObject | undefined, container = 'main') =>
  (pod?.status?.containerStatuses ?? []).find((c: { name: string }) => c.name === container);
