// The inventory (what git owns, what a plan may prune) is its own record, patched by entry, and claimed before the
// objects it covers are written. A Syncer killed -9 in the middle of applying leaves a data folder where every
// object git created is in the inventory (so a later revision can prune it) and nothing else is: a restart keeps
// the inventory, and the next revision prunes exactly git's objects, never one made by hand.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeRepo } from '../support/git-repo.ts';
import { until } from '../support/wait.ts';
import { GitSource } from '../../src/source/git-source.ts';
import { openStore } from '../../src/store/lowdb-store.ts';
import { INVENTORY_KEY, Syncer } from '../../src/sync/syncer.ts';

const CHILD = new URL('./crash-syncer.ts', import.meta.url).pathname;
const TRIALS = Number(process.env.INVENTORY_CRASH_TRIALS ?? 3);
const cm = (name: string, v = 0) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  v: "${v}"\n`;

/** Runs the syncer child until it is applying, then after `pauseMs` kills it. */
function killWhileApplying(repo: string, dataDir: string, pauseMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, repo, dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '', armed = false;
    child.stdout.on('data', (d) => {
      out += d;
      if (!armed && out.includes('applying\n')) {
        armed = true;
        setTimeout(() => child.kill('SIGKILL'), pauseMs);
      }
    });
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`syncer ended with ${code}: ${err}\n${out}`))));
  });
}

test(`kill -9 while applying (${TRIALS} trials): every object git created is in the inventory; the next revision prunes them all and nothing else`, async () => {
  let withObjects = 0;
  // A loaded machine may reach the kill before the apply wrote anything: the pauses grow after such a trial, and
  // trials go on (a few at most) until one has killed an apply that had written objects.
  let scale = 1;
  for (let t = 0; t < TRIALS || (withObjects === 0 && t < TRIALS + 6); t++) {
    const files: Record<string, string> = {};
    for (let i = 0; i < 150; i++) files[`cm-${i}.yaml`] = cm(`cm-${i}`);
    const repo = makeRepo(files);
    const dataDir = mkdtempSync(path.join(tmpdir(), 'convergit-inventory-crash-'));
    try {
      // Made by hand before git ever synced: git does not own it, whatever happens.
      const first = await openStore(dataDir);
      await first.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'by-hand', namespace: 'default' }, data: {} });
      await first.close();
      await killWhileApplying(repo.dir, dataDir, scale * ([20, 60, 120][t % 3] + Math.floor(Math.random() * 20)));

      const store = await openStore(dataDir);
      const inventory = Object.keys((await store.getMeta<Record<string, string>>(INVENTORY_KEY)) ?? {});
      const created = (await store.list('ConfigMap')).map((o) => o.metadata.name).filter((n) => n !== 'by-hand');
      if (created.length) withObjects++;
      else scale *= 2;
      for (const name of created) assert.ok(inventory.includes(`v1/ConfigMap/default/${name}`), `trial ${t}: ${name} was created but is not in the inventory`);
      assert.not.ok(inventory.includes('v1/ConfigMap/default/by-hand'), `trial ${t}: the hand-made ConfigMap is in the inventory`);

      // The next revision keeps one of git's objects: the restarted syncer prunes the rest, and leaves by-hand alone.
      for (let i = 1; i < 150; i++) repo.remove(`cm-${i}.yaml`);
      const next = repo.commit('keep cm-0 only');
      const source = new GitSource({ repo: repo.dir, branch: 'main', path: '', dataDir, interval: 0 });
      await source.prepare();
      const syncer = new Syncer(source, store, { repository: repo.dir, branch: 'main', path: '' });
      await syncer.start();
      try {
        await until(() => syncer.status().lastAppliedRevision === next && syncer.state === 'synced', `trial ${t}: the next revision applied`, 30_000);
        assert.equal((await store.list('ConfigMap')).map((o) => o.metadata.name).sort(), ['by-hand', 'cm-0']);
        assert.equal(Object.keys((await store.getMeta<Record<string, string>>(INVENTORY_KEY))!), ['v1/ConfigMap/default/cm-0']);
      } finally {
        await syncer.stop();
        await store.close();
      }
    } finally {
      repo.cleanup();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  assert.ok(withObjects > 0, 'every kill came before the apply had written an object: the test checked nothing');
});

test.run();
