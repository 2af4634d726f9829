// The sync plans shared desired objects (the loader's, frozen, the same object for an unchanged document) against
// the store's shared live objects, and remembers each comparison: a commit diffs only what changed. That must give
// the very plan a fresh comparison of copies gives, over random edits of git and random changes of the live state.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { loadManifests } from '../../src/manifests/load-manifests.ts';
import { makePlan, type Plan } from '../../src/plan/plan.ts';
import { objectKey } from '../../src/model/key.ts';
import type { KubeObject } from '../../src/model/object.ts';

function rng(seed: number) {
  return () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff; };
}

const VARIANTS = [
  (n: string, v: number) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${n}}\ndata: {v: "${v}"}\n`,
  (n: string, v: number) => `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: ${n}}\nspec:\n  replicas: ${v % 3}\n  selector: {matchLabels: {app: ${n}}}\n  template:\n    metadata: {labels: {app: ${n}}}\n    spec: {containers: [{name: c, image: "nginx:1.${v}", env: [{name: A, value: "${v}"}, {name: B, value: x}]}]}\n`,
  (n: string, v: number) => `apiVersion: v1\nkind: Service\nmetadata: {name: ${n}}\nspec: {selector: {app: ${n}}, ports: [{port: ${80 + (v % 2)}}]}\n`,
  (n: string, v: number) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${n}, labels: {v: "${v % 2}"}}\ndata: {v: "x"}\n`,
];

/** What the store would hold after applying `plan`: each written object replaced (never changed in place). */
function applied(live: Map<string, KubeObject>, plan: Plan): void {
  for (const s of plan.steps) {
    if (s.action === 'prune') live.delete(s.key);
    else {
      const was = live.get(s.key);
      const spec = s.kind === 'Service' ? { ...s.object.spec, clusterIP: was?.spec?.clusterIP ?? `127.2.0.${live.size + 1}` } : s.object.spec;
      live.set(s.key, { ...structuredClone(s.object), spec: structuredClone(spec), metadata: { ...structuredClone(s.object.metadata), uid: was?.metadata.uid ?? s.key } });
    }
  }
}

const shape = (p: Plan) => JSON.stringify({ steps: p.steps.map((s) => [s.action, s.key, s.patch, s.object]), counts: [p.create, p.update, p.prune, p.unchanged], inventory: p.inventory });

test('planning shared objects with remembered comparisons equals planning fresh copies, over random edits and drift', () => {
  for (const seed of [1, 2, 3, 4]) {
    const next = rng(seed);
    const files = new Map<string, string>();
    const live = new Map<string, KubeObject>();
    let inventory: string[] = [];
    for (let step = 0; step < 80; step++) {
      // git: a file added, changed or removed (names collide across kinds and files only as git allows)
      const path = `app-${Math.floor(next() * 6)}/f${Math.floor(next() * 3)}.yaml`;
      if (next() < 0.15) files.delete(path);
      else files.set(path, VARIANTS[Math.floor(next() * VARIANTS.length)](path.replace(/\W/g, '-').toLowerCase(), Math.floor(next() * 6)));
      // live: something else changed an object (drift), deleted one, or made one git never applied
      const roll = next();
      const keys = [...live.keys()];
      const victim = keys[Math.floor(next() * keys.length)];
      if (victim && roll < 0.15) {
        const o = live.get(victim)!;
        live.set(victim, { ...o, metadata: { ...o.metadata, labels: { ...o.metadata.labels, drift: String(step) } } });
      } else if (victim && roll < 0.25) live.delete(victim);
      else if (roll < 0.3) live.set(`v1/ConfigMap/default/made-${step}`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `made-${step}`, namespace: 'default' }, data: {} });
      const loaded = loadManifests([...files].map(([p, content]) => ({ path: p, content })), { shared: true });
      if (loaded.issues.some((i) => i.severity === 'error')) continue;
      const desired = loaded.objects.map((d) => d.object);
      const incremental = makePlan({ desired, live: [...live.values()], inventory });
      const fresh = makePlan({ desired: desired.map((o) => structuredClone(o)), live: [...live.values()].map((o) => structuredClone(o)), inventory });
      assert.is(shape(incremental), shape(fresh), `seed ${seed}, step ${step}`);
      // planned again before applying: the remembered answer, still the same
      assert.is(shape(makePlan({ desired, live: [...live.values()], inventory })), shape(fresh), `seed ${seed}, step ${step}, again`);
      applied(live, incremental);
      inventory = incremental.inventory;
      // once applied, nothing is left to do
      const after = makePlan({ desired, live: [...live.values()], inventory });
      assert.is(after.steps.length, 0, `seed ${seed}, step ${step}: ${after.steps.map((s) => `${s.action} ${s.key}`).join(', ')}`);
      assert.is(after.unchanged, new Set(desired.map(objectKey)).size);
    }
  }
});


test("a review's plan (remember: false) against copies of the live objects does not keep them: the sync's memory of comparisons is left as it was", async () => {
  // The copies must be collectable: a remembered comparison would hold its live object as long as the desired one lives.
  v8.setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const { objects } = loadManifests([{ path: 'a.yaml', content: VARIANTS[1]('web', 3) }], { shared: true });
  const desired = objects.map((d) => d.object);
  const liveWeb: KubeObject = { ...structuredClone(desired[0]), spec: { ...structuredClone(desired[0].spec), replicas: 7 }, metadata: { ...structuredClone(desired[0].metadata), uid: 'u1' } };
  const input = { desired, live: [liveWeb], inventory: [objectKey(liveWeb)] };
  const first = makePlan(input);
  const held = (remember: boolean) => {
    const copy = structuredClone(liveWeb);
    assert.equal(makePlan({ ...input, live: [copy], remember }).steps, first.steps, 'the review plans the same');
    return new WeakRef(copy);
  };
  const reviewed = held(false);
  await new Promise((r) => setImmediate(r));
  gc();
  assert.is(reviewed.deref(), undefined, 'the review kept no copy');
  const remembered = held(true); // the sync's own plans remember: the check could fail
  await new Promise((r) => setImmediate(r));
  gc();
  assert.ok(remembered.deref(), 'a remembered comparison holds its live object');
});

test.run();
