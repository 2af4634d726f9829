// A sync's read of a new commit asks isomorphic-git for the branch's ref, the commit and its new trees: small files
// read at once (git-fs.ts), not through libuv's pool, where each waited its turn on a busy loop. A packed repository
// (a clone, a gc) is still read through it, and answers the same.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { promises as fsp } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GitSource } from '../../src/source/git-source.ts';
import { makeRepo } from '../support/git-repo.ts';

const cm = (n: string, v: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${n}}\ndata: {v: "${v}"}\n`;

/** The paths read through node's promise readFile while `run` runs. */
async function readsThroughPool(run: () => Promise<void>): Promise<string[]> {
  const readFile = fsp.readFile;
  const seen: string[] = [];
  fsp.readFile = ((...args: Parameters<typeof readFile>) => {
    seen.push(String(args[0]));
    return readFile(...args);
  }) as typeof readFile;
  try {
    await run();
  } finally {
    fsp.readFile = readFile;
  }
  return seen;
}

test('a new commit\'s ref, commit and trees are read at once; a packed repository reads the same', async () => {
  const repo = makeRepo({ 'deploy/a/one.yaml': cm('one', '1'), 'deploy/b/two.yaml': cm('two', '1') });
  try {
    const source = new GitSource({ repo: repo.dir, branch: 'main', path: 'deploy', dataDir: mkdtempSync(path.join(tmpdir(), 'convergit-gitfs-')), interval: 1000 });
    await source.prepare();
    await source.read(await source.head());
    repo.write('deploy/a/one.yaml', cm('one', '2'));
    const sha = repo.commit('change one');
    let files: string[] = [];
    const reads = await readsThroughPool(async () => {
      const head = await source.head();
      assert.is(head, sha);
      files = (await source.read(head)).files.map((f) => `${f.path} ${f.content}`);
    });
    assert.equal(reads.filter((p) => p.includes('/objects/') || p.includes('/refs/') || p.endsWith('packed-refs')), [], 'no ref or loose object through the pool');
    assert.equal(files, [`deploy/a/one.yaml ${cm('one', '2')}`, `deploy/b/two.yaml ${cm('two', '1')}`]);

    // Packed (and the refs too): the same answer, from a source that never read it loose.
    repo.git('gc', '--quiet');
    const packed = new GitSource({ repo: repo.dir, branch: 'main', path: 'deploy', dataDir: mkdtempSync(path.join(tmpdir(), 'convergit-gitfs-')), interval: 1000 });
    await packed.prepare();
    assert.is(await packed.head(), sha);
    assert.equal((await packed.read(sha)).files.map((f) => `${f.path} ${f.content}`), files);
  } finally {
    repo.cleanup();
  }
});

test.run();
