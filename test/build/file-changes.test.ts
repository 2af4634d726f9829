// A sync's build of plain files (no kustomization, no .sourceignore of its own) is made from its last one by the
// files that changed (told by identity, as the source hands over an unchanged file as the same object), and must be
// the build a fresh builder makes, over random edits.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildManifests } from '../../src/build/build-manifests.ts';
import { Builder } from '../../src/build/builder.ts';
import { fileChanges, withChanges } from '../../src/model/file-changes.ts';
import type { ManifestFile } from '../../src/manifests/types.ts';
import { DirectoryTree } from './directory-tree.ts';

/** A folder standing for the tree above --path, removed once `fn` is done. */
async function inTree(fn: (dir: string, tree: DirectoryTree) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'convergit-file-changes-'));
  try {
    await fn(dir, new DirectoryTree(dir));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function rng(seed: number) {
  return () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff; };
}

test('changes by identity, and a list with them, as a whole comparison gives', () => {
  const next = rng(7);
  let list: { path: string; v: number }[] = [];
  for (let step = 0; step < 300; step++) {
    const map = new Map(list.map((f) => [f.path, f]));
    for (let k = Math.floor(next() * 4); k >= 0; k--) {
      const p = `d${Math.floor(next() * 6)}/f${Math.floor(next() * 9)}`;
      if (next() < 0.3) map.delete(p);
      else map.set(p, { path: p, v: step });
    }
    const now = [...map.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
    const changes = fileChanges(list, now, 1000)!;
    const gone = changes.gone.map((i) => list[i]), come = changes.come.map((j) => now[j]);
    assert.equal(gone, list.filter((f) => !now.includes(f)), `step ${step}: gone`);
    assert.equal(come, now.filter((f) => !list.includes(f)), `step ${step}: come`);
    assert.equal(withChanges(list, gone, come), now, `step ${step}: applied`);
    list = now;
  }
  assert.is(fileChanges([], [{ path: 'b' }, { path: 'a' }], 10), undefined, 'out of order');
  assert.is(fileChanges([], Array.from({ length: 20 }, (_, i) => ({ path: `p${String(i).padStart(2, '0')}` })), 10), undefined, 'more than asked');
});

test('a build made from the last one equals a fresh build after every random edit', () => inTree(async (dir, tree) => {
  mkdirSync(path.join(dir, 'apps'));
  // Plain manifests, files Flux's defaults exclude, a file the source could not read, and now and then a .sourceignore
  // (in the tree above --path, or among the files): those builds are whole ones.
  const names = ['a/one.yaml', 'a/two.yml', 'b/three.yaml', 'b/.github/ci.yaml', 'cloudbuild.yaml', 'c/x.sops.yaml', 'c/.sops.yaml', 'd/e/four.yaml', 'd/five.YAML'];
  const content = (n: string, v: number) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c${v}}\n# ${n}\n`;
  for (const seed of [1, 2, 3]) {
    const next = rng(seed);
    const shared = new Builder();
    const files = new Map<string, ManifestFile>();
    for (let step = 0; step < 80; step++) {
      for (let k = Math.floor(next() * 3); k >= 0; k--) {
        const p = next() < 0.05 ? 'apps/.sourceignore' : `apps/${names[Math.floor(next() * names.length)]}`;
        const roll = next();
        // A .sourceignore goes again soon: the builds after it can be made from the last one again.
        if (roll > 0.75 || (p.endsWith('.sourceignore') && files.has(p))) files.delete(p);
        else if (roll > 0.7) files.set(p, { path: p, content: '', problem: { line: 1, column: 1, message: 'not UTF-8' } });
        else files.set(p, { path: p, content: p.endsWith('.sourceignore') ? 'b/\n' : content(p, step) });
      }
      if (next() < 0.05) writeFileSync(path.join(dir, '.sourceignore'), next() < 0.5 ? 'apps/d/\n' : '# nothing\n');
      const list = [...files.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
      const got = await buildManifests(list, tree, { root: 'apps', builder: shared });
      const fresh = await buildManifests(list.map((f) => ({ ...f })), tree, { root: 'apps', builder: new Builder() });
      const show = (r: typeof got) => JSON.stringify({ files: r.files.map((f) => [f.path, f.content, f.problem]), issues: r.issues, built: r.built.length });
      assert.is(show(got), show(fresh), `seed ${seed}, step ${step}`);
    }
    assert.ok(shared.stats.fromLast > 20, `seed ${seed}: ${shared.stats.fromLast} of 80 builds made from the last one`);
  }
}));

test('a .sourceignore above --path that comes or changes is read again, the files unchanged', () => inTree(async (dir, tree) => {
  const builder = new Builder();
  const files: ManifestFile[] = ['apps/a/x.yaml', 'apps/d/y.yaml'].map((p) => ({ path: p, content: 'kind: ConfigMap\n' }));
  assert.equal((await buildManifests(files, tree, { root: 'apps', builder })).files.map((f) => f.path), ['apps/a/x.yaml', 'apps/d/y.yaml']);
  writeFileSync(path.join(dir, '.sourceignore'), 'apps/d/\n');
  assert.equal((await buildManifests(files, tree, { root: 'apps', builder })).files.map((f) => f.path), ['apps/a/x.yaml']);
  writeFileSync(path.join(dir, '.sourceignore'), '# nothing\n');
  assert.equal((await buildManifests(files, tree, { root: 'apps', builder })).files.map((f) => f.path), ['apps/a/x.yaml', 'apps/d/y.yaml']);
}));

test('the same path twice: no build is made from it', () => inTree(async (_dir, tree) => {
  const builder = new Builder();
  const a = { path: 'apps/a.yaml', content: 'kind: ConfigMap\n' }, b = { path: 'apps/b.yaml', content: 'kind: ConfigMap\n' };
  await buildManifests([a, b, { ...b }], tree, { root: 'apps', builder });
  assert.equal((await buildManifests([a, b], tree, { root: 'apps', builder })).files, [a, b]);
  assert.is(builder.stats.fromLast, 0);
}));

test.run();
