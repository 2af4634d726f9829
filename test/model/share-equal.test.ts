import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sharingEqual } from '../../src/model/share-equal.ts';

test('a defaulted copy shares the parts it did not change; what changed, and the original, stay as they were', () => {
  const written = JSON.parse('{"kind":"Deployment","metadata":{"name":"web","labels":{"app":"web"}},"spec":{"selector":{"matchLabels":{"app":"web"}},"template":{"spec":{"containers":[{"name":"c","image":"nginx","env":[{"name":"A","value":"1"}],"ports":[{"containerPort":80}]}]}}}}');
  const text = JSON.stringify(written);
  const defaulted = structuredClone(written);
  defaulted.metadata.namespace = 'default';
  defaulted.spec.template.spec.containers[0].ports[0].protocol = 'TCP';
  defaulted.spec.template.spec.restartPolicy = 'Always';
  const before = JSON.stringify(defaulted);
  const out = sharingEqual(defaulted, written);
  assert.is(out, defaulted, 'changed at the top: the copy itself');
  assert.is(JSON.stringify(out), before, 'same value, same key order');
  assert.is(JSON.stringify(written), text, 'the original not written into');
  assert.is(out.metadata.labels, written.metadata.labels);
  assert.is(out.spec.selector, written.spec.selector);
  assert.is(out.spec.template.spec.containers[0].env, written.spec.template.spec.containers[0].env);
  assert.is.not(out.metadata, written.metadata, 'a namespace was added');
  assert.is.not(out.spec.template.spec.containers[0].ports[0], written.spec.template.spec.containers[0].ports[0]);
  assert.is(sharingEqual(structuredClone(written), written), written, 'all equal: the original');
});

test('key order, -0 and arrays of another length are differences', () => {
  const reordered = sharingEqual({ x: { a: 1, b: 2 } }, { x: { b: 2, a: 1 } });
  assert.is(JSON.stringify(reordered), '{"x":{"a":1,"b":2}}');
  const zero = sharingEqual({ n: 0, s: { v: 0 } }, JSON.parse('{"n":-0,"s":{"v":-0}}'));
  assert.ok(Object.is(zero.n, 0) && Object.is(zero.s.v, 0), 'a 0 stays 0 where the other has -0');
  const from = { list: [{ a: 1 }, { b: 2 }] };
  const longer = sharingEqual({ list: [{ a: 1 }, { b: 2 }, { c: 3 }] }, from);
  assert.equal(longer, { list: [{ a: 1 }, { b: 2 }, { c: 3 }] });
  assert.is(longer.list[0], from.list[0], 'the items in common shared');
  assert.is.not(longer.list, from.list);
  const types = sharingEqual({ a: [1], b: { 0: 1 }, c: null, d: 'x' }, { a: { 0: 1 }, b: [1], c: {}, d: 'x' });
  assert.equal(types, { a: [1], b: { 0: 1 }, c: null, d: 'x' });
});

/** Random JSON trees (what JSON.parse makes), the same for the same seed. */
function randomTree(rand: () => number, depth = 0): unknown {
  const r = rand();
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
  if (depth > 4 || r < 0.35) return pick<unknown>(['', 'x', 'y', 0, 1, 2.5, true, false, null]);
  if (r < 0.6) return Array.from({ length: Math.floor(rand() * 4) }, () => randomTree(rand, depth + 1));
  return Object.fromEntries(Array.from({ length: Math.floor(rand() * 5) }, () => [pick(['a', 'b', 'c', '1', 'd e']), randomTree(rand, depth + 1)]));
}

/** A copy of `v` with a few random changes: leaves replaced, keys added or removed, object keys reordered, items added. */
function changed(rand: () => number, v: unknown): unknown {
  if (rand() < 0.1) return randomTree(rand, 3);
  if (Array.isArray(v)) {
    const out = v.map((x) => changed(rand, x));
    if (rand() < 0.1) out.push(randomTree(rand, 3));
    return out;
  }
  if (v && typeof v === 'object') {
    let entries = Object.entries(v).filter(() => rand() > 0.05).map(([k, x]): [string, unknown] => [k, changed(rand, x)]);
    if (rand() < 0.1) entries.push([`new${Math.floor(rand() * 3)}`, randomTree(rand, 3)]);
    if (rand() < 0.1) entries = entries.reverse();
    return Object.fromEntries(entries);
  }
  return v;
}

test('random trees: the same value and key order, the original untouched, every equal part shared', () => {
  let seed = 42;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  let sharedParts = 0;
  for (let i = 0; i < 3000; i++) {
    const from = JSON.parse(JSON.stringify(randomTree(rand)));
    const into = JSON.parse(JSON.stringify(changed(rand, from) ?? null));
    const fromText = JSON.stringify(from), intoText = JSON.stringify(into);
    const out = sharingEqual(into, from);
    assert.is(JSON.stringify(out), intoText, `tree ${i}: value or key order changed`);
    assert.is(JSON.stringify(from), fromText, `tree ${i}: the original written into`);
    // Every object or array of `from` whose place in the result holds the same text is that very object.
    const walk = (a: unknown, b: unknown, at: string): void => {
      if (!a || typeof a !== 'object' || !b || typeof b !== 'object') return;
      if (JSON.stringify(a) === JSON.stringify(b) && Array.isArray(a) === Array.isArray(b)) {
        assert.is(a, b, `tree ${i} at ${at}: an equal part not shared`);
        sharedParts++;
        return;
      }
      if (Array.isArray(a) !== Array.isArray(b)) return;
      for (const k of Object.keys(a)) if (Object.hasOwn(b, k)) walk((a as any)[k], (b as any)[k], `${at}/${k}`);
    };
    walk(out, from, '');
  }
  assert.ok(sharedParts > 1000, `only ${sharedParts} equal parts met: the generator makes too few`);
});

test.run();
