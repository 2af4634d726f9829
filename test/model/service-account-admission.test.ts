// The ServiceAccount admission's image pull secrets, as upstream: a pod created with none gets its account's,
// written into the stored pod; a pod's own are kept; updates are not admitted again; git pods show no drift.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serviceAccountAdmission } from '../../src/model/service-account-admission.ts';
import { podDefaultsAdmission } from '../../src/manifests/defaults.ts';
import { podFromTemplate } from '../../src/controllers/pod-from-template.ts';
import { openStore } from '../../src/store/lowdb-store.ts';
import { makePlan } from '../../src/plan/plan.ts';
import type { KubeObject } from '../../src/model/object.ts';

const pod = (name: string, spec: Record<string, unknown> = {}, namespace = 'default'): KubeObject => ({ apiVersion: 'v1', kind: 'Pod',
  metadata: { name, namespace }, spec: { containers: [{ name: 'c', image: 'registry.example/app:1' }], ...spec } });
const account = (name: string, secrets?: string[], namespace = 'default'): KubeObject => ({ apiVersion: 'v1', kind: 'ServiceAccount',
  metadata: { name, namespace }, ...(secrets && { imagePullSecrets: secrets.map((s) => ({ name: s })) }) });
const names = (o: KubeObject) => (o.spec.imagePullSecrets ?? []).map((s: any) => s.name);

test('a created pod without pull secrets gets its account\'s; its own, other kinds and updates are left alone', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cg-sa-'));
  const store = await openStore(dir, { flushDelay: 5, admit: [podDefaultsAdmission, serviceAccountAdmission] });
  try {
    await store.create(account('default', ['regcred']));
    await store.create(account('builder', ['pull-a', 'pull-b']));
    await store.create(account('bare'));
    await store.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'other' } });
    await store.create(account('default', ['elsewhere'], 'other'));

    assert.equal(names(await store.create(pod('plain'))), ['regcred'], 'no serviceAccountName: the default account');
    assert.equal(names(await store.create(pod('built', { serviceAccountName: 'builder' }))), ['pull-a', 'pull-b'], 'in the account\'s order');
    assert.equal(names(await store.create(pod('own', { serviceAccountName: 'builder', imagePullSecrets: [{ name: 'mine' }] }))), ['mine'],
      'a pod that names its own keeps only those');
    assert.equal(names(await store.create(pod('bare', { serviceAccountName: 'bare' }))), [], 'an account without secrets adds none');
    assert.equal(names(await store.create(pod('missing', { serviceAccountName: 'nobody' }))), [], 'no such account: none');
    assert.equal(names(await store.create(pod('there', {}, 'other'))), ['elsewhere'], 'the account of the pod\'s own namespace');

    const rs: KubeObject = { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web', namespace: 'default', uid: 'u' },
      spec: { template: { metadata: { labels: { app: 'web' } }, spec: { serviceAccountName: 'builder', containers: [{ name: 'c', image: 'x' }] } } } };
    assert.equal(names(await store.create(podFromTemplate(rs, 'web-abcde'))), ['pull-a', 'pull-b'], 'a controller\'s pod too');
    assert.equal((await store.create(rs)).spec.template.spec.imagePullSecrets, undefined, 'templates stay as git wrote them');

    // Upstream mutates on create only: the account's later secrets do not reach a running pod.
    const sa = (await store.get('ServiceAccount', 'default', 'bare'))!;
    await store.update({ ...sa, imagePullSecrets: [{ name: 'late' }] });
    const bare = (await store.get('Pod', 'default', 'bare'))!;
    assert.equal(names(await store.update({ ...bare, metadata: { ...bare.metadata, labels: { a: 'b' } } })), [], 'not admitted on update');

    // A git pod, written without secrets, plans unchanged against its admitted copy and keeps them on update.
    const live = (await store.get('Pod', 'default', 'plain'))!;
    const plan = makePlan({ desired: [podDefaultsAdmission(pod('plain'))], live: [live], inventory: ['Pod/default/plain'] });
    assert.is(plan.steps.length, 0, 'no drift from the admitted secrets');
    assert.equal(names(await store.update({ ...pod('plain'), metadata: { name: 'plain', namespace: 'default', labels: { v: '2' } } })), ['regcred']);
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('outside the store: only created Pods are admitted', () => {
  const get = (kind: string, _ns: string | undefined, name: string) => (kind === 'ServiceAccount' && name === 'default' ? account('default', ['regcred']) : undefined);
  const p = pod('p');
  assert.is(serviceAccountAdmission(p, { operation: 'update', get }), p);
  const sa = account('x');
  assert.is(serviceAccountAdmission(sa, { operation: 'create', get }), sa, 'not a pod');
  const mirror = { ...p, metadata: { ...p.metadata, annotations: { 'kubernetes.io/config.mirror': 'h' } } };
  assert.is(serviceAccountAdmission(mirror, { operation: 'create', get }), mirror, 'mirror pods are the kubelet\'s');
  assert.equal(names(serviceAccountAdmission(p, { operation: 'create', get })), ['regcred']);
  assert.equal(p.spec.imagePullSecrets, undefined, 'its argument is not changed');
});

test.run();
