// Rollout impact of DaemonSets in `plan`: the nodes it would run on, and how a template change rolls over them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/model/object.ts';
import { rolloutImpacts } from '../../src/review/rollout-impact.ts';
import { liveState, node, objectsOf, planOf, stored } from './workload-builders.ts';

const yaml = (version: string, extra = '') => `apiVersion: apps/v1
kind: DaemonSet
metadata: { name: agent }
spec:
  selector: { matchLabels: { app: agent } }
${extra}  template:
    metadata: { labels: { app: agent } }
    spec:
      containers: [{ name: a, image: "registry.local/agent:${version}" }]
`;
const tainted = { ...node('n3'), spec: { taints: [{ key: 'dedicated', effect: 'NoSchedule' }] } };
const nodes = [node('n1'), node('n2'), tainted];
const impacts = (desired: KubeObject[], objects: KubeObject[], fromGit: KubeObject[], known = true) =>
  rolloutImpacts(planOf(desired, liveState(objects, fromGit, known)), liveState(objects, fromGit, known));
const podOf = (ds: KubeObject, n: string): KubeObject => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: `agent-${n}`, namespace: 'default', uid: `p-${n}`, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'agent', uid: ds.metadata.uid!, controller: true }] },
  spec: { nodeName: n }, status: { phase: 'Running' },
});

test('a new DaemonSet: one pod on each node it tolerates', () => {
  const [i] = impacts(objectsOf(yaml('v1')), nodes, []);
  assert.equal({ action: i.action, created: i.podsCreated, summary: i.summary }, { action: 'create', created: 2, summary: 'creates one pod on each of 2 nodes that should run it' });
});

test('a template change rolls node by node within maxUnavailable; OnDelete replaces nothing', () => {
  const live = stored(objectsOf(yaml('v1'))[0]);
  const objects = [live, ...nodes, podOf(live, 'n1'), podOf(live, 'n2')];
  const [i] = impacts(objectsOf(yaml('v2')), objects, [live]);
  assert.equal(i.summary, 'rolls on 2 nodes: replaces 2 pods node by node, RollingUpdate (maxSurge 0, maxUnavailable 1)');
  assert.equal([i.podsCreated, i.podsDeleted], [2, 2]);
  const [o] = impacts(objectsOf(yaml('v2', '  updateStrategy: { type: OnDelete }\n')), objects, [live]);
  assert.is(o.summary, 'OnDelete: no pod is replaced; the 2 pods running keep the old template until each is deleted');
  assert.equal(impacts(objectsOf(yaml('v1')), objects, [live]), [], 'no template change, no rollout');
  const [pruned] = impacts([], objects, [live]);
  assert.is(pruned.summary, 'deletes it and its 2 pods');
});

test.run();
