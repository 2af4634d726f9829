// Deleting data is never a side effect: which plan steps delete claims, how a commit confirms them, what serve says
// when it refuses, and how plan shows them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/model/object.ts';
import { makePlan } from '../../src/plan/plan.ts';
import { allowedByTrailer, dataDeletionRefusal, dataDeletions } from '../../src/plan/data-deletion.ts';
import { renderText } from '../../src/review/render-text.ts';
import { renderMarkdown } from '../../src/review/render-markdown.ts';
import { exitCodeOf } from '../../src/review/review.ts';
import type { PlanReport } from '../../src/review/report.ts';

const claim = (name: string, annotations?: Record<string, string>): KubeObject => ({
  apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name, namespace: 'default', ...(annotations && { annotations }) },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
});
const sts = (replicas: number, policy: Record<string, string>, annotations?: Record<string, string>): KubeObject => ({
  apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'db', namespace: 'default', ...(annotations && { annotations }) },
  spec: {
    replicas, serviceName: 'db', selector: { matchLabels: { app: 'db' } }, persistentVolumeClaimRetentionPolicy: policy,
    template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'db', image: 'redis' }] } },
    volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'] } }],
  },
});
const KEY = { claim: (n: string) => `v1/PersistentVolumeClaim/default/${n}`, sts: 'apps/v1/StatefulSet/default/db' };
const made = ['data-db-0', 'data-db-1', 'data-db-2'].map((n) => claim(n)); // by the controller: not in the inventory

function deletions(desired: KubeObject[], live: KubeObject[], inventory: string[], message?: string) {
  const plan = makePlan({ desired, live, inventory });
  return dataDeletions(plan, live, message);
}

test('a pruned claim is a data deletion; confirmed by the annotation on its last version or by a trailer', () => {
  const [d] = deletions([], [claim('cache')], [KEY.claim('cache')]);
  assert.equal({ ...d, reason: undefined }, { kind: 'PersistentVolumeClaim', namespace: 'default', name: 'cache', action: 'prune', claims: ['cache'], reason: undefined });
  assert.is(d.confirmedBy, undefined);
  assert.match(dataDeletionRefusal([d])!, 'PersistentVolumeClaim default/cache (deletes PersistentVolumeClaim cache)');
  assert.match(dataDeletionRefusal([d])!, 'Convergit-Allow-Data-Deletion: PersistentVolumeClaim/cache');
  assert.is(deletions([], [claim('cache', { 'convergit.dev/allow-data-deletion': 'true' })], [KEY.claim('cache')])[0].confirmedBy, 'annotation');
  for (const msg of ['drop cache\n\nConvergit-Allow-Data-Deletion: PersistentVolumeClaim/cache', 'x\n\nconvergit-allow-data-deletion: all', 'x\n\nConvergit-Allow-Data-Deletion: StatefulSet/db, persistentvolumeclaim/default/cache']) {
    assert.is(deletions([], [claim('cache')], [KEY.claim('cache')], msg)[0].confirmedBy, 'trailer', msg);
  }
  assert.is(deletions([], [claim('cache')], [KEY.claim('cache')], 'x\n\nConvergit-Allow-Data-Deletion: PersistentVolumeClaim/other')[0].confirmedBy, undefined);
  assert.is(dataDeletionRefusal(deletions([], [claim('cache')], [KEY.claim('cache')], 'Convergit-Allow-Data-Deletion: all')), undefined);
  // A claim the controller made is not git's to prune: no deletion.
  assert.equal(deletions([], made, []), []);
  assert.equal(allowedByTrailer('no trailer here'), new Set());
});

test('a StatefulSet pruned deletes its claims only with whenDeleted: Delete', () => {
  const retain = sts(3, { whenDeleted: 'Retain', whenScaled: 'Retain' });
  assert.equal(deletions([], [retain, ...made], [KEY.sts]), []);
  const [d] = deletions([], [sts(3, { whenDeleted: 'Delete', whenScaled: 'Retain' }), ...made, claim('data-other-0')], [KEY.sts]);
  assert.equal([d.kind, d.action, d.claims], ['StatefulSet', 'prune', ['data-db-0', 'data-db-1', 'data-db-2']]);
  assert.match(d.reason, 'whenDeleted: Delete');
});

test('a StatefulSet scaled down with whenScaled: Delete deletes the claims of the ordinals it drops; confirmed on its new version', () => {
  const policy = { whenDeleted: 'Retain', whenScaled: 'Delete' };
  const [d] = deletions([sts(1, policy)], [sts(3, policy), ...made], [KEY.sts]);
  assert.equal([d.action, d.claims, d.confirmedBy], ['update', ['data-db-1', 'data-db-2'], undefined]);
  assert.is(deletions([sts(1, policy, { 'convergit.dev/allow-data-deletion': 'true' })], [sts(3, policy), ...made], [KEY.sts])[0].confirmedBy, 'annotation');
  assert.equal(deletions([sts(1, { whenDeleted: 'Retain', whenScaled: 'Retain' })], [sts(3, policy), ...made], [KEY.sts]), [], 'Retain keeps them');
  assert.equal(deletions([sts(4, policy)], [sts(3, policy), ...made], [KEY.sts]), [], 'scaling up deletes nothing');
});

test('plan shows data deletions in red (text on a terminal, a diff block in markdown) and exits 1 while unconfirmed', () => {
  const [d] = deletions([], [claim('cache')], [KEY.claim('cache')]);
  const report: PlanReport = {
    apiVersion: 'convergit.dev/v1', kind: 'PlanReport', ref: { name: 'main', sha: 'a'.repeat(40), message: 'drop cache' }, against: { source: 'base', name: 'main~1' },
    valid: true, schedulable: true, changed: true, errors: [], warnings: [], summary: { create: 0, update: 0, prune: 1, unchanged: 0 },
    changes: [{ action: 'prune', kind: 'PersistentVolumeClaim', namespace: 'default', name: 'cache', diff: [] }], rollouts: [],
    scheduling: { checked: false, reason: 'against a base revision', nodes: 0, unschedulable: [], resources: { cpu: z(), memory: z(), pods: z() } },
    dataDeletions: [d],
  };
  const colored = renderText(report, { color: true });
  assert.match(colored, '\x1b[1;31mDATA DELETION (1):\x1b[0m');
  assert.match(colored, 'NOT confirmed: serve refuses this revision');
  assert.match(renderText(report), /Deletes data without confirmation: PersistentVolumeClaim cache\. Do not merge\.\n$/);
  assert.not.match(renderText(report), '\x1b[');
  assert.match(renderMarkdown(report), '❌ convergit plan: do not merge');
  assert.match(renderMarkdown(report), '```diff\n- PersistentVolumeClaim default/cache is pruned');
  assert.is(exitCodeOf(report, false), 1);
  const confirmed = { ...report, dataDeletions: [{ ...d, confirmedBy: 'trailer' as const }] };
  assert.is(exitCodeOf(confirmed, false), 0);
  assert.match(renderText(confirmed), 'confirmed by the commit trailer');
});

function z() { return { allocatable: 0, requestedBefore: 0, requestedAfter: 0 }; }

test.run();
