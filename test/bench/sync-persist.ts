// What the sync loop writes to the data folder for a commit changing one ConfigMap, in a repository of 1,000 and
// 10,000 objects: bytes that reach state.json and state.journal from the commit until the loop and the health
// monitor have settled, and the time from the change being seen to the revision applied. The Syncer runs in this
// process against a real git repository and store; the change is signalled directly (no watcher latency).
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeRepo } from '../support/git-repo.ts';
import { until } from '../support/wait.ts';
import { GitSource } from '../../src/source/git-source.ts';
import { openStore } from '../../src/store/lowdb-store.ts';
import { Syncer, type RevisionSource } from '../../src/sync/syncer.ts';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const cm = (name: string, v: number) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  v: "${v}"\n`;
const size = (f: string) => {
  try {
    const s = statSync(f);
    return { ino: s.ino, size: s.size };
  } catch {
    return { ino: 0, size: 0 };
  }
};

async function oneSize(objects: number, commits: number): Promise<void> {
  const files: Record<string, string> = {};
  for (let i = 0; i < objects; i++) files[`deploy/team-${i % 100}/cm-${i}.yaml`] = cm(`cm-${i}`, 0);
  const repo = makeRepo(files);
  const dataDir = mkdtempSync(path.join(tmpdir(), 'convergit-bench-syncpersist-'));
  const state = path.join(dataDir, 'state.json'), journal = path.join(dataDir, 'state.journal');
  const store = await openStore(dataDir);
  const git = new GitSource({ repo: repo.dir, branch: 'main', path: 'deploy', dataDir, interval: 0 });
  await git.prepare();
  let changed: () => void = () => {};
  // The real source, but the change is signalled by this bench rather than by the file watcher.
  const source: RevisionSource = new Proxy(git, {
    get(target, prop) {
      if (prop === 'watch') return (fn: () => void) => { changed = fn; return async () => {}; };
      const v = Reflect.get(target, prop);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  const syncer = new Syncer(source, store, { repository: repo.dir, branch: 'main', path: 'deploy' });
  const settled = async () => {
    // The loop is done and the health monitor has judged the revision (it waits ~50 ms after a change, and longer
    // after a long assessment): then nothing more is due to be written.
    await until(() => syncer.state === 'synced' && syncer.status().health.revision === syncer.status().lastAppliedRevision, 'settled', 120_000);
    await new Promise((r) => setTimeout(r, 400));
    await store.flush();
  };
  const bytes: number[] = [], times: number[] = [], cpu: number[] = [];
  try {
    const t0 = performance.now(), u0 = process.cpuUsage();
    await syncer.start();
    await until(() => syncer.status().sync === 'Synced', 'first sync', 300_000);
    const first = performance.now() - t0, u = process.cpuUsage(u0), firstCpu = (u.user + u.system) / 1e6;
    await settled();
    for (let r = 1; r <= commits; r++) {
      repo.write(`deploy/team-${r % 100}/cm-${r}.yaml`, cm(`cm-${r}`, r));
      const sha = repo.commit(`bench ${r}`);
      const s0 = size(state), j0 = size(journal);
      const c0 = process.cpuUsage();
      const t1 = performance.now();
      const applied = new Promise<void>((resolve) => {
        const off = syncer.onStatus((s) => { if (s.lastAppliedRevision === sha && s.state === 'synced') { off(); resolve(); } });
      });
      changed();
      await applied;
      times.push(performance.now() - t1);
      await settled();
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
      const s1 = size(state), j1 = size(journal);
      bytes.push((s1.ino !== s0.ino ? s1.size : 0) + Math.max(0, j1.size - (j1.ino === j0.ino ? j0.size : 0)));
    }
    console.log(`sync persistence, one ConfigMap changed at ${objects} objects (state.json and journal ${((size(state).size + size(journal).size) / 1e6).toFixed(1)} MB), median of ${commits}: `
      + `${median(bytes)} bytes written per commit (max ${Math.max(...bytes)}); seen → applied ${median(times).toFixed(0)} ms; `
      + `CPU per commit until settled ${median(cpu).toFixed(0)} ms; first sync ${(first / 1000).toFixed(1)} s (CPU ${firstCpu.toFixed(1)} s)`);
  } finally {
    await syncer.stop();
    await store.close();
    repo.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function syncPersistBench(sizes = [1_000, 10_000], commits = 7): Promise<void> {
  for (const n of sizes) await oneSize(n, commits);
}

if (import.meta.url === `file://${process.argv[1]}`) await syncPersistBench(process.argv[2] ? process.argv[2].split(',').map(Number) : undefined);
