// GET /metrics: Prometheus text with kube-apiserver's request metrics, Flux's GitOps metrics and pod metrics.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openStore } from '../../src/store/lowdb-store.ts';
import { startApiServer, type ApiServer } from '../../src/api/server.ts';
import type { Store } from '../../src/store/store.ts';

let dir: string, store: Store, api: ApiServer;
const SHA = 'abcdef0123456789abcdef0123456789abcdef01';

test.before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'convergit-metrics-'));
  store = await openStore(dir);
  await store.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'x' }] } });
  await store.updateStatus('Pod', 'default', 'p', { phase: 'Running', containerStatuses: [{ name: 'c', restartCount: 4, ready: true }] });
  await store.setMeta('status', {
    state: 'synced', sync: 'Synced', message: 'ok', repository: '/r', branch: 'main', path: '', stateSince: new Date().toISOString(),
    lastAppliedRevision: SHA, errors: [], warnings: [], timings: {}, objects: [], inventory: [],
    conditions: [{ type: 'Ready', status: 'True', reason: 'ReconciliationSucceeded', message: 'ok', lastTransitionTime: '' }],
    history: [{ sha: SHA, message: 'm', author: 'a', commitTime: '2026-01-01T00:00:00Z', detectedAt: '2026-01-01T00:00:01Z', appliedAt: '2026-01-01T00:00:01.5Z', result: 'Applied', created: 1, updated: 0, pruned: 0, errors: 0 }],
  });
  api = await startApiServer({ store, host: '127.0.0.1', port: 0, repository: '/r', branch: 'main', version: 'test' });
});

test.after(async () => {
  await api.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const scrape = async () => {
  const res = await fetch(api.url + '/metrics');
  assert.match(res.headers.get('content-type')!, /^text\/plain; version=0\.0\.4/);
  return res.text();
};
const value = (text: string, series: string) => {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

test('requests counted and timed by verb, resource, scope and code, as kube-apiserver names them', async () => {
  await (await fetch(api.url + '/api/v1/namespaces/default/pods')).text();
  await (await fetch(api.url + '/api/v1/namespaces/default/pods')).text();
  await (await fetch(api.url + '/apis/apps/v1/namespaces/default/deployments/nope')).text();
  await (await fetch(api.url + '/api/v1/pods', { method: 'DELETE' })).text();
  const text = await scrape();
  assert.is(value(text, 'apiserver_request_total{verb="LIST",group="",version="v1",resource="pods",subresource="",scope="namespace",component="apiserver",code="200"}'), 2);
  assert.is(value(text, 'apiserver_request_total{verb="GET",group="apps",version="v1",resource="deployments",subresource="",scope="resource",component="apiserver",code="404"}'), 1);
  assert.is(value(text, 'apiserver_request_total{verb="DELETE",group="",version="v1",resource="pods",subresource="",scope="cluster",component="apiserver",code="405"}'), 1);
  assert.is(value(text, 'apiserver_request_duration_seconds_count{verb="LIST",group="",version="v1",resource="pods",subresource="",scope="namespace",component="apiserver"}'), 2);
});

test('the GitOps loop as Flux reports it, and pods by phase with their restarts', async () => {
  const text = await scrape();
  assert.is(value(text, 'gotk_reconcile_condition{kind="Kustomization",name="convergit",namespace="",type="Ready",status="True"}'), 1);
  assert.is(value(text, 'gotk_reconcile_condition{kind="Kustomization",name="convergit",namespace="",type="Ready",status="False"}'), 0);
  assert.is(value(text, `gotk_resource_info{kind="Kustomization",name="convergit",namespace="",ready="True",suspended="false",revision="${SHA}",source_name="/r"}`), 1);
  assert.is(value(text, 'gotk_suspend_status{kind="Kustomization",name="convergit",namespace=""}'), 0);
  assert.is(value(text, 'gotk_reconcile_duration_seconds_count{kind="Kustomization",name="convergit",namespace=""}'), 1);
  assert.is(value(text, 'gotk_reconcile_duration_seconds_sum{kind="Kustomization",name="convergit",namespace=""}'), 0.5);
  const uid = (await store.get('Pod', 'default', 'p'))!.metadata.uid;
  assert.is(value(text, `kube_pod_status_phase{namespace="default",pod="p",uid="${uid}",phase="Running"}`), 1);
  assert.is(value(text, `kube_pod_status_phase{namespace="default",pod="p",uid="${uid}",phase="Pending"}`), 0);
  assert.is(value(text, `kube_pod_container_status_restarts_total{namespace="default",pod="p",uid="${uid}",container="c"}`), 4);
  assert.is(value(await scrape(), 'gotk_reconcile_duration_seconds_count{kind="Kustomization",name="convergit",namespace=""}'), 1, 'each revision observed once');
  // A revision applied since the last scrape is in the very next one (not one scrape late).
  const status = (await store.getMeta<any>('status'))!;
  await store.setMeta('status', { ...status, history: [{ ...status.history[0], sha: SHA.replace('a', 'b'), detectedAt: '2026-01-01T00:01:00Z', appliedAt: '2026-01-01T00:01:02Z' }, ...status.history] });
  const next = await scrape();
  assert.is(value(next, 'gotk_reconcile_duration_seconds_count{kind="Kustomization",name="convergit",namespace=""}'), 2);
  assert.is(value(next, 'gotk_reconcile_duration_seconds_sum{kind="Kustomization",name="convergit",namespace=""}'), 2.5);
});

test.run();
