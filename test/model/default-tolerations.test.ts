// DefaultTolerationSeconds as the API server's admission plugin writes it: into every pod created or updated without
// a NoExecute toleration for not-ready/unreachable, kept across git updates, never in daemon pods (they tolerate forever).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultTolerationSecondsAdmission, withDefaultTolerationSeconds } from '../../src/model/default-tolerations.ts';
import { daemonPod } from '../../src/controllers/daemonset-pods.ts';
import { podFromTemplate } from '../../src/controllers/pod-from-template.ts';
import { openStore } from '../../src/store/lowdb-store.ts';
import { makePlan } from '../../src/plan/plan.ts';
import type { KubeObject } from '../../src/model/object.ts';

const NR = 'node.kubernetes.io/not-ready', UR = 'node.kubernetes.io/unreachable';
const short = (ts: any[]) => ts.map((t) => `${t.key ?? '*'}:${t.effect ?? '*'}:${t.tolerationSeconds ?? '-'}`);
const gitPod = (tolerations?: unknown[]): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' },
  spec: { containers: [{ name: 'c', image: 'x' }], ...(tolerations && { tolerations }) } });

test('added for each key no toleration covers, as upstream tests key and effect only', () => {
  const s = { notReady: 300, unreachable: 60 };
  assert.equal(short(withDefaultTolerationSeconds([], s)), [`${NR}:NoExecute:300`, `${UR}:NoExecute:60`]);
  assert.equal(short(withDefaultTolerationSeconds([{ operator: 'Exists' }], s)), ['*:*:-'], 'tolerates every taint already');
  assert.equal(short(withDefaultTolerationSeconds([{ key: NR, operator: 'Equal', value: 'x', effect: 'NoExecute', tolerationSeconds: 5 }], s)),
    [`${NR}:NoExecute:5`, `${UR}:NoExecute:60`], 'its own not-ready toleration stays as written');
  assert.equal(short(withDefaultTolerationSeconds([{ key: UR, operator: 'Exists', effect: 'NoSchedule' }], s)),
    [`${UR}:NoSchedule:-`, `${NR}:NoExecute:300`, `${UR}:NoExecute:60`], 'a NoSchedule one does not cover NoExecute');
  assert.equal(short(withDefaultTolerationSeconds([{ key: UR, operator: 'Exists' }], s)), [`${UR}:*:-`, `${NR}:NoExecute:300`], 'an empty effect covers');
});

test('the admission touches Pods only; a ReplicaSet\'s pod gets them, a daemon pod keeps its forever tolerations', () => {
  const admit = defaultTolerationSecondsAdmission();
  const rs: KubeObject = { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web', namespace: 'default', uid: 'u' },
    spec: { template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'x' }] } } } };
  assert.is(admit(rs), rs, 'not a pod');
  assert.equal(rs.spec.template.spec.tolerations, undefined, 'templates stay as git wrote them');
  assert.equal(short(admit(podFromTemplate(rs, 'web-abcde')).spec.tolerations), [`${NR}:NoExecute:300`, `${UR}:NoExecute:300`]);
  const ds = { ...rs, kind: 'DaemonSet', apiVersion: 'apps/v1' };
  const daemon = daemonPod(ds, 'n1', 'h', 'web-x');
  assert.equal(admit(daemon).spec.tolerations, daemon.spec.tolerations);
  assert.ok(daemon.spec.tolerations.every((t: any) => t.tolerationSeconds === undefined));
});

test('the store admits creates and updates; a git pod plans unchanged against its admitted live copy', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cg-tol-'));
  const store = await openStore(dir, { flushDelay: 5, admit: [defaultTolerationSecondsAdmission({ notReady: 120, unreachable: 30 })] });
  try {
    const live = await store.create(gitPod());
    assert.equal(short(live.spec.tolerations), [`${NR}:NoExecute:120`, `${UR}:NoExecute:30`]);
    const own = await store.create({ ...gitPod([{ key: UR, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 7 }]), metadata: { name: 'q', namespace: 'default' } });
    assert.equal(short(own.spec.tolerations), [`${UR}:NoExecute:7`, `${NR}:NoExecute:120`]);
    const plan = makePlan({ desired: [gitPod()], live: [live], inventory: ['Pod/default/p'] });
    assert.is(plan.steps.length, 0, 'no drift from the admitted tolerations');
    const updated = await store.update({ ...gitPod(), metadata: { ...gitPod().metadata, labels: { a: 'b' } } });
    assert.equal(short(updated.spec.tolerations), [`${NR}:NoExecute:120`, `${UR}:NoExecute:30`], 'kept by an update that leaves them out');
    const changed = await store.update(gitPod([{ key: NR, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 9 }]));
    assert.equal(short(changed.spec.tolerations), [`${NR}:NoExecute:9`, `${UR}:NoExecute:30`], 'git\'s own toleration replaces the default');
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
