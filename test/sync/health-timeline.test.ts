// The applied revision's health and timeline, with real parts (git repository, GitSource, lowdb store) and no
// engine: the test plays the controllers' and the node's part by writing ReplicaSets, Pods and statuses itself.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeRepo, type TestRepo } from '../support/git-repo.ts';
import { until } from '../support/wait.ts';
import { GitSource } from '../../src/source/git-source.ts';
import { openStore, type LowdbStore } from '../../src/store/lowdb-store.ts';
import { Syncer } from '../../src/sync/syncer.ts';
import type { Store } from '../../src/store/store.ts';
import type { KubeObject } from '../../src/model/object.ts';
import type { StatusReport } from '../../src/sync/status.ts';
import { formatIssue } from '../../src/model/issue.ts';
import { ownerRefTo } from '../../src/model/pod.ts';
import { POD_TEMPLATE_HASH_LABEL, podTemplateHash, templateWithHash } from '../../src/controllers/pod-template-hash.ts';
import { REVISION_ANNOTATION } from '../../src/controllers/rollout.ts';

const CM_KEY = 'v1/ConfigMap/default/greeting';
const DEPLOY_KEY = 'apps/v1/Deployment/default/web';

const greeting = `apiVersion: v1
kind: ConfigMap
metadata:
  name: greeting
data:
  GREETING: hello
`;

const web = (image: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: ${image}
          command: ["node", "server.js"]
          envFrom:
            - configMapRef:
                name: greeting
          resources:
            requests:
              cpu: 100m
              memory: 64Mi
`;

interface Rig { repo: TestRepo; dataDir: string; store: LowdbStore; syncer: Syncer }

const WEB_FILES = { 'greeting.yaml': greeting, 'web.yaml': web('node:20') };

async function rig(wrap: (s: LowdbStore) => Store = (s) => s, files: Record<string, string> = WEB_FILES): Promise<Rig> {
  const repo = makeRepo(files, { message: 'web on node 20' });
  const dataDir = mkdtempSync(path.join(tmpdir(), 'convergit-health-timeline-'));
  const store = await openStore(dataDir);
  const source = new GitSource({ repo: repo.dir, branch: 'main', path: '', dataDir, interval: 0 });
  await source.prepare();
  const syncer = new Syncer(source, wrap(store), { repository: repo.dir, branch: 'main', path: '' });
  await syncer.start();
  return { repo, dataDir, store, syncer };
}

async function teardown(r: Rig | undefined) {
  if (!r) return;
  await r.syncer.stop();
  await r.store.close();
  r.repo.cleanup();
  rmSync(r.dataDir, { recursive: true, force: true });
}

/** Waits until `sha` is applied and its health is `want`; returns that status. */
const healthIs = (syncer: Syncer, sha: string, want: string) =>
  until(() => {
    const s = syncer.status();
    return s.lastAppliedRevision === sha && s.health.revision === sha && s.health.status === want && s;
  }, `${sha.slice(0, 7)} to be ${want}`);

const entryOf = (s: StatusReport, sha: string) => s.history.find((h) => h.sha === sha)!;

/** What the deployment controller does for the Deployment's current template: its ReplicaSet, at `revision`. */
async function replicaSetFor(store: Store, revision: number): Promise<KubeObject> {
  const d = (await store.get('Deployment', 'default', 'web'))!;
  const hash = podTemplateHash(d.spec.template);
  const template = templateWithHash(d.spec.template, hash);
  const rs = await store.create({
    apiVersion: 'apps/v1', kind: 'ReplicaSet',
    metadata: {
      name: `web-${hash}`, namespace: 'default', labels: template.metadata!.labels as Record<string, string>,
      annotations: { [REVISION_ANNOTATION]: String(revision) }, ownerReferences: [ownerRefTo(d)],
    },
    spec: { replicas: 1, selector: { matchLabels: { app: 'web', [POD_TEMPLATE_HASH_LABEL]: hash } }, template },
  });
  return store.updateStatus('ReplicaSet', 'default', rs.metadata.name, { observedGeneration: rs.metadata.generation, replicas: 1 });
}

/** What the replicaset controller does: one pod of `rs`, not yet started. */
async function podOf(store: Store, rs: KubeObject): Promise<KubeObject> {
  const t = rs.spec.template;
  return store.create({
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: `${rs.metadata.name}-x2k4p`, namespace: 'default', labels: t.metadata.labels, ownerReferences: [ownerRefTo(rs)] },
    spec: { ...t.spec, nodeName: 'node-1' },
  });
}

const running = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [{ name: 'web', ready: true, restartCount: 0, state: { running: { startedAt: '2026-01-01T00:00:00Z' } } }] };

const CRASH_MESSAGE = 'back-off 10s restarting failed container=web';
const crashLooping = {
  phase: 'Running',
  conditions: [{ type: 'Ready', status: 'False', reason: 'ContainersNotReady' }],
  containerStatuses: [{
    name: 'web', ready: false, restartCount: 3,
    state: { waiting: { reason: 'CrashLoopBackOff', message: CRASH_MESSAGE } },
    lastState: { terminated: { exitCode: 1, reason: 'Error' } },
  }],
};

/** What the deployment controller reports: observed the current generation, with these counts. */
async function deploymentStatus(store: Store, counts: { replicas: number; updated: number; available: number }) {
  const d = (await store.get('Deployment', 'default', 'web'))!;
  await store.updateStatus('Deployment', 'default', 'web', {
    observedGeneration: d.metadata.generation, replicas: counts.replicas, updatedReplicas: counts.updated,
    readyReplicas: counts.available, availableReplicas: counts.available,
  });
}

let r: Rig | undefined;
test.after.each(async () => {
  await teardown(r);
  r = undefined;
});

test('Progressing → Healthy → a crash-looping rollout Degraded with the pod\'s reason → an object deleted behind git\'s back Missing', async () => {
  r = await rig();
  const { repo, store, syncer } = r;
  const first = repo.git('rev-parse', 'HEAD');

  // Applied, but no controller has looked at the Deployment yet.
  let s = await healthIs(syncer, first, 'Progressing');
  assert.match(s.health.message, /Deployment web: waiting for the controller to observe generation 1/);
  assert.equal([...s.inventory].sort(), [DEPLOY_KEY, CM_KEY]);
  assert.equal(s.objects.map((o) => [o.key, o.health]).sort(), [[DEPLOY_KEY, 'Progressing'], [CM_KEY, 'Healthy']]);
  assert.is(entryOf(s, first).health, 'Progressing');
  assert.is(entryOf(s, first).healthyAt, undefined);

  // The controllers roll it out: a ReplicaSet, a pod starting, then running and ready.
  const rs1 = await replicaSetFor(store, 1);
  const pod1 = await podOf(store, rs1);
  await deploymentStatus(store, { replicas: 1, updated: 1, available: 0 });
  s = await until(() => { const x = syncer.status(); return x.health.message.includes('rollout waiting on pod') && x; }, 'the rollout to wait on its pod');
  assert.is(s.health.status, 'Progressing');
  assert.ok(s.health.reasons.some((m) => m.startsWith(`Pod ${pod1.metadata.name}:`)), s.health.reasons.join('\n'));
  await store.updateStatus('Pod', 'default', pod1.metadata.name, running);
  await deploymentStatus(store, { replicas: 1, updated: 1, available: 1 });

  s = await healthIs(syncer, first, 'Healthy');
  assert.is(s.health.message, 'all 2 objects healthy');
  assert.equal(s.health.reasons, []);
  assert.equal(s.objects.map((o) => o.health), ['Healthy', 'Healthy']);
  const e1 = entryOf(s, first);
  assert.is(e1.result, 'Applied');
  assert.is(e1.health, 'Healthy');
  assert.ok(e1.detectedAt <= e1.appliedAt! && e1.appliedAt! <= e1.healthyAt!, JSON.stringify(e1));
  assert.is(e1.degradedAt, undefined);
  // What /status serves is what status() says.
  await until(async () => (await store.getMeta<StatusReport>('status'))?.health.status === 'Healthy', 'the stored status to say Healthy');
  const stored = (await store.getMeta<StatusReport>('status'))!;
  assert.equal(stored.objects.map((o) => [o.key, o.health, o.revision]).sort(), [[DEPLOY_KEY, 'Healthy', first], [CM_KEY, 'Healthy', first]]);

  // A new image whose container crashes: the new ReplicaSet's pod crash-loops while the old one keeps serving.
  repo.write('web.yaml', web('node:21'));
  const second = repo.commit('web on node 21');
  await healthIs(syncer, second, 'Progressing');
  const rs2 = await replicaSetFor(store, 2);
  assert.is.not(rs2.metadata.name, rs1.metadata.name);
  const pod2 = await podOf(store, rs2);
  await store.updateStatus('Pod', 'default', pod2.metadata.name, crashLooping);
  await deploymentStatus(store, { replicas: 2, updated: 1, available: 1 });

  s = await healthIs(syncer, second, 'Degraded');
  assert.is(s.health.message, `Deployment web: 1/1 replicas available, rollout waiting on pod ${pod2.metadata.name} (CrashLoopBackOff)`);
  assert.is(s.health.reasons[0], s.health.message);
  // The chain goes down to the pod's own words.
  assert.is(s.health.reasons[1], `Pod ${pod2.metadata.name}: container web waiting: CrashLoopBackOff (${CRASH_MESSAGE}), last terminated: Error (exit code 1)`);
  assert.equal(s.objects.map((o) => [o.key, o.health, o.revision]).sort(), [[DEPLOY_KEY, 'Degraded', second], [CM_KEY, 'Healthy', first]]);
  assert.is(s.objects.find((o) => o.key === DEPLOY_KEY)!.healthMessage, s.health.message);
  const e2 = entryOf(s, second);
  assert.is(e2.health, 'Degraded');
  assert.is(e2.degradedReason, s.health.message);
  assert.ok(e2.detectedAt <= e2.appliedAt! && e2.appliedAt! <= e2.degradedAt!, JSON.stringify(e2));
  assert.is(e2.healthyAt, undefined);
  // The earlier revision's entry is frozen as it was while it ran.
  assert.equal(entryOf(s, first), e1);
  assert.equal(s.history.map((h) => h.sha), [second, first]);

  // Someone deletes the ConfigMap behind git's back: Missing, listed after the worse Degraded reason.
  await store.delete('ConfigMap', 'default', 'greeting');
  s = await until(() => { const x = syncer.status(); return x.objects.find((o) => o.key === CM_KEY)?.health === 'Missing' && x; }, 'the ConfigMap to be Missing');
  assert.is(s.objects.find((o) => o.key === CM_KEY)!.healthMessage, 'ConfigMap default/greeting is missing');
  assert.is(s.health.status, 'Degraded');
  assert.is(s.health.reasons.at(-1), 'ConfigMap default/greeting is missing');
  assert.ok(s.inventory.includes(CM_KEY), 'still git\'s: the next sync recreates it');

  // The crash is fixed in place; what is left is the missing ConfigMap, and the timeline keeps the degradation.
  await store.updateStatus('Pod', 'default', pod2.metadata.name, running);
  await store.delete('Pod', 'default', pod1.metadata.name, { gracePeriodSeconds: 0 });
  await deploymentStatus(store, { replicas: 1, updated: 1, available: 1 });
  s = await healthIs(syncer, second, 'Missing');
  assert.is(s.health.message, 'ConfigMap default/greeting is missing');
  assert.equal(s.health.reasons, ['ConfigMap default/greeting is missing']);
  const later = entryOf(s, second);
  assert.is(later.health, 'Missing');
  assert.is(later.degradedAt, e2.degradedAt, 'first degraded stays first degraded');
  assert.is(later.healthyAt, undefined);
});

test('an assessment made while a newer revision is being applied leaves the earlier entry as it was', async () => {
  // The apply of the second revision stops after writing the Deployment until the health monitor has looked at the
  // store: it then sees the new spec under the old revision's keys, half applied.
  let gated: string | undefined;
  let release: (() => void) | undefined;
  r = await rig((real) => new Proxy(real, {
    get(target, prop, receiver) {
      if (prop === 'recordEvent') {
        return async (...args: Parameters<Store['recordEvent']>) => {
          if (gated && args[3].includes(gated.slice(0, 7))) {
            gated = undefined;
            await new Promise<void>((resolve) => { release = resolve; });
          }
          return target.recordEvent(...args);
        };
      }
      if (prop === 'get') {
        return async (...args: Parameters<Store['get']>) => {
          const item = await target.get(...args);
          // While an apply runs, only the health monitor reads objects by key, shared (it judges a few objects by
          // key); let its assessment finish before the apply goes on.
          if (args[3]?.shared && release) { const go = release; release = undefined; setImmediate(go); }
          return item;
        };
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  }));
  const { repo, store, syncer } = r;
  const first = repo.git('rev-parse', 'HEAD');
  await healthIs(syncer, first, 'Progressing');
  const pod1 = await podOf(store, await replicaSetFor(store, 1));
  await store.updateStatus('Pod', 'default', pod1.metadata.name, running);
  await deploymentStatus(store, { replicas: 1, updated: 1, available: 1 });
  const e1 = entryOf(await healthIs(syncer, first, 'Healthy'), first);

  repo.write('web.yaml', web('node:21'));
  const second = repo.commit('web on node 21');
  gated = second; // commit() is synchronous: the watcher cannot have seen it yet
  await healthIs(syncer, second, 'Progressing');
  assert.is(release, undefined, 'the monitor assessed during the apply');
  const s = syncer.status();
  assert.equal(entryOf(s, first), e1);
  assert.is(entryOf(s, second).health, 'Progressing');
});

test('a failure to read the branch leaves the applied revision\'s entry as it was: still Applied, its timeline kept', async () => {
  r = await rig(undefined, { 'greeting.yaml': greeting });
  const { repo, syncer } = r;
  const sha = repo.git('rev-parse', 'HEAD');
  const e1 = entryOf(await healthIs(syncer, sha, 'Healthy'), sha);
  assert.ok(e1.healthyAt, JSON.stringify(e1));

  // The branch goes away for a while (as a remote that cannot be reached): the sync fails, the revision runs on.
  repo.git('branch', '-m', 'main', 'renamed');
  const failed = await until(() => { const s = syncer.status(); return s.sync === 'Failed' && s; }, 'the sync to fail');
  assert.match(failed.error!, /main/);
  assert.equal(entryOf(failed, sha), e1, 'the failure is not the revision\'s');

  // Back: read, planned and applied again (nothing changes), but it is the same deployment of the same commit.
  repo.git('branch', '-m', 'renamed', 'main');
  const s = await until(() => { const x = syncer.status(); return x.state === 'synced' && x.error === undefined && x.health.status === 'Healthy' && x; }, 'the sync to recover');
  assert.equal(s.history, [e1]);
});

test('a failure to read the branch leaves a refused revision\'s entry as it was: its own errors, not the fetch\'s', async () => {
  r = await rig(undefined, { 'greeting.yaml': greeting });
  const { repo, syncer } = r;
  await healthIs(syncer, repo.git('rev-parse', 'HEAD'), 'Healthy');
  repo.write('greeting.yaml', greeting.replace('\ndata:', '\ndta:'));
  const bad = repo.commit('typo');
  const refused = await until(() => { const s = syncer.status(); return s.sync === 'Failed' && s.head === bad && s; }, 'the typo to be refused');
  const e = entryOf(refused, bad);
  assert.is(e.result, 'Failed');
  // Where, as /status said while it was current: file:line:column: kind/name: field: message.
  assert.is(e.error, `revision has 1 error(s); nothing was applied: ${formatIssue(refused.errors[0])}`);
  assert.match(e.error!, /: greeting\.yaml:5:1: ConfigMap\/greeting: dta: /);

  repo.git('branch', '-m', 'main', 'renamed');
  const failed = await until(() => { const s = syncer.status(); return /not found/.test(s.error ?? '') && s; }, 'the branch to be missing');
  assert.equal(entryOf(failed, bad), e);
});

test('a revision the branch is set back to is a new deployment of it: a fresh timeline, not the first one\'s', async () => {
  r = await rig(undefined, { 'greeting.yaml': greeting });
  const { repo, syncer } = r;
  const first = repo.git('rev-parse', 'HEAD');
  const e1 = entryOf(await healthIs(syncer, first, 'Healthy'), first);
  repo.write('greeting.yaml', greeting.replace('hello', 'bonjour'));
  const second = repo.commit('say bonjour');
  const e2 = entryOf(await healthIs(syncer, second, 'Healthy'), second);

  repo.git('reset', '--quiet', '--hard', first);
  const s = await until(() => { const x = syncer.status(); return x.lastAppliedRevision === first && x.health.revision === first && x.health.status === 'Healthy' && x; }, 'the first revision applied again');
  assert.equal(s.history.map((h) => h.sha), [first, second]);
  const again = entryOf(s, first);
  assert.ok(again.detectedAt >= e2.appliedAt!, `detected again after ${second.slice(0, 7)} was applied: ${JSON.stringify(again)}`);
  assert.ok(again.detectedAt <= again.appliedAt! && again.appliedAt! <= again.healthyAt!, JSON.stringify(again));
  assert.ok(again.healthyAt! > e1.healthyAt!, JSON.stringify(again));
});

test('a health assessment that fails says so in /status as Unknown, and the next one recovers', async () => {
  let broken = false;
  r = await rig((real) => new Proxy(real, {
    get(target, prop, receiver) {
      if (prop === 'get') {
        return async (...args: Parameters<Store['get']>) => {
          // The health monitor reads the Deployment it judges by key, shared.
          if (broken && args[0] === 'Deployment' && args[3]?.shared) throw new Error('store unavailable');
          return target.get(...args);
        };
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  }));
  const { repo, store, syncer } = r;
  const first = repo.git('rev-parse', 'HEAD');
  await healthIs(syncer, first, 'Progressing');
  broken = true;
  await deploymentStatus(store, { replicas: 1, updated: 0, available: 0 }); // any change makes the monitor look again
  const s = await healthIs(syncer, first, 'Unknown');
  assert.is(s.health.message, 'health could not be assessed: store unavailable');
  broken = false;
  await deploymentStatus(store, { replicas: 1, updated: 1, available: 0 });
  await healthIs(syncer, first, 'Progressing');
});

test.run();
