// HorizontalPodAutoscalers are served in the version the path names, converted as kube-apiserver converts them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hpaIn } from '../../src/api/hpa-conversion.ts';
import { getView, listView, viewOf } from '../../src/api/views.ts';
import { kindInfo } from '../../src/model/kinds.ts';
import type { KubeObject } from '../../src/model/object.ts';
import { cleanup, freshStore } from '../store/helpers.ts';

test.after.each(cleanup);

const ref = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' };
const v1: KubeObject = {
  apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'old', namespace: 'default' },
  spec: { scaleTargetRef: ref, minReplicas: 1, maxReplicas: 5, targetCPUUtilizationPercentage: 60 },
  status: { currentReplicas: 2, desiredReplicas: 3, currentCPUUtilizationPercentage: 75 },
};
const v2: KubeObject = {
  apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'new', namespace: 'default', annotations: { team: 'a' } },
  spec: {
    scaleTargetRef: ref, minReplicas: 2, maxReplicas: 10,
    metrics: [
      { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } },
      { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '500Mi' } } },
    ],
    behavior: { scaleDown: { stabilizationWindowSeconds: 60 } },
  },
  status: {
    currentReplicas: 2, desiredReplicas: 2,
    currentMetrics: [
      { type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 40 } } },
      { type: 'Resource', resource: { name: 'memory', current: { averageValue: '300Mi' } } },
    ],
    conditions: [{ type: 'AbleToScale', status: 'True', reason: 'ReadyForNewScale' }],
  },
};

test('v1 at v2: the CPU target becomes a Resource metric, its current utilisation a current metric', () => {
  const out = hpaIn('v2', v1);
  assert.is(out.apiVersion, 'autoscaling/v2');
  assert.equal(out.spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } }]);
  assert.is(out.spec.targetCPUUtilizationPercentage, undefined);
  assert.equal(out.status.currentMetrics, [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 75 } } }]);
  const none = hpaIn('v2', { ...v1, spec: { scaleTargetRef: ref, maxReplicas: 3 } });
  assert.equal(none.spec.metrics[0].resource.target, { type: 'Utilization', averageUtilization: 80 }, 'no target is 80 % CPU');
});

test('v2 at v1: CPU utilisation is the target, everything else rides in the alpha annotations; back at v2 nothing is lost', () => {
  const out = hpaIn('v1', v2);
  assert.is(out.apiVersion, 'autoscaling/v1');
  assert.equal(out.spec, { scaleTargetRef: ref, minReplicas: 2, maxReplicas: 10, targetCPUUtilizationPercentage: 70 });
  assert.equal(JSON.parse(out.metadata.annotations!['autoscaling.alpha.kubernetes.io/metrics']), [{ type: 'Resource', resource: { name: 'memory', targetAverageValue: '500Mi' } }]);
  assert.equal(JSON.parse(out.metadata.annotations!['autoscaling.alpha.kubernetes.io/behavior']), { scaleDown: { stabilizationWindowSeconds: 60 } });
  assert.is(out.status.currentCPUUtilizationPercentage, 40);
  assert.is(out.metadata.annotations!.team, 'a');
  assert.equal(hpaIn('v2', out), v2, 'a round trip gives the object back');
  assert.is(hpaIn('v2', v2), v2, 'the stored version is served as it is');
});

test('the API view converts to the version of the path, in lists and single reads', async () => {
  const { store } = await freshStore();
  await store.create(v1);
  await store.create(v2);
  const info = kindInfo('HorizontalPodAutoscaler')!;
  const atV2 = await listView(store, viewOf(info, 'v2'), { namespace: 'default' });
  assert.equal(atV2.items.map((h) => [h.metadata.name, h.apiVersion]), [['new', 'autoscaling/v2'], ['old', 'autoscaling/v2']]);
  const old = await getView(store, viewOf(info, 'v2'), 'default', 'old');
  assert.is(old?.spec.metrics[0].resource.target.averageUtilization, 60);
  const newAtV1 = await getView(store, viewOf(info, 'v1'), 'default', 'new');
  assert.is(newAtV1?.spec.targetCPUUtilizationPercentage, 70);
});

test.run();
