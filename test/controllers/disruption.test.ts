// PodDisruptionBudget status arithmetic, and the eviction that honours it, against a real store.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { pdbStatus } from '../../src/controllers/disruption-status.ts';
import { evictPod, MULTIPLE_BUDGETS, VIOLATES_BUDGET } from '../../src/controllers/disruption-eviction.ts';
import type { KubeObject } from '../../src/model/object.ts';
import { cleanup, openTestStore, tempDir } from '../node/helpers.ts';

const now = new Date('2026-01-01T00:10:00Z');
const pdb = (spec: Record<string, unknown>, status?: Record<string, unknown>): KubeObject =>
  ({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web', namespace: 'default', generation: 1 }, spec: { selector: { matchLabels: { app: 'web' } }, ...spec }, ...(status && { status }) });
const pod = (name: string, ready = true, deleting = false): KubeObject => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels: { app: 'web' }, ...(deleting && { deletionTimestamp: '2026-01-01T00:09:00Z' }) },
  spec: { containers: [{ name: 'c', image: 'x' }] }, status: { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});
const brief = (s: Record<string, any>) => ({ expected: s.expectedPods, desired: s.desiredHealthy, healthy: s.currentHealthy, allowed: s.disruptionsAllowed, reason: s.conditions[0].reason });

test('minAvailable as a count: expected is the pods selected; healthy is Ready and not leaving', () => {
  const pods = [pod('a'), pod('b'), pod('c', false), pod('d', true, true)];
  assert.equal(brief(pdbStatus({ pdb: pdb({ minAvailable: 1 }), pods, expectedScale: () => undefined, now }).status),
    { expected: 4, desired: 1, healthy: 2, allowed: 1, reason: 'SufficientPods' });
  assert.equal(brief(pdbStatus({ pdb: pdb({ minAvailable: 2 }), pods, expectedScale: () => undefined, now }).status),
    { expected: 4, desired: 2, healthy: 2, allowed: 0, reason: 'InsufficientPods' });
});

test('percentages and maxUnavailable use the controllers\' scale, rounded up; no scale is SyncFailed', () => {
  const pods = [pod('a'), pod('b'), pod('c')];
  assert.equal(brief(pdbStatus({ pdb: pdb({ maxUnavailable: '50%' }), pods, expectedScale: () => 3, now }).status),
    { expected: 3, desired: 1, healthy: 3, allowed: 2, reason: 'SufficientPods' });
  assert.equal(brief(pdbStatus({ pdb: pdb({ minAvailable: '50%' }), pods, expectedScale: () => 3, now }).status),
    { expected: 3, desired: 2, healthy: 3, allowed: 1, reason: 'SufficientPods' });
  const failed = pdbStatus({ pdb: pdb({ maxUnavailable: 1 }), pods, expectedScale: () => undefined, now });
  assert.equal(brief(failed.status), { expected: 0, desired: 0, healthy: 3, allowed: 0, reason: 'SyncFailed' });
});

test('an eviction just made is remembered (not healthy) until its pod leaves or two minutes pass', () => {
  const pods = [pod('a'), pod('b')];
  const recent = pdbStatus({ pdb: pdb({ minAvailable: 1 }, { disruptedPods: { a: '2026-01-01T00:09:30Z' } }), pods, expectedScale: () => 2, now }).status;
  assert.equal(recent.disruptedPods, { a: '2026-01-01T00:09:30Z' });
  assert.is(recent.currentHealthy, 1);
  const old = pdbStatus({ pdb: pdb({ minAvailable: 1 }, { disruptedPods: { a: '2026-01-01T00:07:00Z' } }), pods, expectedScale: () => 2, now }).status;
  assert.is(old.disruptedPods, undefined);
});

test('eviction: refused while the budget allows none, counted when it allows one, refused with two budgets', async () => {
  const dir = await tempDir();
  const store = await openTestStore(dir);
  try {
    for (const n of ['a', 'b']) await store.create(pod(n));
    const created = await store.create(pdb({ minAvailable: 2 }));
    await store.updateStatus('PodDisruptionBudget', 'default', 'web', { observedGeneration: created.metadata.generation, disruptionsAllowed: 0, currentHealthy: 2, desiredHealthy: 2, expectedPods: 2 });
    assert.equal(await evictPod(store, 'default', 'a', now), { evicted: false, code: 429, message: VIOLATES_BUDGET });
    assert.ok(await store.get('Pod', 'default', 'a'), 'still there');
    await store.updateStatus('PodDisruptionBudget', 'default', 'web', { observedGeneration: created.metadata.generation, disruptionsAllowed: 1, currentHealthy: 2, desiredHealthy: 1, expectedPods: 2 });
    assert.equal(await evictPod(store, 'default', 'a', now), { evicted: true });
    assert.is(await store.get('Pod', 'default', 'a'), undefined, 'an unbound pod goes at once');
    const s = (await store.get('PodDisruptionBudget', 'default', 'web'))!.status;
    assert.equal({ allowed: s.disruptionsAllowed, disrupted: s.disruptedPods }, { allowed: 0, disrupted: { a: '2026-01-01T00:10:00Z' } });
    await store.create({ ...pdb({ maxUnavailable: 1 }), metadata: { name: 'other', namespace: 'default' } });
    assert.equal(await evictPod(store, 'default', 'b', now), { evicted: false, code: 500, message: MULTIPLE_BUDGETS });
  } finally {
    await store.close();
    await cleanup();
  }
});

test.run();
