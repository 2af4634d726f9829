// A revision's health: the worst of its objects in Argo CD's order, and the chain of reasons, worst first.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HEALTH_ORDER, isWorse, missing, revisionHealth } from '../../src/health/revision.ts';
import type { HealthStatus } from '../../src/health/types.ts';

const item = (key: string, status: HealthStatus, message: string) => ({ key, health: { status, message } });

test("Argo CD's order: Healthy < Suspended < Progressing < Missing < Degraded < Unknown", () => {
  assert.equal(HEALTH_ORDER, ['Healthy', 'Suspended', 'Progressing', 'Missing', 'Degraded', 'Unknown']);
  for (let i = 0; i < HEALTH_ORDER.length; i++) {
    for (let j = 0; j < HEALTH_ORDER.length; j++) assert.is(isWorse(HEALTH_ORDER[i], HEALTH_ORDER[j]), j > i, `${HEALTH_ORDER[i]} → ${HEALTH_ORDER[j]}`);
  }
});

test('no objects: Healthy', () => {
  assert.equal(revisionHealth([]), { status: 'Healthy', message: 'no objects', reasons: [] });
});

test('all healthy: Healthy, no reasons, a count', () => {
  const r = revisionHealth([
    item('v1/ConfigMap/default/web-config', 'Healthy', 'ConfigMap web-config exists'),
    item('apps/v1/Deployment/default/web', 'Healthy', 'Deployment web: 3/3 replicas available'),
  ]);
  assert.equal(r, { status: 'Healthy', message: 'all 2 objects healthy', reasons: [] });
  assert.is(revisionHealth([item('v1/Namespace//shop', 'Healthy', '')]).message, 'all 1 object healthy');
});

test('the worst status wins and the reasons come worst first, equals in the order given', () => {
  const r = revisionHealth([
    item('v1/Service/default/web', 'Progressing', 'Service web: waiting for a cluster IP'),
    item('v1/ConfigMap/default/web-config', 'Healthy', 'ConfigMap web-config exists'),
    item('apps/v1/Deployment/default/api', 'Suspended', 'Deployment api is paused'),
    item('apps/v1/Deployment/default/web', 'Degraded', 'Deployment web: 2/3 replicas available, rollout waiting on pod web-7d9f-x2 (CrashLoopBackOff)'),
    item('apps/v1/Deployment/shop/cart', 'Missing', 'Deployment shop/cart is missing'),
    item('v1/Pod/default/debug', 'Degraded', 'container sh waiting: ErrImagePull'),
  ]);
  assert.is(r.status, 'Degraded');
  assert.equal(r.reasons, [
    'Deployment web: 2/3 replicas available, rollout waiting on pod web-7d9f-x2 (CrashLoopBackOff)',
    'Pod default/debug: container sh waiting: ErrImagePull',
    'Deployment shop/cart is missing',
    'Service web: waiting for a cluster IP',
    'Deployment api is paused',
  ]);
  assert.is(r.message, r.reasons[0]);
});

test('an Unknown object makes the revision Unknown, named even when its message does not name it', () => {
  const r = revisionHealth([
    item('apps/v1/Deployment/default/web', 'Degraded', 'Deployment web exceeded its progress deadline: 0/1 replicas available'),
    item('apps/v1/StatefulSet/default/db', 'Unknown', 'no health check for kind StatefulSet'),
  ]);
  assert.is(r.status, 'Unknown');
  assert.equal(r.reasons, ['StatefulSet default/db: no health check for kind StatefulSet', 'Deployment web exceeded its progress deadline: 0/1 replicas available']);
});

test('a message naming a different object with the same prefix is still prefixed', () => {
  const r = revisionHealth([item('apps/v1/Deployment/default/web', 'Progressing', 'Deployment web-canary: waiting')]);
  assert.equal(r.reasons, ['Deployment default/web: Deployment web-canary: waiting']);
});

test('cluster-scoped objects are named without a namespace; an empty message is just the name', () => {
  const r = revisionHealth([item('v1/Namespace//shop', 'Progressing', ''), item('v1/Node//node-1', 'Degraded', 'NotReady')]);
  assert.equal(r.reasons, ['Node node-1: NotReady', 'Namespace shop']);
});

test('Suspended alone: Suspended, with its reason', () => {
  const r = revisionHealth([item('apps/v1/Deployment/default/web', 'Suspended', 'Deployment web is paused'), item('v1/Service/default/web', 'Healthy', 'ok')]);
  assert.equal(r, { status: 'Suspended', message: 'Deployment web is paused', reasons: ['Deployment web is paused'] });
});

test('missing: an object git wants and the live state lacks', () => {
  assert.equal(missing('apps/v1/Deployment/default/web'), { status: 'Missing', message: 'Deployment default/web is missing' });
  assert.equal(missing('v1/Namespace//shop'), { status: 'Missing', message: 'Namespace shop is missing' });
  const r = revisionHealth([{ key: 'apps/v1/Deployment/default/web', health: missing('apps/v1/Deployment/default/web') }]);
  assert.equal(r.reasons, ['Deployment default/web is missing']);
});

test('each reason is followed by its causes: the chain from the revision down to the failing pod', () => {
  const r = revisionHealth([
    { key: 'v1/ConfigMap/default/greeting', health: { status: 'Healthy', message: 'ConfigMap greeting exists' } },
    { key: 'apps/v1/Deployment/default/web', health: { status: 'Degraded', message: 'Deployment web: 2/3 replicas available, rollout waiting on pod web-1 (CrashLoopBackOff)', causes: ['Pod web-1: container web waiting: CrashLoopBackOff'] } },
  ]);
  assert.is(r.status, 'Degraded');
  assert.is(r.message, 'Deployment web: 2/3 replicas available, rollout waiting on pod web-1 (CrashLoopBackOff)');
  assert.equal(r.reasons, [r.message, 'Pod web-1: container web waiting: CrashLoopBackOff']);
});

test('a verdict named again gives the same reason; the same verdict under another key, or changed, is named anew', () => {
  const health = { status: 'Progressing' as HealthStatus, message: '1 of 3 replicas available' };
  const first = revisionHealth([{ key: 'apps/v1/Deployment/default/web', health }]);
  assert.equal(first.reasons, ['Deployment default/web: 1 of 3 replicas available']);
  assert.is(revisionHealth([{ key: 'apps/v1/Deployment/default/web', health }]).reasons[0], first.reasons[0]);
  assert.equal(revisionHealth([{ key: 'apps/v1/Deployment/shop/api', health }]).reasons, ['Deployment shop/api: 1 of 3 replicas available']);
  health.message = '2 of 3 replicas available';
  assert.equal(revisionHealth([{ key: 'apps/v1/Deployment/default/web', health }]).reasons, ['Deployment default/web: 2 of 3 replicas available']);
});

test.run();
