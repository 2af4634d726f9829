// The tallies a ReplicaSet's sync reads instead of looking at each of its pods: over random changes of pods (owner,
// labels, phase, Ready, deletion) they always equal a count of the pods from scratch, and the pods are looked at
// again in full only when what their facts depend on (selector, template labels) changes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/model/object.ts';
import { ReplicaSetPods } from '../../src/controllers/replicaset-pods.ts';
import { controllerOf, isPodActive, isPodReady } from '../../src/model/pod.ts';
import { matchesRequirements, requirementsOf } from '../../src/model/selector.ts';
import { keyOf } from '../../src/model/key.ts';

const rs = (uid: string, templateLabels: Record<string, string>, minReadySeconds = 0): KubeObject => ({
  apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: `rs-${uid}`, namespace: 'default', uid },
  spec: { selector: { matchLabels: { app: 'web' } }, minReadySeconds, template: { metadata: { labels: templateLabels } } },
});

test('tallies equal a count from scratch over random pod changes, and are rebuilt only when the template labels change', () => {
  let seed = 11;
  const next = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff; };
  const pick = <T>(xs: T[]) => xs[Math.floor(next() * xs.length)];
  const pods = new Map<string, KubeObject>();
  let scans = 0;
  const byOwner = (uid: string) => (scans++, [...pods.values()].filter((p) => controllerOf(p)?.uid === uid));
  const tallies = new ReplicaSetPods(byOwner);
  const now = new Date('2026-01-01T00:01:00Z');
  let sets = [rs('a', { app: 'web', tier: 'x' }), rs('b', { app: 'web' }, 30)];
  const reqs = requirementsOf({ matchLabels: { app: 'web' } });
  for (const set of sets) tallies.of(set, reqs);
  for (let step = 0; step < 600; step++) {
    const name = `p${Math.floor(next() * 25)}`;
    const old = pods.get(`default/${name}`);
    if (next() < 0.03) sets = sets.map((s, i) => (i === 0 ? rs('a', { app: 'web', tier: pick(['x', 'y']) }) : s)); // template labels change
    let pod: KubeObject | undefined;
    if (!old || next() < 0.85) {
      const owner = pick(['a', 'b', 'c', undefined]);
      pod = {
        apiVersion: 'v1', kind: 'Pod',
        metadata: {
          name, namespace: pick(['default', 'default', 'other']), uid: `u-${name}`,
          labels: { app: pick(['web', 'web', 'api']), tier: pick(['x', 'y']) },
          ...(owner && { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `rs-${owner}`, uid: owner, controller: true }] }),
          ...(next() < 0.1 && { deletionTimestamp: '2026-01-01T00:00:00Z' }),
        },
        status: {
          phase: pick(['Pending', 'Running', 'Running', 'Succeeded', 'Failed']),
          conditions: [{ type: 'Ready', status: pick(['True', 'False']), lastTransitionTime: pick(['2026-01-01T00:00:00Z', '2026-01-01T00:00:50Z']) }],
        },
      };
    }
    if (old && pod && keyOf(old) !== keyOf(pod)) { // another namespace: another object
      pods.delete(keyOf(old));
      tallies.changed(old, undefined);
      pods.set(keyOf(pod), pod);
      tallies.changed(undefined, pod);
    } else if (pod) {
      pods.set(keyOf(pod), pod);
      tallies.changed(old, pod);
    } else {
      pods.delete(keyOf(old!));
      tallies.changed(old, undefined);
    }
    for (const set of sets) {
      const tally = tallies.of(set, reqs);
      const mine = [...pods.values()].filter((p) => controllerOf(p)?.uid === set.metadata.uid && isPodActive(p) && p.metadata.namespace === 'default');
      const claimed = mine.filter((p) => matchesRequirements(reqs, p.metadata.labels));
      const labels = set.spec.template.metadata.labels as Record<string, string>;
      const ready = claimed.filter(isPodReady);
      const available = set.spec.minReadySeconds ? ready.filter((p) => Date.parse(p.status.conditions[0].lastTransitionTime) + 30_000 < now.getTime()) : ready;
      assert.equal([...tally.claimed.keys()].sort(), claimed.map(keyOf).sort(), `step ${step}: claimed of ${set.metadata.uid}`);
      assert.equal([...tally.unmatched.keys()].sort(), mine.filter((p) => !claimed.includes(p)).map(keyOf).sort(), `step ${step}: unmatched`);
      const counts = tally.counts(set.spec.minReadySeconds, now);
      assert.equal({ ...counts, nextAvailableInMs: undefined }, {
        replicas: claimed.length, fullyLabeled: claimed.filter((p) => Object.entries(labels).every(([k, v]) => p.metadata.labels?.[k] === v)).length,
        ready: ready.length, available: available.length, nextAvailableInMs: undefined,
      }, `step ${step}: counts of ${set.metadata.uid}`);
      if (set.spec.minReadySeconds && available.length < ready.length) assert.is(counts.nextAvailableInMs, 20_001, `step ${step}: when to look again`);
    }
  }
  assert.ok(scans < 2 + 0.03 * 600 * 2, `pods scanned in full only when the template labels changed (${scans} scans)`);
});

test('a pod adopted in this sync and not yet tallied is counted besides; a ReplicaSet forgotten is scanned again', () => {
  let scans = 0;
  const tallies = new ReplicaSetPods(() => (scans++, []));
  const set = rs('a', { app: 'web' });
  const reqs = requirementsOf({ matchLabels: { app: 'web' } });
  const adopted: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', labels: { app: 'web' } }, status: { conditions: [{ type: 'Ready', status: 'True' }] } };
  assert.equal(tallies.of(set, reqs).counts(0, new Date(), [adopted]), { replicas: 1, fullyLabeled: 1, ready: 1, available: 1 });
  tallies.of(set, reqs);
  assert.is(scans, 1);
  tallies.forget('a');
  tallies.of(set, reqs);
  assert.is(scans, 2);
});

test.run();
