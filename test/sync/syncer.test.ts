// The syncer with real parts (git repository, GitSource, lowdb store) and an injected store failure.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeRepo } from '../support/git-repo.ts';
import { until } from '../support/wait.ts';
import { GitSource } from '../../src/source/git-source.ts';
import { openStore } from '../../src/store/lowdb-store.ts';
import { Syncer } from '../../src/sync/syncer.ts';
import type { Store } from '../../src/store/store.ts';
import type { KubeObject } from '../../src/model/object.ts';
import { loadDesired } from '../../src/sync/desired.ts';
import { makePlan } from '../../src/plan/plan.ts';
import { gitKinds } from '../../src/model/kinds.ts';

const cm = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  k: v\n`;

test('an apply that fails halfway keeps failing visibly; what it created is still pruned by the next revision', async () => {
  const repo = makeRepo({ 'a.yaml': cm('a'), 'b.yaml': cm('b') });
  const dataDir = mkdtempSync(path.join(tmpdir(), 'convergit-syncer-'));
  const real = await openStore(dataDir);
  // Every create of ConfigMap b fails, as a full disk would; a goes through first (apply order is by name).
  const store: Store = new Proxy(real, {
    get(target, prop, receiver) {
      if (prop === 'create') {
        return async (o: KubeObject) => {
          if (o.metadata.name === 'b') throw new Error('disk full');
          return target.create(o);
        };
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  const source = new GitSource({ repo: repo.dir, branch: 'main', path: '', dataDir, interval: 0 });
  await source.prepare();
  const syncer = new Syncer(source, store, { repository: repo.dir, branch: 'main', path: '', retryBaseMs: 20, retryMaxMs: 40 });
  try {
    await syncer.start();
    const first = repo.git('rev-parse', 'HEAD');
    const failed = await until(() => { const s = syncer.status(); return s.sync === 'Failed' && s.lastAttemptedRevision === first && s; }, 'the half-applied revision to fail');
    assert.is(failed.error, 'disk full');
    assert.is(failed.lastAppliedRevision, undefined);
    assert.is(failed.history[0].result, 'Failed');
    // Retries happen (with backoff), but one revision stays one history entry.
    await until(() => syncer.status().history.length === 1 && syncer.status().state === 'failed' && (syncer.status().nextRetryAt ?? '') > failed.stateSince, 'a later retry');
    assert.equal((await real.list('ConfigMap')).map((o) => o.metadata.name), ['a'], 'half applied');

    repo.remove('a.yaml');
    repo.remove('b.yaml');
    repo.write('c.yaml', cm('c'));
    const next = repo.commit('replace a and b by c');
    await until(() => syncer.status().lastAppliedRevision === next, 'second revision applied');
    assert.equal((await real.list('ConfigMap')).map((o) => o.metadata.name), ['c'], 'a pruned although its revision never completed');
    const s = syncer.status();
    assert.equal(s.objects.map((o) => `${o.name}@${o.revision?.slice(0, 7)}`), [`c@${next.slice(0, 7)}`]);
    assert.equal(s.history.map((h) => h.result), ['Applied', 'Failed']);
  } finally {
    await syncer.stop();
    await real.close();
    repo.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('an inventory an older version kept whole in `sync` is moved to its own record, and still says what may be pruned', async () => {
  const repo = makeRepo({ 'a.yaml': cm('a') });
  const dataDir = mkdtempSync(path.join(tmpdir(), 'convergit-syncer-'));
  const store = await openStore(dataDir);
  for (const name of ['a', 'b', 'by-hand']) await store.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data: { k: 'v' } });
  const old = '0'.repeat(40);
  const keys = ['v1/ConfigMap/default/a', 'v1/ConfigMap/default/b'];
  await store.setMeta('sync', { lastApplied: old, inventory: keys, applied: { [keys[0]]: old, [keys[1]]: old }, history: [] });
  const source = new GitSource({ repo: repo.dir, branch: 'main', path: '', dataDir, interval: 0 });
  await source.prepare();
  const syncer = new Syncer(source, store, { repository: repo.dir, branch: 'main', path: '' });
  try {
    await syncer.start();
    const head = repo.git('rev-parse', 'HEAD');
    await until(() => syncer.status().lastAppliedRevision === head && syncer.state === 'synced', 'the revision applied');
    assert.equal((await store.list('ConfigMap')).map((o) => o.metadata.name), ['a', 'by-hand'], 'b was git\'s: pruned; by-hand never was');
    assert.equal(await store.getMeta('inventory'), { [keys[0]]: old }, 'a unchanged: still the revision that last wrote it');
    const sync = (await store.getMeta<Record<string, unknown>>('sync'))!;
    assert.equal([sync.inventory, sync.applied, sync.lastApplied], [undefined, undefined, head]);
    assert.equal(syncer.status().inventory, [keys[0]]);
    assert.equal(syncer.status().objects.map((o) => [o.key, o.revision]), [[keys[0], old]]);
  } finally {
    await syncer.stop();
    await store.close();
    repo.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a commit that changes nothing the load reads is not loaded again; one that changes a tree it read outside --path is', async () => {
  const deploy = `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 0\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n        - name: web\n          image: git:apps/web\n          command: [node, server.js]\n`;
  const repo = makeRepo({ 'deploy/web.yaml': deploy, 'deploy/cm.yaml': cm('a'), 'apps/web/server.js': 'v1\n', 'README.md': 'one\n' });
  const dataDir = mkdtempSync(path.join(tmpdir(), 'convergit-syncer-'));
  const store = await openStore(dataDir);
  const source = new GitSource({ repo: repo.dir, branch: 'main', path: 'deploy', dataDir, interval: 0 });
  await source.prepare();
  const syncer = new Syncer(source, store, { repository: repo.dir, branch: 'main', path: 'deploy' });
  const image = async () => (await store.get('Deployment', 'default', 'web'))!.spec.template.spec.containers[0].image as string;
  const applied = (sha: string) => until(() => syncer.status().lastAppliedRevision === sha && syncer.state === 'synced', `${sha.slice(0, 7)} applied`, 30_000);
  try {
    await syncer.start();
    await applied(repo.git('rev-parse', 'HEAD'));
    const first = await image();
    assert.match(first, /^git:apps\/web@[0-9a-f]{40}$/);

    repo.write('README.md', 'two\n');
    await applied(repo.commit('readme'));
    assert.is(syncer.stats.loadsReused, 1, 'nothing the load reads changed');
    assert.is(await image(), first);

    // The image's tree is outside --path: the load read it, so a change there is a change of the revision.
    repo.write('apps/web/server.js', 'v2\n');
    await applied(repo.commit('new code'));
    assert.is(syncer.stats.loadsReused, 1, 'loaded again');
    assert.not.equal(await image(), first, 'the image is pinned to the new tree');

    repo.write('deploy/cm.yaml', cm('b'));
    await applied(repo.commit('a manifest'));
    assert.is(syncer.stats.loadsReused, 1);
    assert.equal((await store.list('ConfigMap')).map((o) => o.metadata.name), ['b']);
  } finally {
    await syncer.stop();
    await store.close();
    repo.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('after a restart that finds its revision applied, the next commit reads, loads and pairs only what it changed', async () => {
  const files: Record<string, string> = {};
  for (let i = 0; i < 40; i++) files[`deploy/cm-${i}.yaml`] = cm(`cm-${i}`);
  const repo = makeRepo(files);
  const dataDir = mkdtempSync(path.join(tmpdir(), 'convergit-syncer-'));
  const run = async (check: (s: { source: GitSource; syncer: Syncer; store: Store }) => Promise<void>) => {
    const store = await openStore(dataDir);
    const source = new GitSource({ repo: repo.dir, branch: 'main', path: 'deploy', dataDir, interval: 0 });
    await source.prepare();
    const syncer = new Syncer(source, store, { repository: repo.dir, branch: 'main', path: 'deploy' });
    try {
      await syncer.start();
      await check({ source, syncer, store });
    } finally {
      await syncer.stop();
      await store.close();
    }
  };
  const applied = (syncer: Syncer, sha: string) => until(() => syncer.status().lastAppliedRevision === sha && syncer.state === 'synced', `${sha.slice(0, 7)} applied`, 30_000);
  const valueOf = async (store: Store, name: string) => ((await store.get('ConfigMap', 'default', name))!.data as Record<string, string>).k;
  try {
    await run(async ({ syncer }) => { await applied(syncer, repo.git('rev-parse', 'HEAD')); });
    await run(async ({ source, syncer, store }) => {
      const rv = (await store.get('ConfigMap', 'default', 'cm-3'))!.metadata.resourceVersion;
      assert.is(await syncer.firstOutcome(), 'synced', 'up to date at once');
      // Committed while the applied revision is read, loaded and planned in the background (nothing to do, nothing
      // applied): the commit's pass waits for that, then reads one blob and pairs one key.
      repo.write('deploy/cm-7.yaml', cm('cm-7').replace('k: v', 'k: w'));
      await applied(syncer, repo.commit('one file'));
      assert.is(source.stats.blobsRead, 40 + 1, 'the applied revision read once, then only the changed blob');
      assert.is(syncer.stats.plansIncremental, 1, 'a plan of changed keys');
      assert.is(syncer.stats.keysPlanned, 40 + 1, 'every key paired once by the primed plan, then only the changed one');
      assert.is(await valueOf(store, 'cm-7'), 'w');
      assert.is((await store.get('ConfigMap', 'default', 'cm-3'))!.metadata.resourceVersion, rv, 'the others untouched');
    });
    // Live objects that differ from git (written while it was stopped, as a crash mid-apply leaves them): the
    // primed plan has steps, so it is no base; the next commit pairs every key and puts them right.
    const store = await openStore(dataDir);
    const cur = (await store.get('ConfigMap', 'default', 'cm-5'))!;
    await store.update({ ...cur, data: { k: 'drifted' } });
    await store.close();
    await run(async ({ source, syncer, store }) => {
      await until(() => source.stats.blobsRead === 40 && syncer.stats.keysPlanned === 40, 'the applied revision primed');
      const incremental = syncer.stats.plansIncremental;
      repo.write('deploy/cm-8.yaml', cm('cm-8').replace('k: v', 'k: w'));
      await applied(syncer, repo.commit('another file'));
      assert.is(syncer.stats.plansIncremental, incremental, 'a full plan');
      assert.is(await valueOf(store, 'cm-5'), 'v', 'the drift put right');
      assert.is(await valueOf(store, 'cm-8'), 'w');
    });
  } finally {
    repo.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a plan pairs only the keys changed in git or in the store since the last one applied, and leaves what a full plan would, over random edits and drift', async () => {
  const cmv = (name: string, v: number) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  k: "${v}"\n`;
  const names = Array.from({ length: 12 }, (_, i) => `c${i}`);
  const repo = makeRepo({ ...Object.fromEntries(names.map((n) => [`deploy/${n}.yaml`, cmv(n, 0)])), 'README.md': '0\n' });
  const dataDir = mkdtempSync(path.join(tmpdir(), 'convergit-syncer-'));
  const store = await openStore(dataDir);
  const source = new GitSource({ repo: repo.dir, branch: 'main', path: 'deploy', dataDir, interval: 0 });
  await source.prepare();
  const syncer = new Syncer(source, store, { repository: repo.dir, branch: 'main', path: 'deploy' });
  let seed = 11;
  const next = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff; };
  const present = new Set(names);
  const applied = (sha: string) => until(() => syncer.status().lastAppliedRevision === sha && syncer.state === 'synced', `${sha.slice(0, 7)} applied`, 30_000);
  try {
    await syncer.start();
    await applied(repo.git('rev-parse', 'HEAD'));
    /** Applied, and what a full plan of this revision says then: nothing left to do, and the same keys owned. */
    const converged = async (sha: string, step: string) => {
      await applied(sha);
      const desired = (await loadDesired(await source.read(sha), source, { root: 'deploy' })).objects.map((d) => d.object);
      const all = (await Promise.all(gitKinds().map((k) => store.list(k, { shared: true })))).flat();
      const full = makePlan({ desired, live: all, inventory: Object.keys((await store.getMeta<Record<string, string>>('inventory')) ?? {}) });
      assert.equal(full.steps.map((s) => `${s.action} ${s.key}`), [], `step ${step}: converged as a full plan would leave it`);
      assert.equal(syncer.status().inventory, full.inventory, `step ${step}: the inventory`);
      const ours = (await store.list('ConfigMap')).map((o) => o.metadata.name).filter((n) => !n.startsWith('by-hand-') || present.has(n));
      assert.equal(ours.sort(), [...present].sort(), `step ${step}: the ConfigMaps git has`);
    };
    for (let step = 0; step < 36; step++) {
      const n = names[Math.floor(next() * names.length)], roll = next();
      // Drift first, sometimes: the store changed or emptied behind git's back (a commit applies git again).
      const live = await store.get('ConfigMap', 'default', n);
      if (live && roll < 0.3) await store.update({ ...live, data: { k: 'drift' } });
      else if (live && roll < 0.4) await store.delete('ConfigMap', 'default', n);
      const what = next();
      if (what < 0.4) repo.write('README.md', `${step}\n`);
      else if (what < 0.55 || !present.has(n)) { repo.write(`deploy/${n}.yaml`, cmv(n, step)); present.add(n); }
      else if (what < 0.7) {
        // Two files at once: another edited, or one gone and another come (as many objects, other keys).
        const other = names.find((m) => !present.has(m));
        if (other && next() < 0.5) { repo.remove(`deploy/${n}.yaml`); present.delete(n); repo.write(`deploy/${other}.yaml`, cmv(other, step)); present.add(other); }
        else { repo.write(`deploy/${n}.yaml`, cmv(n, step + 100)); const m = [...present].find((x) => x !== n); if (m) repo.write(`deploy/${m}.yaml`, cmv(m, step + 200)); }
      }
      else if (present.size > 1) { repo.remove(`deploy/${n}.yaml`); present.delete(n); }
      else repo.write('README.md', `${step}\n`);
      await converged(repo.commit(`step ${step}`), String(step));
    }
    // One object gone and its neighbour come, in one commit: the same number of objects, one place changed.
    for (const n of ['c5', 'c6']) repo.remove(`deploy/${n}.yaml`), present.delete(n);
    repo.write('deploy/c5.yaml', cmv('c5', 1));
    present.add('c5');
    await converged(repo.commit('c5 only'), 'c5 only');
    repo.write('README.md', 'settled\n'); // pairs again what the last apply wrote: the next commit's changes stand alone
    await converged(repo.commit('readme'), 'readme');
    repo.remove('deploy/c5.yaml');
    repo.write('deploy/c6.yaml', cmv('c6', 1));
    present.delete('c5');
    present.add('c6');
    await converged(repo.commit('c6 instead of c5'), 'c6 instead of c5');
    assert.ok(syncer.stats.plansIncremental >= 25, `plans of changed keys only (${syncer.stats.plansIncremental})`);
    // Objects git never had, made behind its back (as controllers make pods, ReplicaSets, endpoints): no key to pair
    // again, and they are not pruned; then one of them committed to git is paired, and updated to git's content.
    repo.write('README.md', 'settle\n'); // pairs again what the last apply wrote
    await converged(repo.commit('settle'), 'settle');
    const incremental = syncer.stats.plansIncremental, before = syncer.stats.keysPlanned;
    for (let i = 0; i < 1100; i++) await store.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `by-hand-${i}`, namespace: 'default' }, data: {} });
    repo.write('README.md', 'many\n');
    await converged(repo.commit('after many'), 'after many');
    assert.is(syncer.stats.plansIncremental, incremental + 1, 'a plan of changed keys');
    assert.is(syncer.stats.keysPlanned - before, 0, 'no key paired for objects git never had');
    assert.is((await store.list('ConfigMap')).length, present.size + 1100, 'objects made by hand are not pruned');
    repo.write('deploy/by-hand-7.yaml', cmv('by-hand-7', 7));
    present.add('by-hand-7');
    await converged(repo.commit('adopt by-hand-7'), 'adopt by-hand-7');
    assert.equal((await store.get('ConfigMap', 'default', 'by-hand-7'))?.data, { k: '7' });
    // Outside the manifests, twice: the first pairs again what the last apply wrote, the second nothing.
    for (const round of [1, 2]) {
      const planned = syncer.stats.keysPlanned;
      repo.write('README.md', `end ${round}\n`);
      await applied(repo.commit(`readme ${round}`));
      if (round === 2) assert.is(syncer.stats.keysPlanned - planned, 0, 'a commit that changes nothing pairs no key');
    }
  } finally {
    await syncer.stop();
    await store.close();
    repo.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test.run();
