// A StatefulSet's rollout impact in plan: the ordinals that roll (highest first, down to the partition), start and stop.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/model/object.ts';
import { makePlan } from '../../src/plan/plan.ts';
import { statefulSetImpacts } from '../../src/review/statefulset-impact.ts';

function sts(image: string, replicas = 4, strategy: Record<string, unknown> = { type: 'RollingUpdate', rollingUpdate: { partition: 0 } }): KubeObject {
  return {
    apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'db', namespace: 'default' },
    spec: {
      replicas, serviceName: 'db', podManagementPolicy: 'OrderedReady', selector: { matchLabels: { app: 'db' } }, updateStrategy: strategy,
      template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'db', image }] } },
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'] } }],
    },
  };
}
const impact = (desired: KubeObject[], live: KubeObject[]) => statefulSetImpacts(makePlan({ desired, live, inventory: live.length ? ['apps/v1/StatefulSet/default/db'] : [] }), live);

test('a changed template rolls the ordinals from the highest down to the partition', () => {
  const [all] = impact([sts('redis:7')], [sts('redis:6')]);
  assert.equal([all.action, all.ordinals, all.podsCreated, all.podsDeleted], ['replace', { added: [], removed: [], rolled: [3, 2, 1, 0], kept: [] }, 4, 4]);
  assert.is(all.summary, 'rolls ordinals 3, 2, 1, 0 to the new template, highest first, RollingUpdate (maxUnavailable 1)');
  const [part] = impact([sts('redis:7', 4, { type: 'RollingUpdate', rollingUpdate: { partition: 2 } })], [sts('redis:6')]);
  assert.equal(part.ordinals, { added: [], removed: [], rolled: [3, 2], kept: [0, 1] });
  assert.is(part.summary, 'rolls ordinals 3, 2 to the new template, highest first, RollingUpdate (maxUnavailable 1, partition 2); ordinals 0, 1 stay at the current revision (below the partition)');
  const [onDelete] = impact([sts('redis:7', 4, { type: 'OnDelete' })], [sts('redis:6')]);
  assert.equal([onDelete.ordinals?.rolled, onDelete.podsDeleted], [[], 0]);
});

test('create, scale and prune name the ordinals and claims', () => {
  assert.is(impact([sts('redis:6', 3)], [])[0].summary, 'creates 3 pods db-0..2 in order, each once the one before is Ready (OrderedReady), each with its claim data-db-<ordinal>');
  const [down] = impact([sts('redis:6', 2)], [sts('redis:6', 4)]);
  assert.equal([down.action, down.summary], ['scale', 'stops ordinals 3, 2 (highest first)']);
  assert.is(impact([], [sts('redis:6', 2)])[0].summary, 'deletes it and its 2 pods; its claims are kept (whenDeleted: Retain)');
  assert.equal(impact([sts('redis:6')], [sts('redis:6')]), [], 'no change, no impact');
});

test.run();
