// Blobs read from real packs written by git (src/source/pack-object.ts): whole objects, OFS_DELTA and REF_DELTA
// chains, several packs, and what a damaged pack, a missing object or a tree give. And the source reads a packed
// revision (a clone) the same as a loose one.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeRepo, type TestRepo } from '../support/git-repo.ts';
import { Packs, PackError } from '../../src/source/pack-object.ts';
import { damage, sourceError, sourceFor } from './helpers.ts';

/** Files alike enough for git to store most as deltas of one another, over `commits` commits. */
function similarRepo(commits = 3): TestRepo {
  const body = (i: number, c: number) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-${i}\ndata:\n${Array.from({ length: 40 }, (_, k) => `  key${k}: "value ${k} of ${i} at ${c}"\n`).join('')}`;
  const repo = makeRepo(Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`deploy/cm-${i}.yaml`, body(i, 0)])));
  for (let c = 1; c < commits; c++) {
    for (let i = 0; i < 30; i += 2) repo.write(`deploy/cm-${i}.yaml`, body(i, c));
    repo.commit(`commit ${c}`);
  }
  repo.write('big.yaml', `data: "${'x'.repeat(200_000)}"\n`); // a size past 2^14: a header of three bytes
  // Incompressible, 2.4 MB in all, over the reader's 1 MiB windows: objects straddle them.
  for (let i = 0; i < 6; i++) repo.write(`noise-${i}.yaml`, `data: "${randomBytes(300_000).toString('base64')}"\n`);
  repo.commit('big');
  return repo;
}

/** Runs `fn` on a similarRepo of `commits` commits, gc'd into one pack (its git folder beside it); removed after. */
function packedRepo(commits: number, fn: (repo: TestRepo, gitdir: string) => void): void {
  const repo = similarRepo(commits);
  try {
    repo.git('gc', '--quiet');
    fn(repo, join(repo.dir, '.git'));
  } finally {
    repo.cleanup();
  }
}

/** Every blob of the repository: oid → content as git itself gives it (one `cat-file --batch` for all). */
function allBlobs(repo: TestRepo): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const all = execFileSync('git', ['cat-file', '--batch-all-objects', '--batch=%(objectname) %(objecttype) %(objectsize)'], { cwd: repo.dir, maxBuffer: 64 << 20 });
  for (let p = 0; p < all.length;) {
    const eol = all.indexOf(10, p);
    const [oid, type, size] = all.toString('latin1', p, eol).split(' ');
    const content = all.subarray(eol + 1, eol + 1 + Number(size));
    if (type === 'blob') out.set(oid, Buffer.from(content));
    p = eol + 1 + Number(size) + 1;
  }
  return out;
}

/** The pack's objects by kind, as `git verify-pack -v` lists them. */
function deltas(repo: TestRepo): number {
  const pack = readdirSync(join(repo.dir, '.git/objects/pack')).find((n) => n.endsWith('.idx'))!;
  return repo.git('verify-pack', '-v', join('.git/objects/pack', pack)).split('\n').filter((l) => /^[0-9a-f]{40} blob +\d+ \d+ \d+ \d+ [0-9a-f]{40}$/.test(l)).length;
}

function readsAll(repo: TestRepo, what: string): void {
  const blobs = allBlobs(repo);
  assert.ok(blobs.size > 30, `${what}: ${blobs.size} blobs`);
  const packs = new Packs(join(repo.dir, '.git'));
  try {
    for (const [oid, content] of blobs) {
      const got = packs.readBlob(oid);
      assert.ok(got, `${what}: ${oid} not found`);
      assert.ok(Buffer.from(got).equals(content), `${what}: ${oid}`);
    }
  } finally {
    packs.close();
  }
}

test('whole objects and OFS_DELTA chains (git gc, then a deep repack): every blob as git reads it', () => packedRepo(3, (repo) => {
  assert.ok(deltas(repo) > 10, 'git stored deltas: the test reads them');
  readsAll(repo, 'gc');
  repo.git('repack', '-a', '-d', '-f', '--depth=50', '--window=50', '--quiet');
  readsAll(repo, 'deep repack');
}));

test('REF_DELTA (repack.useDeltaBaseOffset false), and objects spread over several packs', () => packedRepo(3, (repo, gitdir) => {
  repo.git('config', 'repack.useDeltaBaseOffset', 'false');
  repo.git('repack', '-a', '-d', '-f', '--quiet'); // its deltas made anew
  assert.ok(deltas(repo) > 10);
  readsAll(repo, 'ref deltas');
  repo.write('later.yaml', 'later: 1\n');
  repo.commit('later');
  repo.git('repack', '-d', '--quiet'); // a second pack of the loose objects alone
  assert.is(readdirSync(join(gitdir, 'objects/pack')).filter((n) => n.endsWith('.pack')).length, 2);
  readsAll(repo, 'two packs');
}));

test('an index with its offsets in the 64-bit table reads the same; one of version 1 is left to isomorphic-git (undefined)', () => packedRepo(2, (repo, gitdir) => {
  const dir = join(gitdir, 'objects/pack');
  const name = readdirSync(dir).find((n) => n.endsWith('.pack'))!.slice(0, -5);
  /** The pack's index written again by git, of `version` (index-pack's --index-version). */
  const reindex = (version: string) => {
    repo.git('index-pack', `--index-version=${version}`, '-o', join(dir, `${name}.idx.new`), join(dir, `${name}.pack`));
    renameSync(join(dir, `${name}.idx.new`), join(dir, `${name}.idx`));
  };
  // 2,<offset>: objects past <offset> go to the 64-bit table (git refuses an index with every object there).
  reindex('2,1000');
  readsAll(repo, '64-bit offsets');
  reindex('1');
  const packs = new Packs(gitdir);
  assert.is(packs.readBlob(repo.git('rev-parse', 'HEAD:big.yaml')), undefined);
  packs.close();
}));

test('a closed Packs reads nothing (a read still under way after its read ended reopens no pack); a cut index is damaged', () => packedRepo(1, (repo, gitdir) => {
  const blob = repo.git('rev-parse', 'HEAD:big.yaml');
  const packs = new Packs(gitdir);
  assert.ok(packs.readBlob(blob));
  packs.close();
  assert.is(packs.readBlob(blob), undefined);
  const dir = join(gitdir, 'objects/pack');
  const idx = join(dir, readdirSync(dir).find((n) => n.endsWith('.idx'))!);
  writeFileSync(idx, readFileSync(idx).subarray(0, 2000));
  const cut = new Packs(gitdir);
  assert.throws(() => cut.readBlob(blob), (e: Error) => e instanceof PackError && /index of pack-[0-9a-f]+ is cut short/.test(e.message));
  cut.close();
}));

test('a missing object is undefined; a tree is refused as not a blob; a damaged copy is refused naming the pack, unless another pack has a good one', () => packedRepo(1, (repo, gitdir) => {
  const packs = new Packs(gitdir);
  assert.is(packs.readBlob('0'.repeat(40)), undefined);
  const tree = repo.git('rev-parse', 'HEAD:deploy');
  assert.throws(() => packs.readBlob(tree), (e: Error) => e instanceof PackError && /is a tree, not a blob/.test(e.message));
  packs.close();

  // A second pack with a good copy of a blob (from a fresh repository with the same file); the copy in the pack our
  // reader tries first is damaged: the other is read. Without the other, the damage is said, naming the pack.
  const blob = repo.git('rev-parse', 'HEAD:big.yaml');
  const other = similarRepo(1);
  try {
    execFileSync('git', ['pack-objects', '--quiet', join(gitdir, 'objects/pack/pack')], { cwd: other.dir, input: `${blob}\n` });
  } finally {
    other.cleanup();
  }
  const [first, second] = readdirSync(join(gitdir, 'objects/pack')).filter((n) => n.endsWith('.pack')).map((n) => n.slice(0, -5)).sort();
  damage(repo, blob, first);
  const both = new Packs(gitdir);
  assert.is(Buffer.from(both.readBlob(blob)!).toString(), `data: "${'x'.repeat(200_000)}"\n`);
  both.close();
  for (const ext of ['pack', 'idx']) rmSync(join(gitdir, `objects/pack/${second}.${ext}`), { force: true });
  const damaged = new Packs(gitdir);
  assert.throws(() => damaged.readBlob(blob), (e: Error) => e instanceof PackError && e.message.includes(first));
  damaged.close();
}));

test('the source reads a packed revision as git does, and names a damaged packed blob with its path', async () => {
  const repo = similarRepo();
  try {
    const sha = repo.git('rev-parse', 'HEAD');
    const loose = await sourceFor(repo.dir).read(sha);
    repo.git('gc', '--quiet');
    const packed = await sourceFor(repo.dir).read(sha);
    assert.equal(packed.files.map((f) => [f.path, f.oid, f.content]), loose.files.map((f) => [f.path, f.oid, f.content]));

    // The packed blob moved into a folder of a new commit: the commit and its trees are loose (isomorphic-git, which
    // reads them, would stop at the damaged pack first), the blob is read from the pack.
    const blob = repo.git('rev-parse', 'HEAD:big.yaml');
    mkdirSync(join(repo.work, 'top'));
    repo.git('mv', 'big.yaml', 'top/big.yaml');
    const moved = repo.commit('moved');
    damage(repo, blob);
    const e = await sourceError(() => sourceFor(repo.dir, { path: 'top' }).read(moved));
    assert.is(e.reason, 'CorruptObject');
    assert.match(e.message, `cannot read blob ${blob} at 'top/big.yaml'`, e.message);
    // A good loose copy beside the damaged packed one is read, as git reads it.
    const content = `data: "${'x'.repeat(200_000)}"\n`;
    mkdirSync(join(repo.dir, '.git/objects', blob.slice(0, 2)), { recursive: true });
    writeFileSync(join(repo.dir, '.git/objects', blob.slice(0, 2), blob.slice(2)), deflateSync(Buffer.from(`blob ${content.length}\0${content}`)));
    const read = await sourceFor(repo.dir, { path: 'top' }).read(moved);
    assert.is(read.files.find((f) => f.path === 'top/big.yaml')?.content, content);
  } finally {
    repo.cleanup();
  }
});

test.run();
