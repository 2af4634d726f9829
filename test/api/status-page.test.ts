// The page at `/`: sync and health side by side, the chain of reasons, per-object health, the history's timeline,
// and every message escaped.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { renderStatusPage } from '../../src/api/status-page.ts';
import { workloads, type PodRow } from '../../src/api/workloads.ts';
import { openStore } from '../../src/store/lowdb-store.ts';
import type { StatusReport } from '../../src/sync/status.ts';
import type { HistoryEntry } from '../../src/sync/history.ts';

const T0 = Date.parse('2026-03-01T10:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();
const GOOD = 'a'.repeat(40);
const BAD = 'b'.repeat(40);

const entry = (sha: string, over: Partial<HistoryEntry>): HistoryEntry => ({
  sha, message: 'change', author: 'Dev <dev@example.com>', commitTime: at(0), detectedAt: at(0),
  result: 'Applied', created: 0, updated: 1, pruned: 0, errors: 0, ...over,
});

const DEPLOY_MSG = 'Deployment web: 1/2 replicas available, rollout waiting on pod web-7d9f-x2 (CrashLoopBackOff)';
const POD_MSG = 'Pod web-7d9f-x2: container web waiting: CrashLoopBackOff (back-off 10s restarting failed container=web), last terminated: Error (exit code 1)';

function report(over: Partial<StatusReport> = {}): StatusReport {
  return {
    repository: '/srv/app.git', branch: 'main', path: '', head: BAD, lastAttemptedRevision: BAD, lastAppliedRevision: BAD,
    state: 'synced', stateSince: new Date().toISOString(), sync: 'Synced', message: `applied revision ${BAD.slice(0, 7)}`,
    errors: [], warnings: [], timings: {}, conditions: [],
    health: { status: 'Degraded', message: DEPLOY_MSG, reasons: [DEPLOY_MSG, POD_MSG], revision: BAD, since: new Date().toISOString() },
    inventory: ['apps/v1/Deployment/default/web', 'v1/ConfigMap/default/greeting'],
    objects: [
      { key: 'apps/v1/Deployment/default/web', kind: 'Deployment', namespace: 'default', name: 'web', mode: 'run', status: 'Synced', revision: BAD, health: 'Degraded', healthMessage: DEPLOY_MSG },
      { key: 'v1/ConfigMap/default/greeting', kind: 'ConfigMap', namespace: 'default', name: 'greeting', mode: 'run', status: 'Synced', revision: GOOD, health: 'Healthy', healthMessage: 'ConfigMap greeting exists' },
    ],
    history: [
      entry(BAD, {
        message: 'web: crashes on start', commitTime: at(60_000), detectedAt: at(60_250), appliedAt: at(61_750), health: 'Degraded', healthMessage: DEPLOY_MSG,
        degradedAt: at(63_750), degradedReason: DEPLOY_MSG,
      }),
      entry(GOOD, { message: 'web: first version', commitTime: at(0), detectedAt: at(40), appliedAt: at(100), health: 'Healthy', healthMessage: 'all 2 objects healthy', healthyAt: at(1_600) }),
    ],
    ...over,
  };
}

/** The `<tr>` of a table row whose first cells contain `marker`. */
const rowWith = (html: string, marker: string) => html.split('<tr>').find((r) => r.includes(marker)) ?? '';
const sectionAfter = (html: string, heading: string) => html.slice(html.indexOf(`<h2>${heading}</h2>`)).split('<h2>')[1] ?? '';

test('sync and health side by side, in one table', () => {
  const html = renderStatusPage(report());
  const facts = html.match(/<table class="facts">\s*<tr><th>Sync<\/th><td>(.*?)<\/td><\/tr>\s*<tr><th>Health<\/th><td>(.*?)<\/td><\/tr>\s*<\/table>/s);
  assert.ok(facts, html);
  assert.match(facts![1], />Synced</);
  assert.match(facts![1], `applied revision ${BAD.slice(0, 7)}`);
  assert.match(facts![2], />Degraded</);
  assert.match(facts![2], DEPLOY_MSG);
  assert.match(facts![2], new RegExp(`\\(revision ${BAD.slice(0, 7)}, for \\d+s\\)`), 'which revision the health is of');
});

test('a revision that is not healthy shows its chain of reasons, in order, down to the pod', () => {
  const html = renderStatusPage(report());
  const list = html.match(/<ol class="reasons">(.*?)<\/ol>/s);
  assert.ok(list, 'a reasons list');
  assert.equal([...list![1].matchAll(/<li>(.*?)<\/li>/g)].map((m) => m[1]), [DEPLOY_MSG, POD_MSG]);
});

test('a healthy revision has no reasons list', () => {
  const html = renderStatusPage(report({ health: { status: 'Healthy', message: 'all 2 objects healthy', reasons: [], revision: BAD, since: new Date().toISOString() } }));
  assert.not.match(html, 'class="reasons"');
  assert.match(rowWith(html, '<th>Health</th>'), /Healthy<\/span> all 2 objects healthy/);
});

test('each object shows its health, with the message only when it is not Healthy', () => {
  const objects = sectionAfter(renderStatusPage(report()), 'Objects');
  assert.match(objects, /<th>Sync<\/th><th>Health<\/th>/);
  const web = rowWith(objects, '<td>web</td>');
  assert.match(web, />Degraded<\/span>/);
  assert.match(web, `<span class="muted">${DEPLOY_MSG}</span>`);
  const cm = rowWith(objects, '<td>greeting</td>');
  assert.match(cm, />Healthy<\/span>/);
  assert.not.match(cm, 'exists', 'a healthy object needs no explanation');
  assert.match(cm, GOOD.slice(0, 7), 'the revision that last wrote it');
});

test('the history: when each revision turned healthy or degraded, after it was applied', () => {
  const history = sectionAfter(renderStatusPage(report()), 'History');
  assert.match(history, /<th>Applied<\/th><th>Healthy<\/th>/);
  const cells = (sha: string) => [...rowWith(history, sha.slice(0, 7)).matchAll(/<td>(.*?)<\/td>/gs)].map((m) => m[1].replace(/<[^>]+>/g, ''));
  const good = cells(GOOD);
  const bad = cells(BAD);
  // Revision, Message, Author, Committed, Detected, Applied, Healthy, Result, Health, Changes
  assert.equal(good.slice(4, 9), ['+40ms', '+60ms', '+1.5s', 'Applied', 'Healthy']);
  assert.equal(bad.slice(4, 9), ['+250ms', '+1.5s', 'degraded +2.0s', 'Applied', `Degraded ${DEPLOY_MSG}`]);
});

test('a commit whose clock ran ahead of this machine shows +0ms, not a negative delay', () => {
  const skewed = entry(GOOD, { commitTime: at(2_000), detectedAt: at(500), appliedAt: at(600) });
  const history = sectionAfter(renderStatusPage(report({ history: [skewed] })), 'History');
  assert.match(history, '+0ms');
  assert.not.match(history, '+-');
});

test('every message is escaped', () => {
  const evil = '<img src=x onerror="alert(1)">';
  const html = renderStatusPage(report({
    message: `msg ${evil}`,
    health: { status: 'Degraded', message: `health ${evil}`, reasons: [`reason ${evil}`], revision: BAD, since: new Date().toISOString() },
    objects: [{ key: 'apps/v1/Deployment/default/web', kind: 'Deployment', namespace: 'default', name: 'web', mode: 'run', status: 'Synced', health: 'Degraded', healthMessage: `object ${evil}` }],
    history: [
      entry(BAD, { message: `commit ${evil}`, author: `${evil} <x@example.com>`, health: 'Degraded', healthMessage: `history ${evil}` }),
      entry(GOOD, { result: 'Failed', error: `error ${evil}` }),
    ],
    error: `error ${evil}`,
  }));
  assert.not.match(html, '<img');
  const escaped = '&#60;img src=x onerror=&#34;alert(1)&#34;&#62;';
  for (const where of ['msg', 'health', 'reason', 'object', 'commit', 'history', 'error']) assert.match(html, `${where} ${escaped}`, where);
  assert.match(html, `${escaped} &#60;x@example.com&#62;`, 'author');
});

test('StatefulSets, DaemonSets, CronJobs and Jobs from the store, each with its status columns', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'convergit-status-page-'));
  const store = await openStore(dir);
  try {
    const meta = (name: string, extra: object = {}) => ({ name, namespace: 'default', generation: 2, creationTimestamp: at(0), ...extra });
    await store.create({ apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: meta('kv'), spec: { replicas: 3, volumeClaimTemplates: [{ metadata: { name: 'data' } }] },
      status: { observedGeneration: 2, replicas: 3, readyReplicas: 2, updatedReplicas: 1, availableReplicas: 2, currentRevision: 'kv-6c4f', updateRevision: 'kv-7d9b' } });
    await store.create({ apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: meta('cache'), spec: { replicas: 1 },
      status: { observedGeneration: 2, replicas: 1, readyReplicas: 1, updatedReplicas: 1, availableReplicas: 1, currentRevision: 'cache-5b', updateRevision: 'cache-5b' } });
    await store.create({ apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: meta('agent'),
      status: { observedGeneration: 2, desiredNumberScheduled: 3, currentNumberScheduled: 3, numberReady: 3, updatedNumberScheduled: 3, numberAvailable: 3 } });
    await store.create({ apiVersion: 'batch/v1', kind: 'CronJob', metadata: meta('backup'), spec: { schedule: '*/5 * * * *', suspend: true },
      status: { active: [{ name: 'backup-1' }], lastScheduleTime: new Date(Date.now() - 120_000).toISOString() } });
    await store.create({ apiVersion: 'batch/v1', kind: 'Job', metadata: meta('backup-1', { ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'backup', uid: 'u', controller: true }] }),
      spec: { completions: 1 }, status: { succeeded: 1, startTime: at(0), completionTime: at(4_000), conditions: [{ type: 'Complete', status: 'True' }] } });
    await store.create({ apiVersion: 'batch/v1', kind: 'Job', metadata: meta('queue'), spec: { parallelism: 4 }, status: { active: 4 } });
    const w = await workloads(store, '127.0.0.1');
    const html = renderStatusPage(report(), w);
    const cells = (heading: string, marker: string) => [...rowWith(sectionAfter(html, heading), marker).matchAll(/<td>(.*?)<\/td>/gs)].map((m) => m[1].replace(/<[^>]+>/g, ''));
    // Namespace, Name, Rollout, Ready, Up-to-date, Available, Revision, Claims
    assert.equal(cells('StatefulSets', '<td>kv</td>'), ['default', 'kv', 'Progressing', '2/3', '1', '2', 'kv-6c4f → kv-7d9b', 'data-kv-0…2']);
    assert.equal(cells('StatefulSets', '<td>cache</td>'), ['default', 'cache', 'Complete', '1/1', '1', '1', 'cache-5b', '']);
    assert.equal(cells('DaemonSets', '<td>agent</td>'), ['default', 'agent', 'Complete', '3', '3', '3', '3', '3']);
    assert.equal(cells('CronJobs', '<td>backup</td>'), ['default', 'backup', '*/5 * * * *', 'Suspended', '1', '2m ago', '&#60;none&#62;']);
    assert.equal(cells('Jobs', '<td>backup-1</td>'), ['default', 'backup-1', 'Complete', '1/1', '4s', 'backup']);
    assert.equal(cells('Jobs', '<td>queue</td>').slice(2, 4), ['Running', '0/1 of 4'], 'a work queue, as kubectl prints it');
    // With none of a kind, its section is left out.
    assert.not.match(renderStatusPage(report(), { ...w, statefulSets: [], daemonSets: [], cronJobs: [], jobs: [] }), /<h2>(StatefulSets|DaemonSets|CronJobs|Jobs)<\/h2>/);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a table longer than a page: counts by state and only what is not well, then pages of all of it', () => {
  const pods: PodRow[] = Array.from({ length: 450 }, (_, i) => ({
    namespace: 'default', name: `web-${String(i).padStart(3, '0')}`, ready: i % 150 === 7 ? '0/1' : '1/1', status: i % 150 === 7 ? 'Pending' : 'Running', restarts: 0, node: 'node-a',
  }));
  const objects = Array.from({ length: 300 }, (_, i) => ({
    key: `v1/ConfigMap/default/cm-${i}`, kind: 'ConfigMap', namespace: 'default', name: `cm-${i}`, mode: 'run' as const, status: i === 42 ? 'OutOfSync' as const : 'Synced' as const, revision: GOOD, health: 'Healthy' as const,
  }));
  const w = { deployments: [], statefulSets: [], daemonSets: [], jobs: [], cronJobs: [], services: [], ingresses: [], pods };
  const html = renderStatusPage(report({ objects }), w);
  const podSection = sectionAfter(html, 'Pods');
  assert.match(podSection, /450 in all: <span[^>]*>Running<\/span> 447 <span[^>]*>Pending<\/span> 3/);
  assert.equal([...podSection.matchAll(/<td>(web-\d+)<\/td>/g)].map((m) => m[1]), ['web-007', 'web-157', 'web-307'], 'only the pods not ready');
  assert.match(podSection, '<a href="?pods=1">page 1 of 3</a>');
  const objectSection = sectionAfter(html, 'Objects');
  assert.equal([...objectSection.matchAll(/<td>(cm-\d+)<\/td>/g)].map((m) => m[1]), ['cm-42']);
  assert.match(objectSection, /300 in all: <span[^>]*>Healthy<\/span> 299 <span[^>]*>OutOfSync<\/span> 1/);
  assert.ok(html.length < 60_000, `the summarised page is small (${html.length} bytes)`);

  const page2 = sectionAfter(renderStatusPage(report({ objects }), w, new URLSearchParams('pods=2')), 'Pods');
  const names = [...page2.matchAll(/<td>(web-\d+)<\/td>/g)].map((m) => m[1]);
  assert.is(names.length, 200);
  assert.equal([names[0], names[199]], ['web-200', 'web-399']);
  assert.match(page2, '<a href="?pods=1">← previous</a> · page 2 of 3 · <a href="?pods=3">next →</a>');
  const page3 = sectionAfter(renderStatusPage(report({ objects }), w, new URLSearchParams('pods=3')), 'Pods');
  assert.is([...page3.matchAll(/<td>(web-\d+)<\/td>/g)].length, 50);
  assert.not.match(page3, 'next →');
  // A page number out of range, or not a number, shows the summary.
  for (const q of ['pods=9', 'pods=x', 'pods=0']) assert.match(sectionAfter(renderStatusPage(report({ objects }), w, new URLSearchParams(q)), 'Pods'), '450 in all', q);
  // Objects keep their own pages, the pods table its summary.
  assert.match(sectionAfter(renderStatusPage(report({ objects }), w, new URLSearchParams('objects=2')), 'Objects'), 'page 2 of 2');
});

test('before the first revision is read: a starting page', () => {
  assert.match(renderStatusPage(undefined), 'Starting: no revision read yet.');
});

test.run();
