// sameCanonical answers exactly what comparing the two canonical strings answers, on random JSON-like values
// (reordered keys, undefined fields, NaN, -0, nulls, nested lists), equal or nearly so.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { canonical, sameCanonical } from '../../src/plan/canonical.ts';

function rng(seed: number) {
  return () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff; };
}

const LEAVES = [0, -0, 1, 2.5, NaN, null, undefined, '', 'a', 'b', true, false];

function value(next: () => number, depth: number): unknown {
  const r = next();
  if (depth === 0 || r < 0.4) return LEAVES[Math.floor(next() * LEAVES.length)];
  if (r < 0.7) return Array.from({ length: Math.floor(next() * 4) }, () => value(next, depth - 1));
  const o: Record<string, unknown> = {};
  for (let i = Math.floor(next() * 4); i > 0; i--) o['kxy'[Math.floor(next() * 3)] + Math.floor(next() * 2)] = value(next, depth - 1);
  return o;
}

/** The same value with keys in reverse order, and now and then one leaf changed or an undefined field added. */
function variant(v: unknown, next: () => number): unknown {
  if (Array.isArray(v)) return v.map((x) => variant(x, next));
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).reverse()) out[k] = variant((v as Record<string, unknown>)[k], next);
    if (next() < 0.1) out.extra = undefined;
    if (next() < 0.05) out.other = 1;
    return out;
  }
  return next() < 0.05 ? LEAVES[Math.floor(next() * LEAVES.length)] : v;
}

test('sameCanonical(a, b) is canonical(a) === canonical(b)', () => {
  const next = rng(7);
  let equal = 0, different = 0;
  for (let i = 0; i < 3000; i++) {
    const a = value(next, 4);
    const b = next() < 0.2 ? value(next, 4) : variant(a, next);
    const expected = canonical(a) === canonical(b);
    assert.is(sameCanonical(a, b), expected, `${canonical(a)} vs ${canonical(b)}`);
    if (expected) equal++; else different++;
  }
  assert.ok(equal > 500 && different > 300, `${equal} equal, ${different} different`);
});

test.run();
