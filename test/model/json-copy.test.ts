import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { jsonCopy, jsonCopySharingFrozen } from '../../src/model/json-copy.ts';
import { deepFreeze } from '../../src/model/deep-freeze.ts';
import { parseYaml } from '../../src/manifests/parse.ts';
import { CORPUS, corpusPresent } from '../corpus/corpus-load.ts';

const viaText = (v: unknown) => JSON.parse(JSON.stringify(v));
/** The same value, the same key order, and the same prototypes (plain objects and arrays) all the way down. */
function same(copy: unknown, expected: unknown, what: string) {
  assert.is(JSON.stringify(copy), JSON.stringify(expected), what);
  assert.equal(copy, expected, what);
  const protos = (v: unknown): unknown[] => (v && typeof v === 'object' ? [Object.getPrototypeOf(v), ...Object.values(v).flatMap(protos)] : []);
  assert.equal(protos(copy), protos(expected), `${what}: prototypes`);
}

test('what JSON.stringify does to odd values, JSON.parse(JSON.stringify(v)) gives, and so does jsonCopy', () => {
  class Point { constructor(public x: number, public y?: number) {} get sum() { return this.x; } }
  const hidden = Object.defineProperty({ shown: 1 }, 'hidden', { value: 2, enumerable: false });
  const cases: [string, unknown][] = [
    ['scalars', { s: 'a', n: 1.5, t: true, f: false, z: null }],
    ['non-finite numbers and -0', { nan: NaN, inf: Infinity, ninf: -Infinity, nz: -0, list: [NaN, -0] }],
    ['undefined, functions and symbols: dropped from objects, null in arrays', { u: undefined, fn() {}, sym: Symbol('x'), list: [undefined, () => 1, Symbol('y')] }],
    ['holes', [1, , 3]], // eslint-disable-line no-sparse-arrays
    ['a Date and toJSON with its key', { at: new Date('2024-05-01T10:00:00.250Z'), own: { toJSON: (k: string) => `key ${k}` }, list: [{ toJSON: (k: string) => `index ${k}` }] }],
    ['boxed primitives', { n: Object(5), s: Object('text'), b: Object(false) }],
    ['a class instance, a getter not own, a non-enumerable key', { p: new Point(1), hidden }],
    ['Map, Set and symbol keys', { m: new Map([[1, 2]]), set: new Set([1]), [Symbol('k')]: 1 }],
    ['__proto__ as a key', JSON.parse('{"__proto__": {"polluted": true}, "a": 1}')],
    ['integer-like keys keep JSON order', { b: 1, 2: 'two', a: 3, 1: 'one' }],
    ['deep nesting', { a: { b: { c: { d: [[[{ e: 'deep' }]]] } } } }],
    ['a top-level array and string', ['x', { y: [] }]],
    ['a function with toJSON', { fn: Object.assign(() => 1, { toJSON: () => 'from a function' }), list: [Object.assign(() => 1, { toJSON: () => 2 })] }],
    ['toJSON is given its key as a string', { a: { toJSON: (k: unknown) => typeof k }, list: [{ toJSON: (k: unknown) => typeof k }] }],
    ['boxed values of another realm, and one with its own valueOf', { s: vm.runInNewContext('new String("ab")'), n: vm.runInNewContext('new Number(3)'), b: Object.assign(Object(false), { valueOf: () => true }) }],
  ];
  for (const [what, v] of cases) same(jsonCopy(v), viaText(v), what);
  assert.ok(Object.is(jsonCopy({ z: -0 }).z, 0) && Object.is(jsonCopy([-0])[0], 0), '-0 is 0, as through text');
  assert.is(jsonCopy('text'), 'text');
  assert.is(jsonCopy(null), null);
  assert.is(Object.prototype.hasOwnProperty.call(jsonCopy(cases[8][1]), '__proto__'), true, '__proto__ stays an own key');
  assert.is(({} as { polluted?: boolean }).polluted, undefined, 'no prototype touched');
});

test('the copy is new all the way down: changing it leaves the original alone', () => {
  const original = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'main', ports: [{ containerPort: 80 }] }] } };
  const copy = jsonCopy(original);
  copy.metadata.labels.app = 'changed';
  copy.spec.containers[0].ports.push({ containerPort: 81 });
  assert.equal(original, { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'main', ports: [{ containerPort: 80 }] }] } });
  assert.is.not(copy.spec.containers[0], original.spec.containers[0]);
});

test('what JSON refuses, jsonCopy refuses with the same kind of error', () => {
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = { back: cyclic };
  assert.throws(() => jsonCopy(cyclic), (e: unknown) => e instanceof TypeError && /circular/.test((e as Error).message));
  assert.throws(() => jsonCopy({ big: 10n }), (e: unknown) => e instanceof TypeError && /BigInt/.test((e as Error).message));
  assert.throws(() => jsonCopy(undefined), SyntaxError);
  assert.throws(() => jsonCopy(() => 1), SyntaxError);
  assert.throws(() => jsonCopy({ boxed: Object(10n) }), (e: unknown) => e instanceof TypeError && /BigInt/.test((e as Error).message), 'a boxed BigInt too');
  const shared = { x: 1 };
  assert.equal(jsonCopy({ a: shared, b: shared }), { a: { x: 1 }, b: { x: 1 } }, 'a value met twice, not in a cycle, is copied twice');
});

test('a BigInt with a toJSON (on its prototype) is what toJSON gives, as through text', () => {
  const proto = BigInt.prototype as unknown as { toJSON?: () => string };
  proto.toJSON = function () { return `${this}n`; };
  try {
    same(jsonCopy({ big: 10n, list: [2n] }), viaText({ big: 10n, list: [2n] }), 'BigInt.prototype.toJSON');
  } finally {
    delete proto.toJSON;
  }
});

test('arrays come out packed, as JSON.parse makes them (holey ones take slower paths in V8 for good)', () => {
  const script = `import { jsonCopy } from ${JSON.stringify(fileURLToPath(new URL('../../src/model/json-copy.ts', import.meta.url)))};
    const c = jsonCopy({ a: [1, 2, 3], b: [{ x: [] }], holes: [1, , 3], long: [1, 2, 3, 4, 5, 6] });
    console.log(JSON.stringify([c.a, c.b, c.b[0].x, c.holes, c.long].map((a) => %HasHoleyElements(a))));`;
  const out = execFileSync(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(JSON.parse(out), [false, false, false, false, false]);
});

/**
 * Random JSON-like values (odd leaves, odd keys), each with its index, the same for the same seed; with `freeze`,
 * half of the objects and arrays deep-frozen.
 */
function randomValues(seed: number, n: number, freeze = false): [number, unknown][] {
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
  const value = (depth: number): unknown => {
    const r = rand();
    if (depth > 4 || r < 0.4) return pick<unknown>(['', 'x', 'ünïcode ✓', 0, -0, 1e21, 0.1, NaN, true, false, null, undefined, new Date(86_400_000)]);
    const v = r < 0.7 ? Array.from({ length: Math.floor(rand() * 4) }, () => value(depth + 1))
      : Object.fromEntries(Array.from({ length: Math.floor(rand() * 5) }, () => [pick(['a', 'b', '1', '10', 'key with space', '__proto__']), value(depth + 1)]));
    return freeze && rand() < 0.5 ? deepFreeze(v) : v;
  };
  return Array.from({ length: n }, (_, i): [number, unknown] => [i, value(0)]).filter(([, v]) => v !== undefined);
}

test('random JSON-like values: the same as through text', () => {
  for (const [i, v] of randomValues(7, 2000)) same(jsonCopy(v), viaText(v), `value ${i}: ${JSON.stringify(v)}`);
});

test('jsonCopySharingFrozen keeps frozen JSON below the top two levels, copies the rest; always equal to through text', () => {
  const template = deepFreeze({ metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27', ports: [{ containerPort: 80 }] }] } });
  const d = { kind: 'Deployment', metadata: deepFreeze({ name: 'web', labels: { app: 'web' } }), spec: deepFreeze({ replicas: 2, template }) };
  const c = jsonCopySharingFrozen(d);
  same(c, viaText(d), 'a Deployment');
  assert.is(c.spec.template, template, 'spec.template: frozen JSON, kept');
  assert.is.not(c.spec, d.spec, 'the top two levels are always new');
  assert.is.not(c.metadata, d.metadata);
  assert.is(c.metadata.labels, d.metadata.labels);
  assert.not.ok(Object.isFrozen(c) || Object.isFrozen(c.spec) || Object.isFrozen(c.metadata), 'the caller may set its fields');
  const unfrozen = { a: { b: { c: 1 } } };
  assert.is.not(jsonCopySharingFrozen(unfrozen).a.b, unfrozen.a.b, 'not frozen: copied');
  // Frozen, but not what JSON would give (or not frozen all the way down): copied as JSON does.
  const odd: Record<string, unknown> = {
    undefinedValue: { x: undefined }, minusZero: { x: -0 }, nan: { x: NaN }, date: { x: new Date(0) }, hole: [1, , 3],
    fn: { x: () => 1 }, toJSON: { toJSON: () => 'y' }, symbol: { [Symbol('s')]: 1, x: 1 }, nullProto: Object.assign(Object.create(null), { x: 1 }),
    boxed: { x: Object('s') }, getter: Object.defineProperty({}, 'x', { get: () => 1, enumerable: true }),
    hidden: Object.defineProperty({ x: 1 }, 'y', { value: 2, enumerable: false }), extra: Object.assign([1, 2], { extra: 3 }),
    innerNotFrozen: { x: { y: 1 } },
  };
  for (const [what, v] of Object.entries(odd)) {
    Object.freeze(v);
    const wrapped = { a: { b: v } };
    const copy = jsonCopySharingFrozen(wrapped);
    assert.is.not(copy.a.b, v, `${what}: kept though not JSON as it is`);
    same(copy, viaText(wrapped), what);
  }
  const cyclic: Record<string, unknown> = { x: 1 };
  cyclic.self = cyclic;
  Object.freeze(cyclic);
  assert.throws(() => jsonCopySharingFrozen({ a: { b: cyclic } }), (e: unknown) => e instanceof TypeError && /circular/.test((e as Error).message));
});

test('jsonCopySharingFrozen on random values, frozen at random: the same as through text', () => {
  for (const [i, v] of randomValues(11, 2000, true)) same(jsonCopySharingFrozen(v), viaText(v), `value ${i}: ${JSON.stringify(v)}`);
});

test('the upstream corpus: every document copies as through text', () => {
  if (!corpusPresent()) return console.log('  (../shared/corpus absent: skipped)');
  const walk = (d: string): string[] => readdirSync(d).flatMap((f) => { const p = join(d, f); return statSync(p).isDirectory() ? walk(p) : [p]; });
  let docs = 0;
  for (const file of walk(CORPUS).filter((f) => /\.ya?ml$/.test(f))) {
    for (const d of parseYaml(readFileSync(file, 'utf8'), file, 100).docs) {
      same(jsonCopy(d.value), viaText(d.value), file);
      docs++;
    }
  }
  assert.ok(docs > 700, `${docs} documents`);
});

test.run();
