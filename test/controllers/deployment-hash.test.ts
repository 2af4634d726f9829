// pod-template-hash: FNV-32a plus Kubernetes' safe alphabet, stable across key order and runs, blind to its own label.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { equalIgnoreHash, podTemplateHash, safeEncode, templateText, templateWithHash, withoutHash } from '../../src/controllers/pod-template-hash.ts';
import { fnv32a } from '../../src/model/hash.ts';

type Template = Parameters<typeof templateText>[0];

const template = () => ({
  metadata: { labels: { app: 'web', tier: 'front' }, annotations: { team: 'blue' } },
  spec: { containers: [{ name: 'web', image: 'git:apps/web@1234abcd', ports: [{ containerPort: 8080, protocol: 'TCP' }] }], restartPolicy: 'Always' },
});

test('FNV-32a matches the reference vectors', () => {
  assert.is(fnv32a(''), 0x811c9dc5);
  assert.is(fnv32a('a'), 0xe40c292c);
  assert.is(fnv32a('foobar'), 0xbf9cf968);
  assert.is(fnv32a('é'), fnv32a('\u00e9'), 'hashed as UTF-8 bytes');
});

test('the safe encoding maps each digit into Kubernetes\' alphabet (no vowels, no look-alikes)', () => {
  assert.is(safeEncode('0123456789'), '456789bcdf');
});

test('the hash is stable: same content, any key order; known value pinned so a change of algorithm shows', () => {
  const a = template();
  const b = { spec: { restartPolicy: 'Always', containers: [{ ports: [{ protocol: 'TCP', containerPort: 8080 }], image: 'git:apps/web@1234abcd', name: 'web' }] }, metadata: { annotations: { team: 'blue' }, labels: { tier: 'front', app: 'web' } } };
  const h = podTemplateHash(a);
  assert.is(podTemplateHash(b), h);
  assert.match(h, /^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
  assert.is(h, safeEncode(String(fnv32a('{"metadata":{"annotations":{"team":"blue"},"labels":{"app":"web","tier":"front"}},"spec":{"containers":[{"image":"git:apps/web@1234abcd","name":"web","ports":[{"containerPort":8080,"protocol":"TCP"}]}],"restartPolicy":"Always"}}'))));
});

test('the hash changes with the template, and ignores its own label', () => {
  const t = template();
  const h = podTemplateHash(t);
  const other = template();
  other.spec.containers[0].image = 'git:apps/web@5678ef00';
  assert.is.not(podTemplateHash(other), h);
  assert.is(podTemplateHash(templateWithHash(t, h)), h);
});

test('equalIgnoreHash: templates differing only by the hash label are equal; empty maps equal missing ones', () => {
  const t = template();
  const withHash = templateWithHash(t, 'abc');
  assert.is(withHash.metadata!.labels!['pod-template-hash'], 'abc');
  assert.is((t.metadata.labels as Record<string, string>)['pod-template-hash'], undefined, 'the input is not changed');
  assert.ok(equalIgnoreHash(t, withHash));
  assert.ok(equalIgnoreHash({ metadata: {}, spec: { containers: [] } }, templateWithHash({ spec: {} }, 'x')));
  const changed = templateWithHash(t, 'abc');
  (changed.metadata!.labels as Record<string, string>).tier = 'back';
  assert.not.ok(equalIgnoreHash(t, changed));
});

test('withoutHash drops the label and a labels map it leaves empty', () => {
  assert.equal(withoutHash({ metadata: { labels: { 'pod-template-hash': 'x' } }, spec: {} }), { metadata: {}, spec: {} });
  const t = template();
  assert.is(withoutHash(t), t, 'nothing to drop: the same object');
});

test('equalIgnoreHash answers as comparing the hashed texts would, over random templates with empty, missing and null parts', () => {
  let seed = 7;
  const next = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff; };
  const pick = <T>(xs: T[]) => xs[Math.floor(next() * xs.length)];
  const value = (depth: number): unknown => {
    const r = next();
    if (depth > 3 || r < 0.35) return pick<unknown>(['a', 'b', 1, 0, true, null, undefined, '']);
    if (r < 0.55) return Array.from({ length: Math.floor(next() * 3) }, () => value(depth + 1));
    return Object.fromEntries(Array.from({ length: Math.floor(next() * 3) }, () => [pick(['x', 'y', 'z']), value(depth + 1)]));
  };
  /** b as a, or a small change of it: a part emptied, removed, nulled or changed, keys reordered. */
  const variant = (v: unknown): unknown => {
    const r = next();
    if (r < 0.08) return pick<unknown>([undefined, null, {}, [], 'a']);
    if (Array.isArray(v)) return v.map(variant);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, variant(x)]));
    return v;
  };
  let equal = 0, differ = 0;
  for (let i = 0; i < 4000; i++) {
    const labels: Record<string, string>[] = [{ app: 'web' }, { app: 'web', 'pod-template-hash': 'abc' }, { 'pod-template-hash': 'abc' }, {}];
    const a: Template = { metadata: { labels: pick(labels), x: value(1) }, spec: value(0) };
    // Labels are a map of strings in any template that loaded; the rest is anything.
    const b = (next() < 0.5 ? { metadata: { labels: next() < 0.7 ? a!.metadata!.labels : pick(labels), x: variant(a!.metadata!.x) }, spec: variant(a!.spec) }
      : { metadata: { labels: pick(labels), x: value(1) }, spec: value(0) }) as Template;
    const expected = templateText(a) === templateText(b);
    assert.is(equalIgnoreHash(a, b), expected, `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    assert.is(equalIgnoreHash(b, a), expected);
    if (expected) equal++; else differ++;
  }
  assert.ok(equal > 500 && differ > 500, `${equal} equal, ${differ} different`);
  // Cases the random ones rarely meet: a null is kept where undefined is dropped, at the same key or another.
  const cases: [unknown, unknown, boolean][] = [
    [{ k: null }, {}, false], [{ k: { a: {} } }, {}, true], [[undefined], [null], true], [[{}], [[]], false],
    [{ k: null, j: undefined }, { k: undefined, j: 'v' }, false], [{ k: [] }, { j: {} }, true],
    [JSON.parse('{"__proto__":{"a":1}}'), {}, true], [JSON.parse('{"k":{"__proto__":1}}'), { k: {} }, true],
  ];
  for (const [x, y, expected] of cases) {
    assert.is(templateText({ spec: x }) === templateText({ spec: y }), expected, `the texts of ${JSON.stringify(x)}, ${JSON.stringify(y)}`);
    assert.is(equalIgnoreHash({ spec: x }, { spec: y }), expected, `${JSON.stringify(x)} vs ${JSON.stringify(y)}`);
    assert.is(equalIgnoreHash({ spec: y }, { spec: x }), expected);
  }
});

test.run();
