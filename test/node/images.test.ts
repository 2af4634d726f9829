import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ImageCache, type GitImage } from '../../src/node/images.ts';
import { exportTree } from '../../src/source/export-tree.ts';
import { makeRepo } from '../support/git-repo.ts';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
let dataDir = '';
test.before.each(async () => { dataDir = await mkdtemp(join(tmpdir(), 'convergit-images-')); });
test.after.each(async () => { await rm(dataDir, { recursive: true, force: true }); });

/** A cache whose pull writes `<oid>.txt`, counts calls, and can be held open or made to fail. */
function cache(opts: { fail?: string; gate?: Promise<void> } = {}) {
  const pulls: GitImage[] = [];
  const images = new ImageCache({
    dataDir,
    pull: async (ref, dest) => {
      pulls.push(ref);
      await writeFile(join(dest, 'half.txt'), 'written before the failure or the wait');
      await opts.gate;
      if (opts.fail) throw new Error(opts.fail);
      await writeFile(join(dest, `${ref.oid}.txt`), ref.dir);
    },
  });
  return { images, pulls };
}

test('parse reads git:<dir>@<oid> and nothing else', () => {
  const { images } = cache();
  assert.equal(images.parse(`git:apps/web@${A}`), { dir: 'apps/web', oid: A });
  assert.equal(images.parse(`git:@${A}`), { dir: '', oid: A });
  assert.is(images.parse('nginx:1.27'), undefined);
  assert.is(images.parse('git:apps/web'), undefined, 'not yet pinned to a tree');
  assert.is(images.parse(`git:apps/web@${A.slice(1)}`), undefined);
  assert.is(images.parse(`git:apps/web@${A.toUpperCase()}`), undefined);
});

test('ensure pulls once into images/<oid>; the same tree from another folder is the same image', async () => {
  const { images, pulls } = cache();
  const dir = await images.ensure(`git:apps/web@${A}`);
  assert.is(dir, join(dataDir, 'images', A));
  assert.is(readFileSync(join(dir, `${A}.txt`), 'utf8'), 'apps/web');
  assert.is(await images.ensure(`git:apps/web@${A}`), dir);
  assert.is(await images.ensure(`git:copy/of/web@${A}`), dir);
  assert.is(pulls.length, 1);
  assert.is(await cache().images.ensure(`git:apps/web@${A}`), dir, 'found again after a restart');
});

test('concurrent ensure calls share one pull', async () => {
  let open!: () => void;
  const { images, pulls } = cache({ gate: new Promise<void>((r) => { open = r; }) });
  const all = Promise.all([images.ensure(`git:x@${A}`), images.ensure(`git:x@${A}`), images.ensure(`git:y@${A}`)]);
  open();
  const dirs = await all;
  assert.equal(new Set(dirs).size, 1);
  assert.is(pulls.length, 1);
});

test('a failed pull names the image, leaves nothing behind, and is retried next time', async () => {
  const failing = cache({ fail: 'tree not found' });
  try {
    await failing.images.ensure(`git:apps/web@${A}`);
    assert.unreachable('should reject');
  } catch (e) {
    assert.is((e as Error).message, `Failed to pull image "git:apps/web@${A}": tree not found`);
  }
  assert.equal(readdirSync(join(dataDir, 'images')), ['package.json'], 'no half image, no temp folder: only the boundary');
  const { images, pulls } = cache();
  await images.ensure(`git:apps/web@${A}`);
  assert.is(pulls.length, 1);
  try {
    await images.ensure('nginx:1.27');
    assert.unreachable('should reject');
  } catch (e) {
    assert.match((e as Error).message, 'Failed to pull image "nginx:1.27": not a git image');
  }
});

test('gc removes unused images and stale partial pulls, keeps used ones and pulls in progress', async () => {
  let open!: () => void;
  const { images } = cache();
  await images.ensure(`git:a@${A}`);
  await images.ensure(`git:b@${B}`);
  const stale = join(dataDir, 'images', `.pull-${'c'.repeat(40)}-XYZ123`);
  await mkdir(stale);
  const slow = cache({ gate: new Promise<void>((r) => { open = r; }) });
  const pending = slow.images.ensure(`git:d@${'d'.repeat(40)}`);
  assert.equal(await slow.images.gc([`git:a@${A}`, 'nginx:1.27']), [B]);
  assert.ok(existsSync(join(dataDir, 'images', A)));
  assert.not.ok(existsSync(join(dataDir, 'images', B)));
  assert.not.ok(existsSync(stale));
  open();
  assert.ok(existsSync(join(await pending, `${'d'.repeat(40)}.txt`)), 'the pull in progress was left alone');
  assert.equal(await images.gc([]), [A, 'd'.repeat(40)]);
  assert.equal(await cache().images.gc([]), [], 'nothing left, and no images folder is fine too');
});

test('collect: asks from many finished pods share collections, each reading what is in use when it runs', async () => {
  const { images } = cache();
  await images.ensure(`git:a@${A}`);
  await images.ensure(`git:b@${B}`);
  let reads = 0;
  let inUse = [`git:a@${A}`, `git:b@${B}`];
  const read = async () => { reads++; return inUse; };
  const first = images.collect(read);
  inUse = [`git:a@${A}`]; // B's last pod finished while the first collection ran
  const asks = Array.from({ length: 20 }, () => images.collect(read));
  await first;
  assert.ok(existsSync(join(dataDir, 'images', B)), 'the first collection read B as in use');
  await Promise.all(asks);
  assert.is(reads, 2, 'twenty asks during a collection: one more collection');
  assert.not.ok(existsSync(join(dataDir, 'images', B)), 'removed by the collection after it');
  assert.ok(existsSync(join(dataDir, 'images', A)));
  await images.collect(async () => { throw new Error('store closed'); }).then(() => assert.unreachable('should fail'), (e) => assert.match((e as Error).message, 'store closed'));
});

test('wired to exportTree, a git image is the folder tree of the commit', async () => {
  const repo = makeRepo({ 'apps/web/run.sh': '#!/bin/sh\necho hi\n', 'apps/web/lib/x.txt': 'x' });
  try {
    chmodSync(join(repo.work, 'apps/web/run.sh'), 0o755);
    const sha = repo.commit('exec bit');
    const gitdir = join(repo.dir, '.git');
    const oid = repo.git('rev-parse', `${sha}:apps/web`);
    const images = new ImageCache({ dataDir, pull: (ref, dest) => exportTree({ gitdir, oid: ref.oid, dest }) });
    const dir = await images.ensure(`git:apps/web@${oid}`);
    assert.is(readFileSync(join(dir, 'lib/x.txt'), 'utf8'), 'x');
    assert.is(statSync(join(dir, 'run.sh')).mode & 0o111, 0o111);
    const missing = images.ensure(`git:apps/web@${'e'.repeat(40)}`);
    try {
      await missing;
      assert.unreachable('should reject');
    } catch (e) {
      assert.match((e as Error).message, /^Failed to pull image "git:apps\/web@e{40}": cannot read tree e{40}/);
    }
  } finally {
    repo.cleanup();
  }
});

test('a CommonJS app in an image runs even when the data folder sits inside an ES module project', async () => {
  // As `npm start` does: .convergit/ inside this repository, whose package.json says "type": "module".
  await writeFile(join(dataDir, 'package.json'), '{ "type": "module" }\n');
  const images = new ImageCache({
    dataDir: join(dataDir, '.convergit'),
    pull: async (_ref, dest) => writeFile(join(dest, 'server.js'), "const os = require('node:os'); console.log(typeof os.hostname());\n"),
  });
  const dir = await images.ensure(`git:apps/web@${A}`);
  assert.is(execFileSync(process.execPath, ['server.js'], { cwd: dir, encoding: 'utf8' }).trim(), 'string');
  assert.equal(await images.gc([]), [A], 'the boundary file is not an image');
  assert.ok(existsSync(join(dataDir, '.convergit', 'images', 'package.json')));
});

test.run();
