// Rollout impact: what a plan does to each workload's pods, counted from the live pods, in one sentence.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/model/object.ts';
import { rolloutImpacts } from '../../src/review/rollout-impact.ts';
import { makePlan } from '../../src/plan/plan.ts';
import { deploymentYaml, liveState, objectsOf, planOf, podsOf, replicaSet, running, stored } from './workload-builders.ts';

const impacts = (desired: KubeObject[], objects: KubeObject[], fromGit: KubeObject[], nodesKnown = true) =>
  rolloutImpacts(planOf(desired, liveState(objects, fromGit, nodesKnown)), liveState(objects, fromGit, nodesKnown));

test('template change: RollingUpdate replaces the pods, 25%/25% of 3 resolved to maxSurge 1 (up), maxUnavailable 0 (down)', () => {
  const web = running(deploymentYaml({ replicas: 3 }), { nodes: ['n1', 'n2'] });
  const [impact] = impacts(objectsOf(deploymentYaml({ replicas: 3, version: 'v2' })), web.all, [web.deployment]);
  assert.equal(impact, {
    kind: 'Deployment', namespace: 'default', name: 'web', action: 'replace',
    replicas: { before: 3, after: 3 }, podsCreated: 3, podsDeleted: 3,
    strategy: 'RollingUpdate', maxSurge: 1, maxUnavailable: 0,
    summary: 'replaces 3 pods, RollingUpdate (maxSurge 1, maxUnavailable 0)',
  });
});

test('surge and unavailable are resolved against the desired replicas, not the live ones', () => {
  const web = running(deploymentYaml({ replicas: 3 }), { nodes: ['n1'] });
  const [impact] = impacts(objectsOf(deploymentYaml({ replicas: 10, version: 'v2' })), web.all, [web.deployment]);
  // 25% of 10 = 2.5: surge rounds up to 3, unavailable down to 2.
  assert.equal([impact.maxSurge, impact.maxUnavailable, impact.podsCreated, impact.podsDeleted], [3, 2, 10, 3]);
  assert.is(impact.summary, 'replaces 3 pods with 10, RollingUpdate (maxSurge 3, maxUnavailable 2)');
  const [abs] = impacts(objectsOf(deploymentYaml({ replicas: 4, version: 'v2', strategy: { maxSurge: 0, maxUnavailable: '50%' } })), web.all, [web.deployment]);
  assert.equal([abs.maxSurge, abs.maxUnavailable], [0, 2]);
});

test('only active pods not of the new template are deleted: finished and terminating ones are not counted', () => {
  const web = running(deploymentYaml({ replicas: 3 }), { nodes: ['n1'] });
  const extra = [...podsOf(web.rs, 1, { nodes: ['n1'], phase: 'Failed' }), ...podsOf(web.rs, 1, { nodes: ['n1'], deleting: true })];
  const [impact] = impacts(objectsOf(deploymentYaml({ replicas: 3, version: 'v2' })), [...web.all, ...extra], [web.deployment]);
  assert.is(impact.podsDeleted, 3);
});

test('Recreate: all old pods stop before the new ones start; no surge figures', () => {
  const web = running(deploymentYaml({ replicas: 3, strategy: 'Recreate' }), { nodes: ['n1'] });
  const [impact] = impacts(objectsOf(deploymentYaml({ replicas: 3, strategy: 'Recreate', version: 'v2' })), web.all, [web.deployment]);
  assert.is(impact.strategy, 'Recreate');
  assert.is(impact.maxSurge, undefined);
  assert.is(impact.maxUnavailable, undefined);
  assert.is(impact.summary, 'Recreate: stops all 3 pods before starting 3 new ones');
});

test('scale only: pods start or stop, none are replaced', () => {
  const web = running(deploymentYaml({ replicas: 3 }), { nodes: ['n1'] });
  const [up] = impacts(objectsOf(deploymentYaml({ replicas: 5 })), web.all, [web.deployment]);
  assert.equal(up, {
    kind: 'Deployment', namespace: 'default', name: 'web', action: 'scale',
    replicas: { before: 3, after: 5 }, podsCreated: 2, podsDeleted: 0, summary: 'scales 3 → 5: starts 2 pods, none replaced',
  });
  const [down] = impacts(objectsOf(deploymentYaml({ replicas: 1 })), web.all, [web.deployment]);
  assert.equal([down.action, down.podsCreated, down.podsDeleted, down.summary], ['scale', 0, 2, 'scales 3 → 1: stops 2 pods, none replaced']);
});

test('an update that changes neither template nor replicas has no rollout impact', () => {
  const web = running(deploymentYaml({ replicas: 3 }), { nodes: ['n1'] });
  const desired = objectsOf(deploymentYaml({ replicas: 3 }));
  desired[0].metadata.labels = { team: 'shop' };
  const plan = planOf(desired, liveState(web.all, [web.deployment]));
  assert.is(plan.update, 1, 'the label is a change');
  assert.equal(rolloutImpacts(plan, liveState(web.all, [web.deployment])), []);
});

test('rollback: the template of an old ReplicaSet of this Deployment is reused, with its revision', () => {
  const v1 = objectsOf(deploymentYaml({ version: 'v1' }))[0];
  const web = running(deploymentYaml({ version: 'v2' }), { nodes: ['n1'], revision: 2 });
  const old = replicaSet(web.deployment, v1.spec.template, 0, 1);
  // Another Deployment's ReplicaSet with the same template is not this one's to reuse.
  const stranger = { ...replicaSet({ ...web.deployment, metadata: { ...web.deployment.metadata, uid: 'uid-other' } }, v1.spec.template, 0, 7), metadata: { ...old.metadata, name: 'other-rs', uid: 'uid-other-rs', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'other', uid: 'uid-other', controller: true }] } };
  const [impact] = impacts([v1], [stranger, ...web.all, old], [web.deployment]);
  assert.equal(impact.reuses, { replicaSet: old.metadata.name, revision: '1' });
  assert.equal([impact.action, impact.podsCreated, impact.podsDeleted], ['replace', 3, 3]);
  assert.is(impact.summary, `rolls back to revision 1: scales ReplicaSet ${old.metadata.name} up again instead of creating one, replaces 3 pods, RollingUpdate (maxSurge 1, maxUnavailable 0)`);
  // A new template: nothing to reuse.
  const [fresh] = impacts(objectsOf(deploymentYaml({ version: 'v3' })), [...web.all, old], [web.deployment]);
  assert.is(fresh.reuses, undefined);
});

test('create and prune: new pods, and the active pods that go with the workload', () => {
  const web = running(deploymentYaml({ name: 'web', replicas: 2 }), { nodes: ['n1'] });
  const gone = podsOf(web.rs, 1, { nodes: ['n1'], phase: 'Succeeded' });
  const desired = objectsOf(deploymentYaml({ name: 'api', replicas: 4 }));
  const out = impacts(desired, [...web.all, ...gone], [web.deployment]);
  assert.equal(out.map((i) => [i.name, i.action, i.replicas, i.podsCreated, i.podsDeleted, i.summary]), [
    ['api', 'create', { before: 0, after: 4 }, 4, 0, 'creates 4 pods'],
    ['web', 'prune', { before: 2, after: 0 }, 0, 2, 'deletes it and its 2 pods'],
  ]);
});

test('a base revision has no pods: counts come from the status, or the spec', () => {
  const base = stored(objectsOf(deploymentYaml({ replicas: 3 }))[0]);
  const [noStatus] = impacts(objectsOf(deploymentYaml({ replicas: 3, version: 'v2' })), [base], [base], false);
  assert.equal([noStatus.action, noStatus.podsCreated, noStatus.podsDeleted], ['replace', 3, 3]);
  const withStatus = { ...base, status: { replicas: 2 } };
  const [fromStatus] = impacts(objectsOf(deploymentYaml({ replicas: 3, version: 'v2' })), [withStatus], [withStatus], false);
  assert.is(fromStatus.podsDeleted, 2);
  const [pruned] = impacts([], [base], [base], false);
  assert.equal([pruned.action, pruned.podsDeleted], ['prune', 3]);
});

test('paused: a template change does not roll out', () => {
  const web = running(deploymentYaml({ replicas: 3 }), { nodes: ['n1'] });
  const [impact] = impacts(objectsOf(deploymentYaml({ replicas: 3, version: 'v2', paused: true })), web.all, [web.deployment]);
  assert.equal([impact.action, impact.podsCreated, impact.podsDeleted, impact.strategy], ['replace', 0, 0, undefined]);
  assert.match(impact.summary, /paused/);
});

const replicaSetYaml = (replicas: number, version: string) => `apiVersion: apps/v1
kind: ReplicaSet
metadata: { name: worker }
spec:
  replicas: ${replicas}
  selector: { matchLabels: { app: worker } }
  template:
    metadata: { labels: { app: worker } }
    spec: { containers: [{ name: app, image: "registry.local/worker:${version}" }] }
`;

test('a ReplicaSet from git: a template change replaces no pod; scaling starts pods from the new template', () => {
  const rs = stored(objectsOf(replicaSetYaml(2, 'v1'))[0], { replicas: 2 });
  const pods = podsOf(rs, 2, { nodes: ['n1'] });
  const [changed] = impacts(objectsOf(replicaSetYaml(2, 'v2')), [rs, ...pods], [rs]);
  assert.equal([changed.kind, changed.action, changed.podsCreated, changed.podsDeleted], ['ReplicaSet', 'replace', 0, 0]);
  assert.match(changed.summary, /does not replace its running pods/);
  const [scaled] = impacts(objectsOf(replicaSetYaml(3, 'v2')), [rs, ...pods], [rs]);
  assert.equal([scaled.action, scaled.podsCreated, scaled.podsDeleted], ['scale', 1, 0]);
  assert.match(scaled.summary, /^scales 2 → 3: starts 1 pod, none replaced; only new pods use the changed template/);
});

const podYaml = (image: string, label = 'a') => `apiVersion: v1
kind: Pod
metadata: { name: tool, labels: { role: ${label} } }
spec: { containers: [{ name: app, image: "${image}" }] }
`;

test('a bare Pod: a spec change is reported as it behaves (old containers keep running); a label change is not', () => {
  const live = stored(objectsOf(podYaml('registry.local/tool:1'))[0], { phase: 'Running' });
  live.spec.nodeName = 'n1';
  const [image] = impacts(objectsOf(podYaml('registry.local/tool:2')), [live], [live]);
  assert.equal([image.kind, image.action, image.podsCreated, image.podsDeleted], ['Pod', 'replace', 0, 0]);
  assert.match(image.summary, /^container image changed: .*keeps its old containers until it is deleted and created again/);
  const other = objectsOf(podYaml('registry.local/tool:1'))[0];
  other.spec.containers[0].command = ['run'];
  const [spec] = impacts([other], [live], [live]);
  assert.match(spec.summary, /^pod spec changed: Kubernetes would refuse this update/);
  assert.equal(impacts(objectsOf(podYaml('registry.local/tool:1', 'b')), [live], [live]), []);
  const [created] = impacts(objectsOf(podYaml('registry.local/tool:1')), [], []);
  assert.equal([created.action, created.podsCreated, created.summary], ['create', 1, 'creates the pod']);
  const [pruned] = impacts([], [live], [live]);
  assert.equal([pruned.action, pruned.podsDeleted, pruned.summary], ['prune', 1, 'deletes the pod']);
});

/** A Job as git describes it, and its active pods as the Job controller made them. */
function jobObject(image: string, spec: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'migrate', namespace: 'default' },
    spec: { parallelism: 2, completions: 4, ...spec, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'migrate', image }] } } },
  };
}
const jobPods = (job: KubeObject, n: number): KubeObject[] => Array.from({ length: n }, (_, i) => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name: `migrate-p${i}`, namespace: 'default', uid: `uid-migrate-p${i}`, ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'migrate', uid: job.metadata.uid!, controller: true }] },
  spec: { ...job.spec.template.spec, nodeName: 'n1' }, status: { phase: 'Running' },
}));
/** Jobs are not committed from git yet (the kind registry decides): the plan is made over them directly. */
const jobImpacts = (desired: KubeObject[], live: KubeObject[], fromGit: KubeObject[]) => {
  const state = liveState(live, fromGit);
  return rolloutImpacts(makePlan({ desired, live: live.filter((o) => o.kind === 'Job'), inventory: state.inventory }), state);
};

test('a Job whose pod template changes: Kubernetes refuses the update, so it must be recreated; its running pods are counted', () => {
  const live = stored(jobObject('git:apps/migrate@aaa'), { active: 2 });
  const [impact] = jobImpacts([jobObject('git:apps/migrate@bbb')], [live, ...jobPods(live, 2)], [live]);
  assert.equal(impact, {
    kind: 'Job', namespace: 'default', name: 'migrate', action: 'replace', replicas: { before: 2, after: 2 }, podsCreated: 0, podsDeleted: 0,
    summary: "pod template changed: Kubernetes refuses this update (a Job's spec.template is immutable); the Job must be deleted and created again (delete it first, or give it a new name) to run the new template; recreating it stops its 2 pods running now",
  });
  // Fields that change in place (parallelism here) have no rollout to show.
  assert.equal(jobImpacts([jobObject('git:apps/migrate@aaa', { parallelism: 3 })], [live, ...jobPods(live, 2)], [live]), []);
});

test('a new Job starts parallelism pods, bounded by completions; a suspended one none; pruning stops its running pods', () => {
  assert.equal(jobImpacts([jobObject('x', { parallelism: 5, completions: 3 })], [], []).map((i) => [i.action, i.podsCreated, i.summary]), [['create', 3, 'creates 3 pods']]);
  assert.equal(jobImpacts([jobObject('x', { suspend: true })], [], []).map((i) => i.summary), ['creates no pods (suspended)']);
  const live = stored(jobObject('x'), { active: 2 });
  assert.equal(jobImpacts([], [live, ...jobPods(live, 2)], [live]).map((i) => [i.action, i.podsDeleted, i.summary]), [['prune', 2, 'deletes it and its 2 pods']]);
});

test.run();
