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

test.run();
