// ObjectIndex keeps each namespace's names in order as objects come and go, and moves label entries only when the
// labels change: random sequences of puts (new, replaced with the same or other labels) and removes must list what
// sorting and filtering every stored object says.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { byNamespaceName, ObjectIndex } from '../../src/store/indexes.ts';
import type { KubeObject } from '../../src/model/object.ts';
import type { Requirement } from '../../src/model/selector.ts';
import { matchesRequirements } from '../../src/model/selector.ts';

test('random puts and removes: lists come out as a sort and filter of every object says', () => {
  let seed = 11;
  // mulberry32: integer arithmetic throughout, so every choice below really varies.
  const rand = (n: number) => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) % n;
  };
  const index = new ObjectIndex();
  const model = new Map<string, KubeObject>();
  const key = (kind: string, ns: string, name: string) => `${kind}/${ns}/${name}`;
  const selectors: Requirement[][] = [[], [{ key: 'app', operator: 'In', values: ['a'] }], [{ key: 'app', operator: 'In', values: ['a', 'b'] }, { key: 'tier', operator: 'Exists', values: [] }], [{ key: 'app', operator: 'NotIn', values: ['c'] }],
    // `id` is on one object per namespace at most: label values held alone, then with a second, then alone again.
    [{ key: 'id', operator: 'In', values: ['n-3'] }], [{ key: 'id', operator: 'In', values: ['n-3', 'n-7'] }, { key: 'app', operator: 'Exists', values: [] }]];
  for (let step = 0; step < 3000; step++) {
    const kind = rand(2) ? 'Pod' : 'ConfigMap';
    const ns = ['', 'default', 'kube-system', 'b'][rand(4)];
    const name = `n-${rand(10)}`;
    const k = key(kind, ns, name);
    if (rand(4) === 0) {
      const gone = index.remove(kind, ns, name);
      assert.is(gone, model.get(k));
      model.delete(k);
    } else {
      const cur = model.get(k);
      // Replaced with the very labels object (a status write), or new labels, or none.
      const labels = cur && rand(2) ? cur.metadata.labels : rand(3) ? { app: ['a', 'b', 'c'][rand(3)], ...(rand(2) && { tier: 'x' }), ...(rand(2) && { id: name }) } : undefined;
      const o: KubeObject = { apiVersion: 'v1', kind, metadata: { name, ...(ns && { namespace: ns }), ...(labels && { labels }), resourceVersion: String(step) } };
      assert.is(index.put(o), cur);
      model.set(k, o);
    }
    if (step % 50 !== 0) continue;
    for (const kd of ['Pod', 'ConfigMap']) {
      for (const reqs of selectors) {
        for (const n of [undefined, '', 'default', 'b']) {
          const want = [...model.values()].filter((o) => o.kind === kd && (n === undefined || (o.metadata.namespace ?? '') === n) && matchesRequirements(reqs, o.metadata.labels)).sort(byNamespaceName);
          const got = index.list(kd, n, reqs);
          assert.equal(got.map((o) => `${o.metadata.namespace ?? ''}/${o.metadata.name}@${o.metadata.resourceVersion}`), want.map((o) => `${o.metadata.namespace ?? ''}/${o.metadata.name}@${o.metadata.resourceVersion}`), `step ${step} ${kd} ${n} ${JSON.stringify(reqs)}`);
        }
      }
    }
  }
  assert.is(index.size, model.size);
  assert.ok(model.size > 30, 'the sequence filled the index');
});

test.run();
