// Names sort as Kubernetes and Argo CD sort them (Go's byte order), not by ICU's collation (localeCompare).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compareText } from '../../src/model/compare-text.ts';
import { compareApplyOrder } from '../../src/plan/order.ts';
import type { KubeObject } from '../../src/model/object.ts';

test('code-unit order: capitals before small letters, punctuation by its code', () => {
  assert.ok(compareText('B', 'a') < 0, 'B before a (localeCompare puts a first)');
  assert.ok(compareText('a', 'B') > 0);
  assert.is(compareText('same', 'same'), 0);
  assert.equal(['a1', 'a.b', 'B', 'a', 'a-b', 'A', ''].sort(compareText), ['', 'A', 'B', 'a', 'a-b', 'a.b', 'a1']);
});

test('apply order within a kind: by name in byte order, as gitops-engine', () => {
  const role = (name: string) => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name } }) as KubeObject;
  const names = [role('admin'), role('Beta'), role('system:aggregate-to-view'), role('Alpha')].sort(compareApplyOrder).map((o) => o.metadata.name);
  assert.equal(names, ['Alpha', 'Beta', 'admin', 'system:aggregate-to-view']);
});

test.run();
