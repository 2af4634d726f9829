// The on-disk cache of compiled validators: code loaded from it judges objects exactly as ajv's own compile
// does (same errors, same fields, same messages' inputs), and a damaged file, another schema document or a
// cache turned off never serves a validator.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KEEP, STALE_MS, ValidatorCache, pruneValidatorCache, shippedValidatorRoot, validatorCacheRoot } from '../../src/manifests/validator-cache.ts';
import { VALIDATOR_HELPERS, compileValidator, schemaFields } from '../../src/manifests/validate.ts';
import { fieldIndexOf, kubernetesSchemaDocument, schemaDocumentInputs } from '../../src/manifests/openapi-schema.ts';

const DEPLOYMENT = 'io.k8s.api.apps.v1.Deployment';
const root = mkdtempSync(join(tmpdir(), 'convergit-validators-'));
const cacheFiles = () => readdirSync(root, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name);

const container = (extra: object) => ({ name: 'web', image: 'nginx', ...extra });
const deployment = (spec: object, c: object = {}) => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', labels: { app: 'web' } },
  spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [container(c)] } }, ...spec },
});

/** One object per kind of check the schema makes: types, enums, ranges, formats, the k8s keyword, closed objects, required. */
const CORPUS = [
  deployment({}),
  deployment({ replicas: '3', strategy: { type: 'BlueGreen', rollingUpdate: { maxSurge: '25 percent', maxUnavailable: -1 } } }),
  deployment({ revisionHistoryLimit: -2, paused: 'yes' }, { ports: [{ containerPort: 70000, name: 'Not A Port' }], imagePullPolicy: 'Sometimes' }),
  deployment({}, { resources: { limits: { cpu: 'lots', memory: -5 } }, env: [{ name: 1 }], colour: 'blue' }),
  { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'Bad_Name', labels: { 'a/b/c': 5 } }, spec: { template: {} } },
  'not an object',
];

test('cached code gives the same errors as ajv compiling the definition', () => {
  const cache = new ValidatorCache(root, kubernetesSchemaDocument, VALIDATOR_HELPERS);
  assert.is(cache.get(DEPLOYMENT), undefined, 'an empty cache has nothing');
  const { validate, source } = compileValidator(DEPLOYMENT);
  cache.put(DEPLOYMENT, source);
  assert.equal(cacheFiles(), [`${DEPLOYMENT}.cjs`]);
  const cached = cache.get(DEPLOYMENT);
  assert.type(cached, 'function');
  let invalid = 0;
  for (const obj of CORPUS) {
    const ok = validate(obj);
    assert.is(cached!(obj), ok, JSON.stringify(obj));
    assert.equal(cached!.errors ?? null, validate.errors ?? null, JSON.stringify(obj));
    if (!ok) invalid++;
  }
  assert.is(invalid, CORPUS.length - 1, 'every object but the first is invalid');
  // A fresh cache over the same document (a new process) finds the same file.
  assert.type(new ValidatorCache(root, kubernetesSchemaDocument, VALIDATOR_HELPERS).get(DEPLOYMENT), 'function');
});

test('another schema document does not see the code compiled for this one', () => {
  const other = new ValidatorCache(root, () => ({ ...kubernetesSchemaDocument(), $id: 'changed.json' }), VALIDATOR_HELPERS);
  assert.is(other.get(DEPLOYMENT), undefined);
});

test('a root without the file falls back to the shipped root (build/validators), of the same document only', () => {
  const shipped = mkdtempSync(join(tmpdir(), 'convergit-shipped-'));
  const empty = mkdtempSync(join(tmpdir(), 'convergit-validators-empty-'));
  try {
    // What scripts/precompile-validators.mjs writes: the user's cache layout, under another root.
    new ValidatorCache(shipped, kubernetesSchemaDocument, VALIDATOR_HELPERS).put(DEPLOYMENT, compileValidator(DEPLOYMENT).source);
    assert.is(new ValidatorCache(empty, kubernetesSchemaDocument, VALIDATOR_HELPERS).get(DEPLOYMENT), undefined, 'no shipped root: nothing');
    const cached = new ValidatorCache(empty, kubernetesSchemaDocument, VALIDATOR_HELPERS, shipped).get(DEPLOYMENT);
    assert.type(cached, 'function');
    assert.is(cached!(CORPUS[1]), false);
    assert.is(new ValidatorCache(empty, () => ({ ...kubernetesSchemaDocument(), $id: 'changed.json' }), VALIDATOR_HELPERS, shipped).get(DEPLOYMENT), undefined, 'another document');
    assert.is(shippedValidatorRoot({ CONVERGIT_VALIDATOR_CACHE: '' }), undefined, 'the cache turned off turns the shipped one off');
    assert.ok(shippedValidatorRoot({})!.endsWith('/build/validators'));
  } finally {
    rmSync(shipped, { recursive: true, force: true });
    rmSync(empty, { recursive: true, force: true });
  }
});

test('with its inputs, a cache names its folder without building the document once one process has built it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'convergit-validators-inputs-'));
  const shipped = mkdtempSync(join(tmpdir(), 'convergit-shipped-inputs-'));
  try {
    let built = 0;
    const doc = () => (built++, kubernetesSchemaDocument());
    const first = new ValidatorCache(shipped, doc, VALIDATOR_HELPERS, undefined, schemaDocumentInputs);
    first.put(DEPLOYMENT, compileValidator(DEPLOYMENT).source);
    assert.is(built, 1, 'the first process builds the document to name its folder');
    const folder = readdirSync(shipped).find((n) => n !== 'inputs')!;
    assert.is(folder, readdirSync(root).find((n) => n !== 'inputs'), 'the same folder as a cache without inputs');
    // A later process, over this root or over an empty one with it as the shipped root, never builds it.
    assert.type(new ValidatorCache(shipped, doc, VALIDATOR_HELPERS, undefined, schemaDocumentInputs).get(DEPLOYMENT), 'function');
    assert.type(new ValidatorCache(dir, doc, VALIDATOR_HELPERS, shipped, schemaDocumentInputs).get(DEPLOYMENT), 'function');
    assert.is(built, 1, 'named from the inputs file');
    // Other inputs (another upstream document, another conversion) are not taken for these: the document is built.
    const other = new ValidatorCache(shipped, () => (built++, { ...kubernetesSchemaDocument(), $id: 'changed.json' }), VALIDATOR_HELPERS, undefined,
      () => [...schemaDocumentInputs(), 'changed']);
    assert.is(other.get(DEPLOYMENT), undefined);
    assert.is(built, 2);
    // Pruning a folder drops the inputs files that named it.
    pruneValidatorCache(shipped, 0);
    assert.equal(readdirSync(join(shipped, 'inputs')), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(shipped, { recursive: true, force: true });
  }
});

test('the field index kept beside the validators is the one built from the document, read from the shipped root too', () => {
  assert.equal(schemaFields(), fieldIndexOf(kubernetesSchemaDocument()));
  assert.equal(schemaFields()['io.k8s.api.core.v1.PodSpec'].containers, [null, 'io.k8s.api.core.v1.Container', null, false]);
  const shipped = mkdtempSync(join(tmpdir(), 'convergit-shipped-fields-'));
  const empty = mkdtempSync(join(tmpdir(), 'convergit-validators-fields-'));
  try {
    new ValidatorCache(shipped, kubernetesSchemaDocument, VALIDATOR_HELPERS).write('fields.json', '{"a":1}');
    assert.is(new ValidatorCache(empty, kubernetesSchemaDocument, VALIDATOR_HELPERS, shipped).read('fields.json'), '{"a":1}');
    assert.is(new ValidatorCache(empty, kubernetesSchemaDocument, VALIDATOR_HELPERS).read('fields.json'), undefined);
  } finally {
    rmSync(shipped, { recursive: true, force: true });
    rmSync(empty, { recursive: true, force: true });
  }
});

test('a damaged file is not used (it is compiled again)', () => {
  const cache = new ValidatorCache(root, kubernetesSchemaDocument, VALIDATOR_HELPERS);
  const dir = readdirSync(root)[0];
  for (const damage of ['function validate10(data) {', 'module.exports = 42;', '']) {
    writeFileSync(join(root, dir, `${DEPLOYMENT}.cjs`), damage);
    assert.is(cache.get(DEPLOYMENT), undefined, JSON.stringify(damage));
  }
});

test('the cache is off when CONVERGIT_VALIDATOR_CACHE is empty; else it follows XDG_CACHE_HOME', () => {
  assert.is(validatorCacheRoot({ CONVERGIT_VALIDATOR_CACHE: '' }), undefined);
  assert.is(validatorCacheRoot({ CONVERGIT_VALIDATOR_CACHE: '/x' }), '/x');
  assert.is(validatorCacheRoot({ XDG_CACHE_HOME: '/c' }), '/c/convergit/validators');
  const off = new ValidatorCache(undefined, kubernetesSchemaDocument, VALIDATOR_HELPERS);
  off.put('io.k8s.api.core.v1.Service', compileValidator('io.k8s.api.core.v1.Service').source);
  assert.is(off.get('io.k8s.api.core.v1.Service'), undefined);
  assert.not.ok(cacheFiles().includes('io.k8s.api.core.v1.Service.cjs'));
});

/** A hash folder under `dir` with `files` files, last used `ago` ms before now; made aside, then renamed in whole. */
function entry(dir: string, n: number, ago: number, files = 1): string {
  const name = n.toString(16).padStart(32, '0');
  const aside = mkdtempSync(join(tmpdir(), 'convergit-validators-entry-'));
  for (let i = 0; i < files; i++) writeFileSync(join(aside, `def${i}.cjs`), 'module.exports = () => true;');
  const at = new Date(Date.now() - ago);
  utimesSync(aside, at, at);
  renameSync(aside, join(dir, name));
  return name;
}

test('pruning keeps the most recently used folders and removes stale temporary files, not fresh ones', () => {
  const dir = mkdtempSync(join(tmpdir(), 'convergit-validators-prune-'));
  try {
    const names = Array.from({ length: KEEP + 3 }, (_, i) => entry(dir, i + 1, (i + 1) * 60_000)); // 1 min, 2 min … ago
    const stale = new Date(Date.now() - STALE_MS - 60_000);
    writeFileSync(join(dir, names[0], 'def0.cjs.123.tmp'), 'half');
    utimesSync(join(dir, names[0], 'def0.cjs.123.tmp'), stale, stale);
    writeFileSync(join(dir, names[0], 'def1.cjs.456.tmp'), 'being written now');
    mkdirSync(join(dir, '.removing-abc-1-ff'));
    utimesSync(join(dir, '.removing-abc-1-ff'), stale, stale);
    writeFileSync(join(dir, 'README'), 'not ours to judge');
    const { removed } = pruneValidatorCache(dir);
    assert.equal(readdirSync(dir).sort(), [...names.slice(0, KEEP), 'README'].sort());
    assert.equal(readdirSync(join(dir, names[0])).sort(), ['def0.cjs', 'def1.cjs.456.tmp']);
    assert.equal(removed.sort(), [...names.slice(KEEP), '.removing-abc-1-ff', `${names[0]}/def0.cjs.123.tmp`].sort());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a cache touches its folder when used, and one that writes prunes the others', () => {
  const dir = mkdtempSync(join(tmpdir(), 'convergit-validators-use-'));
  try {
    const old = Array.from({ length: KEEP + 2 }, (_, i) => entry(dir, i + 1, (i + 1) * 86_400_000)); // days ago
    const cache = new ValidatorCache(dir, kubernetesSchemaDocument, VALIDATOR_HELPERS);
    const service = 'io.k8s.api.core.v1.Service';
    assert.is(cache.get(service), undefined);
    cache.put(service, compileValidator(service).source);
    const ours = readdirSync(dir).find((n) => !old.includes(n))!;
    assert.equal(readdirSync(dir).sort(), [ours, ...old.slice(0, KEEP - 1)].sort(), 'this one and the KEEP-1 used last');
    // Another process using this folder (get touches it) makes it the most recently used, however old it was.
    const longAgo = new Date(Date.now() - 100 * 86_400_000);
    utimesSync(join(dir, ours), longAgo, longAgo);
    assert.type(new ValidatorCache(dir, kubernetesSchemaDocument, VALIDATOR_HELPERS).get(service), 'function');
    pruneValidatorCache(dir, 1);
    assert.equal(readdirSync(dir), [ours]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('two processes pruning while folders are read: each folder is removed once, and is whole or absent', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'convergit-validators-race-'));
  const stop = join(dir, 'stop');
  const kept = Array.from({ length: KEEP }, (_, i) => entry(dir, 1000 + i, -3_600_000)); // used "in an hour": never pruned
  const module = new URL('../../src/manifests/validator-cache.ts', import.meta.url).href;
  const pruner = `const { pruneValidatorCache } = await import(${JSON.stringify(module)});
    const { existsSync } = await import('node:fs');
    let removed = 0;
    while (!existsSync(${JSON.stringify(stop)})) removed += pruneValidatorCache(${JSON.stringify(dir)}).removed.length;
    process.stdout.write(String(removed));`;
  const pruners = [0, 1].map(() => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', pruner], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    return new Promise<{ code: number | null; removed: number }>((resolve) => child.on('exit', (code) => resolve({ code, removed: Number(out) })));
  });
  const FILES = 30, ROUNDS = 20;
  let halves = 0;
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const name = entry(dir, round + 1, 60_000, FILES);
      const deadline = Date.now() + 60_000; // a pruner that never comes is a failure, not a hang
      // Reads each file by its path, as get() does, last to first (the order in which a delete in place would
      // leave some): once one is missing, the folder has been renamed away, so every other must be missing too.
      let gone = false;
      for (let i = FILES - 1; ; i = (i + FILES - 1) % FILES) {
        let found: boolean;
        try { found = readFileSync(join(dir, name, `def${i}.cjs`), 'utf8') === 'module.exports = () => true;'; } catch { found = false; }
        if (found && gone) halves++;
        if (!found && !gone) { gone = true; i = FILES; continue; } // now check every file once more
        if (gone && i === 0) break;
        if (Date.now() > deadline) throw new Error(`${name} was never pruned`);
      }
    }
  } finally {
    writeFileSync(stop, '');
  }
  const results = await Promise.all(pruners);
  try {
    assert.equal(results.map((r) => r.code), [0, 0]);
    assert.is(halves, 0, 'a reader never found a file of a folder after missing another');
    assert.is(results[0].removed + results[1].removed, ROUNDS, 'each folder removed by exactly one pruner');
    assert.equal(readdirSync(dir).filter((n) => n !== 'stop').sort(), kept.sort(), 'no .removing- left, the used ones kept');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.after(() => rmSync(root, { recursive: true, force: true }));

test.run();
