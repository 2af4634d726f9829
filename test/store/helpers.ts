// Shared by the store tests: temp folders, a settable clock, object builders, waiting on conditions.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeObject } from '../../src/model/object.ts';
import { openStore, type LowdbStore, type StoreOptions } from '../../src/store/lowdb-store.ts';

const dirs: string[] = [];
const stores: LowdbStore[] = [];

export async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'convergit-store-'));
  dirs.push(d);
  return d;
}

/** Opens a store that `cleanup` closes even when a test fails before closing it. */
export async function open(dir: string, opts: StoreOptions = {}): Promise<LowdbStore> {
  const store = await openStore(dir, opts);
  stores.push(store);
  return store;
}

/** For test.after.each: closes the stores the test opened, then removes its folders. */
export async function cleanup(): Promise<void> {
  await Promise.allSettled(stores.splice(0).map((s) => s.close()));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

/** A clock the test moves by hand. */
export function clock(start = '2024-05-01T10:00:00.250Z') {
  let t = new Date(start).getTime();
  return { now: () => new Date(t), advance: (ms: number) => { t += ms; } };
}

/** A fresh store in a fresh folder; `dir` to reopen it later. */
export async function freshStore(opts: StoreOptions = {}): Promise<{ store: LowdbStore; dir: string }> {
  const dir = await tempDir();
  return { store: await open(dir, opts), dir };
}

export const cm = (name: string, data: Record<string, string> = {}, extra: Partial<KubeObject['metadata']> = {}): KubeObject => ({
  apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ...extra }, data,
});

export const pod = (name: string, labels: Record<string, string>, namespace = 'default'): KubeObject => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace, labels }, spec: { containers: [{ name: 'c', image: 'x' }] },
});

/** Resolves once `cond` holds, polling on the event loop; fails after `ms`. */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

export const names = (objs: KubeObject[]) => objs.map((o) => (o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name));
