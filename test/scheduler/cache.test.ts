// The scheduler's cache must say what a full regrouping of the cluster says: random sequences of node and pod
// events (bind, finish, delete, mark for deletion, assume, forget, heartbeat, node loss) against nodeInfos().
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SchedulerCache } from '../../src/scheduler/cache.ts';
import { summarize } from '../../src/scheduler/cluster-summary.ts';
import { nodeInfos, type NodeInfo } from '../../src/scheduler/node-info.ts';
import type { KubeObject } from '../../src/model/object.ts';

/** `flags`: 1 cordoned, 2 a NoSchedule taint, 4 a PreferNoSchedule taint, 8 not Ready (what the summary counts). */
const node = (name: string, pods = 10, beat = 0, flags = 0): KubeObject => ({
  apiVersion: 'v1', kind: 'Node', metadata: { name, resourceVersion: String(beat) },
  spec: {
    ...(flags & 1 && { unschedulable: true }),
    taints: [...(flags & 2 ? [{ key: 'a', effect: 'NoSchedule' }] : []), ...(flags & 4 ? [{ key: 'b', effect: 'PreferNoSchedule' }] : [])],
  },
  status: { allocatable: { cpu: '4', memory: '8Gi', pods: String(pods) }, conditions: [{ type: 'Ready', status: flags & 8 ? 'False' : 'True' }] },
});
const pod = (name: string, uid: string, owner: string, extra: { nodeName?: string; phase?: string; deleting?: boolean; affinity?: boolean } = {}): KubeObject => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: {
    name, namespace: 'default', uid,
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: owner, uid: `rs-${owner}`, controller: true }],
    ...(extra.deleting && { deletionTimestamp: '2030-01-01T00:00:00Z' }),
  },
  spec: {
    ...(extra.nodeName && { nodeName: extra.nodeName }),
    ...(extra.affinity && { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'zone', labelSelector: {} }] } } }),
    containers: [{ name: 'c', resources: { requests: { cpu: `${(Number(uid.slice(1)) % 5) * 100 + 100}m` } } }] },
  status: { phase: extra.phase ?? 'Pending' },
});

/** What the plugins read, comparable; pods in order of name so the cache's insertion order does not matter. The
 * phase shows that a status write (same spec: swapped in place, not recounted) leaves the node with the new object. */
const view = (infos: NodeInfo[]) => infos.map((i) => ({
  name: i.name, alloc: i.allocatable, requested: i.requested, nonZero: i.nonZeroRequested,
  pods: i.pods.map((p) => `${p.metadata.name}@${p.metadata.uid}:${p.status?.phase}`).sort(),
  controllers: Object.fromEntries([...i.controllers].sort()),
}));

test('random event sequences: the cache equals a full regrouping, assumptions included', () => {
  let seed = 7;
  const rand = (n: number) => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n; };
  for (let round = 0; round < 40; round++) {
    const cache = new SchedulerCache();
    const nodes = new Map<string, KubeObject>();
    const pods = new Map<string, KubeObject>(); // the informer's view
    const assumed = new Map<string, string>(); // pod name → node, while the informer still shows it unbound
    let uids = 0;
    for (let step = 0; step < 200; step++) {
      const names = [...pods.keys()];
      const some = names[rand(Math.max(1, names.length))];
      const n = `n${rand(4)}`;
      switch (rand(9)) {
        case 0: { const o = node(n, 5 + rand(10), step, rand(3) ? 0 : rand(16)); nodes.set(n, o); cache.setNode(o); break; }
        case 1: if (nodes.delete(n)) cache.removeNode(n); break;
        case 2: { const name = `p${rand(30)}`; if (pods.has(name)) break; const o = pod(name, `u${++uids}`, `o${rand(3)}`, { affinity: !rand(4) }); pods.set(name, o); cache.setPod(o); break; }
        case 3: if (some && !pods.get(some)!.spec.nodeName && !assumed.has(some)) { assumed.set(some, n); cache.assume(pods.get(some)!, n); } break;
        case 4: if (some && assumed.has(some)) { const o = { ...pods.get(some)!, spec: { ...pods.get(some)!.spec, nodeName: assumed.get(some) } }; assumed.delete(some); pods.set(some, o); cache.setPod(o); } break;
        case 5: if (some && assumed.has(some)) { assumed.delete(some); cache.forget(`default/${some}`); } break;
        case 6: if (some) { const o = pods.get(some)!; pods.delete(some); assumed.delete(some); cache.deletePod(o); } break;
        case 7: if (some) { const o = { ...pods.get(some)!, status: { phase: rand(2) ? 'Succeeded' : 'Running' } }; pods.set(some, o); cache.setPod(o); } break;
        case 8: if (some) { const o = pod(some, pods.get(some)!.metadata.uid!, 'o0', { nodeName: pods.get(some)!.spec.nodeName, deleting: true }); pods.set(some, o); cache.setPod(o); } break;
      }
      // An assumption stands only while the informer shows the pod unbound and unfinished.
      for (const [name] of assumed) { const p = pods.get(name)!; if (p.status.phase === 'Succeeded' || p.spec.nodeName) assumed.delete(name); }
      const truth = [...pods.values()].map((p) => (assumed.has(p.metadata.name) ? { ...p, spec: { ...p.spec, nodeName: assumed.get(p.metadata.name) } } : p));
      const got = JSON.stringify(view(cache.snapshot())), want = JSON.stringify(view(nodeInfos([...nodes.values()], truth)));
      assert.is(got, want, `round ${round} step ${step}`);
      assert.equal(cache.summary(), summarize(cache.snapshot()), `the summary kept, round ${round} step ${step}`);
      // Each controller's pods by node, as SelectorSpread reads them, say what the nodes' own counts say.
      for (const info of cache.snapshot()) {
        for (const owner of ['o0', 'o1', 'o2']) {
          assert.is(cache.podsOfController(`rs-${owner}`)?.get(info.name) ?? 0, info.controllers.get(`rs-${owner}`) ?? 0, `${owner} on ${info.name}, round ${round} step ${step}`);
        }
      }
      assert.equal(cache.summary(), summarize(nodeInfos([...nodes.values()], truth)), `the summary, round ${round} step ${step}`);
    }
  }
});

test('a heartbeat keeps the node\'s pods and takes its new allocatable', () => {
  const cache = new SchedulerCache();
  cache.setNode(node('a', 10));
  cache.setPod(pod('x', 'u1', 'o', { nodeName: 'a', phase: 'Running' }));
  cache.setNode(node('a', 3, 1));
  const [info] = cache.snapshot();
  assert.equal([info.pods.length, info.allocatable.pods, info.controllers.get('rs-o')], [1, 3, 1]);
});

test.run();
