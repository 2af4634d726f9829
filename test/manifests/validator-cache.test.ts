// The on-disk cache of compiled validators: code loaded from it judges objects exactly as ajv's own compile
// does (same errors, same fields, same messages' inputs), and a damaged file, another schema document or a
// cache turned off never serves a validator.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ValidatorCache, validatorCacheRoot } from '../../src/manifests/validator-cache.ts';
import { VALIDATOR_HELPERS, compileValidator } from '../../src/manifests/validate.ts';
import { kubernetesSchemaDocument } from '../../src/manifests/openapi-schema.ts';

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

test.after(() => rmSync(root, { recursive: true, force: true }));

test.run();
