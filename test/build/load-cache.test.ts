// The load cache on disk (src/build/load-cache.ts): a load answered from it, as a new process would (the loader's
// memory emptied, the file read again), gives the very answer a load without it gives, errors and positions
// included; a damaged, foreign or malformed entry is loaded again from its text; the file stays bounded.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DiskLoadCache, unreadBy } from '../../src/build/load-cache.ts';
import { GitSource } from '../../src/source/git-source.ts';
import { clearLoadCache, loadManifests } from '../../src/manifests/load-manifests.ts';
import type { LoadOptions, ManifestFile } from '../../src/manifests/types.ts';
import { makeRepo } from '../support/git-repo.ts';
import { until } from '../support/wait.ts';

const BIN = new URL('../../bin/convergit.js', import.meta.url).pathname;

function rng(seed: number) {
  return () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff; };
}

const VARIANTS = [
  (n: string, v: number) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${n}}\ndata: {v: "${v}"}\n`,
  (n: string, v: number) => `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: ${n}}\nspec:\n  replicas: ${v % 3}\n  selector: {matchLabels: {app: ${n}}}\n  template:\n    metadata: {labels: {app: ${n}}}\n    spec: {containers: [{name: c, image: "nginx:1.${v}", imagePullPolicy: ${v % 4 ? 'Always' : 'Nevr'}}]}\n`,
  (n: string, v: number) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${n}}\ndata: {v: ${v}}\n`, // an error: a number
  (n: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dup}\n`, // duplicates across files
  (n: string, v: number) => `apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Service, metadata: {name: ${n}}, spec: {ports: [{port: ${80 + v}}]}}\n- {apiVersion: v1, kind: ServiceAccount, metadata: {name: ${n}, namespace: nowhere}}\n`,
  (n: string, v: number) => `apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: ${n}}\nspec: {size: ${v}}\n`,
  (n: string, v: number) => `apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: widgets.example.com}\nspec:\n  group: example.com\n  scope: Namespaced\n  names: {plural: widgets, kind: Widget}\n  versions: [{name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object, properties: {spec: {type: object, properties: {size: {type: integer, maximum: ${v % 5}}}}}}}}]\n`,
  (n: string, v: number) => `apiVersion: v1\nkind: Pod\nmetadata: {name: ${n}}\nspec:\n  containers: [{name: c, image: busybox, unknownField${v}: 1}]\n`,
  () => `key: [unclosed\n`,
  (n: string) => `---\n# only a comment\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: ${n}}\nstringData: {a: b}\n`,
];

/** Everything a load answers, positions of the objects' fields included. */
const summary = (r: ReturnType<typeof loadManifests>) => JSON.stringify({
  objects: r.objects.map((o) => [o.file, o.line, o.column, o.object, o.positions.at(['metadata', 'name']), o.positions.at(['spec', 'template', 'spec', 'containers', 0, 'image'])]),
  issues: r.issues,
});

const tmp = () => mkdtempSync(join(tmpdir(), 'convergit-load-cache-'));

/** A load as a new process makes it: nothing in the loader's memory, the cache read from its folder. */
async function loadWith(dir: string, files: ManifestFile[], opts: LoadOptions, fingerprint = 'test') {
  clearLoadCache();
  const cache = await DiskLoadCache.open(dir, { fingerprint });
  const r = loadManifests(files, { ...opts, cache });
  await cache.flush();
  return { r, cache };
}

test('a load from the cache equals a load without it, after every random edit (a new process each time)', async () => {
  for (const seed of [1, 2, 3]) {
    const dir = tmp();
    try {
      const next = rng(seed);
      const files = new Map<string, string>();
      let hits = 0;
      for (let step = 0; step < 40; step++) {
        const path = `app-${Math.floor(next() * 6)}/f${Math.floor(next() * 3)}.yaml`;
        if (next() < 0.15) files.delete(path);
        else files.set(path, VARIANTS[Math.floor(next() * VARIANTS.length)](`o${Math.floor(next() * 5)}`, Math.floor(next() * 10)));
        const list = [...files].map(([p, content], i) => ({ path: p, content, ...(i % 2 ? { oid: `${content.length}-${p}-${content}` } : {}) }));
        const opts: LoadOptions = { strict: next() < 0.2, allowHostPath: [] };
        clearLoadCache();
        const expected = summary(loadManifests(list, opts));
        const first = await loadWith(dir, list, opts);
        assert.is(summary(first.r), expected, `seed ${seed}, step ${step}: filling the cache`);
        const second = await loadWith(dir, list, opts);
        assert.is(summary(second.r), expected, `seed ${seed}, step ${step}: from the cache`);
        assert.is(second.cache.stats.misses, 0, `seed ${seed}, step ${step}: every file was in the cache`);
        hits += second.cache.stats.hits;
      }
      assert.ok(hits > 100, `${hits} files answered from the cache`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});

const FILES: ManifestFile[] = [
  { path: 'a.yaml', content: VARIANTS[1]('web', 0), oid: 'a1' }, // an error: imagePullPolicy
  { path: 'b.yaml', content: VARIANTS[0]('settings', 1), oid: 'b1' },
  { path: 'c.yaml', content: VARIANTS[4]('svc', 2), oid: 'c1' }, // a List with an error
];

test('a damaged line, a torn end and an entry of the wrong shape are loaded again from the text', async () => {
  const dir = tmp();
  try {
    clearLoadCache();
    const expected = summary(loadManifests(FILES, {}));
    const filled = await loadWith(dir, FILES, {});
    assert.is(filled.cache.stats.added, 3);
    const file = join(dir, 'loads.ndjson');
    const [header, a, b, c] = readFileSync(file, 'utf8').split('\n');
    // One byte of a's entry changed (its checksum fails), c's line torn off halfway.
    writeFileSync(file, `${header}\n${a.replace('"web"', '"wob"')}\n${b}\n${c.slice(0, c.length >> 1)}`);
    const damaged = await loadWith(dir, FILES, {});
    assert.is(summary(damaged.r), expected);
    assert.is(damaged.cache.stats.skipped, 2);
    assert.is(damaged.cache.stats.hits, 1, 'b.yaml only');
    assert.is(damaged.cache.stats.added, 2, 'a.yaml and c.yaml stored again');
    // Entries with a good checksum but not what the loader stores: a wrong shape, a verdict naming another file.
    const keyOf = (line: string) => line.split('\t')[1]; // as it is: no tab, line break, quote or backslash in it
    const lines = readFileSync(file, 'utf8').split('\n').slice(1).filter(Boolean);
    const [a2, b2] = ['a.yaml', 'b.yaml'].map((p) => lines.findLast((l) => keyOf(l).includes(`\0${p}\0`))!);
    const bad = await DiskLoadCache.open(dir, { fingerprint: 'test' });
    bad.set(keyOf(a2), { chars: 'many' });
    const stored = JSON.parse(b2.split('\t').slice(2).join('\t'));
    stored.docs[0].verdict.issues = [{ file: 'elsewhere.yaml', line: 1, column: 1, message: 'x', severity: 'error' }];
    bad.set(keyOf(b2), stored);
    await bad.flush();
    const malformed = await loadWith(dir, FILES, {});
    assert.is(summary(malformed.r), expected);
    assert.is(malformed.cache.stats.added, 2, 'both loaded again and stored again');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('entries of other code are not used; the file is rewritten within its bound, keeping what is used', async () => {
  const dir = tmp();
  try {
    await loadWith(dir, FILES, {});
    const other = await loadWith(dir, FILES, {}, 'other code');
    assert.is(other.cache.stats.hits, 0);
    assert.ok(readFileSync(join(dir, 'loads.ndjson'), 'utf8').includes('other code'), 'rewritten under the new header');
    // A bound of a few entries: filling it with many files keeps the file under it, with the last used.
    const many = Array.from({ length: 40 }, (_, i) => ({ path: `m/${i}.yaml`, content: VARIANTS[0](`cm-${i}`, i), oid: `m${i}` }));
    const one = Buffer.byteLength(readFileSync(join(dir, 'loads.ndjson'), 'utf8')) / 3;
    for (const f of many) {
      clearLoadCache();
      const cache = await DiskLoadCache.open(dir, { fingerprint: 'other code', maxBytes: one * 10 });
      loadManifests([f], { cache });
      await cache.flush();
      assert.ok(statSync(join(dir, 'loads.ndjson')).size <= one * 11, 'bounded');
    }
    const last = await DiskLoadCache.open(dir, { fingerprint: 'other code' });
    clearLoadCache();
    loadManifests(many.slice(-3), { cache: last });
    assert.is(last.stats.hits, 3, 'the newest entries are kept');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("another cache (plan --data-dir: serve's) answers what this one lacks, read at the first miss, never written", async () => {
  const serves = tmp(), own = tmp(), foreign = tmp(), fresh = tmp(), empty = tmp();
  try {
    clearLoadCache();
    const expected = summary(loadManifests(FILES, {}));
    await loadWith(serves, FILES.slice(0, 2), {}); // serve loaded a.yaml and b.yaml
    await loadWith(own, FILES.slice(0, 1), {}); // the user's own cache holds a.yaml
    const theirs = readFileSync(join(serves, 'loads.ndjson'), 'utf8');
    // Opened before serve loads c.yaml too: the other file is read when a key is first missing, not at the open.
    const cache = await DiskLoadCache.open(own, { fingerprint: 'test', alsoFrom: [serves] });
    await loadWith(serves, FILES, {});
    const theirsNow = readFileSync(join(serves, 'loads.ndjson'), 'utf8');
    assert.ok(theirsNow.startsWith(theirs) && theirsNow.length > theirs.length, 'c.yaml appended by their own load');
    clearLoadCache();
    const r = loadManifests(FILES, { cache });
    await cache.flush();
    assert.is(summary(r), expected);
    assert.equal({ hits: cache.stats.hits, misses: cache.stats.misses, added: cache.stats.added }, { hits: 3, misses: 0, added: 0 });
    assert.is(readFileSync(join(own, 'loads.ndjson'), 'utf8').split('\n').filter(Boolean).length, 2, 'nothing of theirs copied into ours');
    assert.is(readFileSync(join(serves, 'loads.ndjson'), 'utf8'), theirsNow, 'theirs not written');
    // has() (the source's listing asks it) reads them too.
    const keyOf = (line: string) => line.split('\t')[1];
    const cKey = keyOf(theirsNow.split('\n').filter(Boolean).at(-1)!);
    const asked = await DiskLoadCache.open(empty, { fingerprint: 'test', alsoFrom: [serves] });
    assert.ok(asked.has(cKey) && !asked.has(`${cKey}-not-there`));
    // A cache of other code (another version of convergit serving) answers nothing; what is loaded goes into ours.
    await loadWith(foreign, FILES, {}, 'other code');
    const foreignText = readFileSync(join(foreign, 'loads.ndjson'), 'utf8');
    const other = await DiskLoadCache.open(fresh, { fingerprint: 'test', alsoFrom: [foreign, join(foreign, 'absent')] });
    clearLoadCache();
    assert.is(summary(loadManifests(FILES, { cache: other })), expected);
    assert.equal({ hits: other.stats.hits, added: other.stats.added }, { hits: 0, added: 3 });
    await other.flush();
    assert.is(readFileSync(join(foreign, 'loads.ndjson'), 'utf8'), foreignText);
  } finally {
    for (const d of [serves, own, foreign, fresh, empty]) rmSync(d, { recursive: true, force: true });
  }
});

test('convergit validate answers the same from its cache as without, errors with file, line and field', async () => {
  const repo = makeRepo({ 'k8s/web.yaml': VARIANTS[1]('web', 0), 'k8s/cm.yaml': VARIANTS[0]('settings', 1), 'k8s/list.yaml': VARIANTS[4]('svc', 2) });
  const cacheHome = tmp();
  const run = () => promisify(execFile)(process.execPath, [BIN, 'validate', '--repo', repo.dir, '--path', 'k8s'], { env: { ...process.env, XDG_CACHE_HOME: cacheHome } })
    .then(() => { throw new Error('validate passed'); }, (e: any) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }));
  try {
    const cold = await run();
    assert.is(cold.code, 1);
    assert.match(cold.stdout, /^k8s\/list\.yaml:5:\d+: ServiceAccount\/svc: metadata\.namespace: namespace "nowhere" does not exist/m);
    assert.match(cold.stdout, /^k8s\/web\.yaml:9:\d+: Deployment\/web: spec\.template\.spec\.containers\[0\]\.imagePullPolicy: must be one of/m);
    const cached = readFileSync(join(cacheHome, 'convergit', 'loads', 'loads.ndjson'), 'utf8');
    assert.is(cached.split('\n').filter(Boolean).length, 4, 'a header and three files');
    const warm = await run();
    assert.equal(warm, cold);
  } finally {
    repo.cleanup();
    rmSync(cacheHome, { recursive: true, force: true });
  }
});

test('a source read leaves unread what the cache holds (never a kustomization), and is no base for the next read', async () => {
  const files = { 'k8s/a.yaml': VARIANTS[0]('a', 1), 'k8s/b.yaml': VARIANTS[1]('b', 2), 'k8s/kustomization.yaml': 'resources: [a.yaml]\n' };
  const repo = makeRepo(files);
  repo.link('k8s/link.yaml', 'a.yaml');
  const sha = repo.commit('link');
  const dir = tmp();
  const source = new GitSource({ repo: repo.dir, branch: 'main', path: 'k8s', dataDir: dir, interval: 0 });
  try {
    await source.prepare();
    const full = await source.read(sha);
    // Fill the cache with every manifest (the kustomization too, as if it had been loaded as one).
    await loadWith(dir, full.files, {});
    clearLoadCache();
    const cache = await DiskLoadCache.open(dir, { fingerprint: 'test' });
    const rev = await source.read(sha, { unread: unreadBy(cache, {}) });
    const unread = rev.files.filter((f) => f.unread).map((f) => f.path);
    assert.equal(unread, ['k8s/a.yaml', 'k8s/b.yaml'], 'symlinks and kustomizations are read');
    assert.ok(rev.files.filter((f) => f.unread).every((f) => f.content === ''));
    // Loading the unread files gives what loading the read ones gave.
    assert.is(summary(loadManifests(rev.files, { cache })), summary(loadManifests(full.files, {})));
    // With --strict the cache holds nothing (other verdicts): everything is read.
    assert.is((await source.read(sha, { unread: unreadBy(cache, { strict: true }) })).files.filter((f) => f.unread).length, 0);
    const next = await source.read(sha);
    assert.equal(next.files.map((f) => f.content), full.files.map((f) => f.content));
  } finally {
    repo.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a delayed write (serve) is made after the load, or at close, and a new process reads the same answer from it', async () => {
  const dir = tmp(), other = tmp();
  const file = join(dir, 'loads.ndjson');
  try {
    clearLoadCache();
    const cache = await DiskLoadCache.open(dir, { fingerprint: 'test', writeDelayMs: 60_000 });
    const files = VARIANTS.map((v, i) => ({ path: `d/${i}.yaml`, content: v(`n-${i}`, i), oid: `d${i}` }));
    const fresh = loadManifests(files, { cache });
    await cache.flush();
    assert.not.ok(existsSync(file), 'not written by the load');
    assert.ok(cache.stats.added > 0);
    await cache.close();
    assert.ok(existsSync(file), 'written at close');
    const again = await loadWith(dir, files, {});
    assert.is(again.cache.stats.hits, cache.stats.added, 'every entry set is read back');
    assert.is(summary(again.r), summary(fresh));
    // A short delay writes by itself.
    const soon = await DiskLoadCache.open(other, { fingerprint: 'test', writeDelayMs: 10 });
    clearLoadCache();
    loadManifests(files.slice(0, 1), { cache: soon });
    await soon.flush();
    await until(() => existsSync(join(other, 'loads.ndjson')), 'the delayed write', 5000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(other, { recursive: true, force: true });
  }
});

test('thousands of entries, written a few hundred lines at a time, are all read back: a new file and appends', async () => {
  const dir = tmp();
  try {
    const cache = await DiskLoadCache.open(dir, { fingerprint: 'test' });
    for (let i = 0; i < 1234; i++) cache.set(`k${i}`, { i });
    await cache.flush(); // a new file: written aside, then renamed
    for (let i = 1234; i < 2500; i++) cache.set(`k${i}`, JSON.stringify({ i }), { json: true });
    await cache.flush(); // appended
    const again = await DiskLoadCache.open(dir, { fingerprint: 'test' });
    const back = Array.from({ length: 2500 }, (_, i) => (again.get(`k${i}`) as { i: number } | undefined)?.i);
    assert.equal(back, Array.from({ length: 2500 }, (_, i) => i));
    assert.is(again.stats.skipped, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('keys with a tab, a line break, a quote or a backslash, or a NUL, come back as themselves and never as one another', async () => {
  const dir = tmp();
  try {
    // The second is what JSON makes of the first: written as it is, it would be read back as the first one.
    const keys = ['a\tb', '"a\\tb"', 'line\nbreak', 'cr\rx', 'quote"d', 'back\\slash', '100\u0000deploy/a.yaml\u0000oid:1\u0000false', 'plain/path.yaml', '"', '\\'];
    const cache = await DiskLoadCache.open(dir, { fingerprint: 'test' });
    keys.forEach((k, i) => cache.set(k, { i }));
    await cache.flush();
    const again = await DiskLoadCache.open(dir, { fingerprint: 'test' });
    assert.equal(keys.map((k) => (again.get(k) as { i: number } | undefined)?.i), keys.map((_, i) => i));
    assert.is(again.stats.skipped, 0);
    const lines = readFileSync(join(dir, 'loads.ndjson'), 'utf8').split('\n').slice(1, -1);
    assert.is(lines.length, keys.length, 'one line each: no key broke its line');
    assert.ok(lines.some((l) => l.includes('\tplain/path.yaml\t')), 'a plain key is written as it is');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('writeSoFar writes what was set so far and keeps what was read for the rest of the load; a delayed cache writes only what is text', async () => {
  const dir = tmp(), delayed = tmp();
  const file = join(dir, 'loads.ndjson');
  const lines = () => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).length - 1 : 0);
  try {
    const files = VARIANTS.map((v, i) => ({ path: `w/${i}.yaml`, content: v(`w-${i}`, i), oid: `w${i}` }));
    const first = await loadWith(dir, files.slice(0, 3), {}); // entries of the first three files on disk
    assert.is(lines(), first.cache.stats.added);
    clearLoadCache();
    const cache = await DiskLoadCache.open(dir, { fingerprint: 'test' });
    cache.set('k1', { a: 1 });
    cache.set('k2', '{"b":2}', { json: true });
    cache.writeSoFar();
    await until(() => lines() === first.cache.stats.added + 2, 'the entries set so far written', 5000);
    const r = loadManifests(files, { cache });
    assert.is(cache.stats.hits, first.cache.stats.added, 'what was read is still there for the load after the write');
    assert.is(summary(r), summary(loadManifests(files, {})));
    await cache.flush();
    const again = await DiskLoadCache.open(dir, { fingerprint: 'test' });
    assert.equal([again.get('k1'), again.get('k2')], [{ a: 1 }, { b: 2 }]);
    // serve's cache writes after its sync what it must serialise; entries set as text (a parse worker's) go now.
    const later = await DiskLoadCache.open(delayed, { fingerprint: 'test', writeDelayMs: 60_000 });
    const laterFile = join(delayed, 'loads.ndjson');
    const keys = () => (existsSync(laterFile) ? readFileSync(laterFile, 'utf8').split('\n').slice(1).filter(Boolean).map((l) => l.split('\t')[1]) : []);
    later.set('k', { c: 3 });
    later.set('t', '{"d":4}', { json: true });
    later.writeSoFar();
    await until(() => keys().length > 0, 'the text entry written', 5000);
    await new Promise((r) => setTimeout(r, 50)); // a second write, had one begun, would have landed by now
    assert.equal(keys(), ['t'], 'the text entry only: the other waits for the delayed flush');
    await later.flush(); // delayed: nothing yet
    assert.equal(keys(), ['t']);
    await later.close();
    assert.equal(keys(), ['t', 'k']);
    const reopened = await DiskLoadCache.open(delayed, { fingerprint: 'test' });
    assert.equal([reopened.get('k'), reopened.get('t')], [{ c: 3 }, { d: 4 }]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(delayed, { recursive: true, force: true });
  }
});

test('a delayed flush writes in the background, a quarter of the event loop at most, holding what it writes; close() writes the rest at once', async () => {
  const dir = tmp();
  const file = join(dir, 'loads.ndjson');
  const lines = () => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).length - 1 : 0);
  const busy = (ms: number) => { for (const end = performance.now() + ms; performance.now() < end;); };
  const fill = (cache: DiskLoadCache, from: number) => { for (let i = from; i < from + 1500; i++) cache.set(`k${i}`, () => { busy(0.1); return { i }; }, { lazy: true }); };
  try {
    const cache = await DiskLoadCache.open(dir, { fingerprint: 'test', writeDelayMs: 1 });
    fill(cache, 0);
    await cache.flush();
    const before = performance.eventLoopUtilization();
    await until(() => lines() === 1500, 'the delayed flush written', 20_000);
    const busyShare = performance.eventLoopUtilization(before).utilization;
    assert.ok(busyShare < 0.5, `the write kept the event loop busy ${(busyShare * 100).toFixed(0)}% of the time`);
    fill(cache, 1500);
    await cache.flush();
    await until(() => lines() > 1500, 'the second write begun', 20_000);
    // Its last entries are not on disk yet, and still there to be read.
    assert.ok(lines() < 3000 && cache.has('k2999'), 'an entry being written is still held');
    assert.equal(cache.get('k2999'), { i: 2999 });
    const closing = performance.eventLoopUtilization();
    await cache.close();
    const busyClosing = performance.eventLoopUtilization(closing).utilization;
    assert.is(lines(), 3000, 'close() waited for the whole write');
    assert.ok(busyClosing > 0.7, `close() left the event loop idle ${(100 - busyClosing * 100).toFixed(0)}% of the time: it paused`);
    const again = await DiskLoadCache.open(dir, { fingerprint: 'test' });
    assert.equal([again.get('k0'), again.get('k2999')], [{ i: 0 }, { i: 2999 }]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
