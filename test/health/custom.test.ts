// Custom resources by kstatus' rules; CRDs by Established; kept built-in kinds by what they need.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { assessHealth } from '../../src/health/registry.ts';
import { registerCrds } from '../../src/model/custom-kinds.ts';
import type { KubeObject } from '../../src/model/object.ts';

const crd: KubeObject = {
  apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'widgets.example.com' },
  spec: { group: 'example.com', scope: 'Namespaced', names: { kind: 'Widget', plural: 'widgets' }, versions: [{ name: 'v1', served: true, storage: true }] },
};
registerCrds([crd]);
const widget = (status: unknown, generation = 2): KubeObject => ({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'default', generation }, status });

test('custom resources: kstatus conditions, observedGeneration, and Unknown without conditions', () => {
  const h = (s: unknown, g?: number) => { const r = assessHealth(widget(s, g)); return `${r.status}: ${r.message}`; };
  assert.is(h(undefined), 'Unknown: Widget w: nothing runs Widget in convergit, and it has no Ready condition');
  assert.is(h({ observedGeneration: 2, conditions: [{ type: 'Ready', status: 'True' }] }), 'Healthy: Widget w is ready');
  assert.is(h({ observedGeneration: 1, conditions: [{ type: 'Ready', status: 'True' }] }), 'Progressing: Widget w: generation 2 not observed yet (1)');
  assert.is(h({ conditions: [{ type: 'Ready', status: 'False' }, { type: 'Stalled', status: 'True', reason: 'BadConfig', message: 'no such secret' }] }), 'Degraded: Widget w is stalled: BadConfig: no such secret');
  assert.is(h({ conditions: [{ type: 'Reconciling', status: 'True', reason: 'Progressing' }] }), 'Progressing: Widget w is reconciling: Progressing');
  assert.is(h({ conditions: [{ type: 'Ready', status: 'False', reason: 'Waiting' }] }), 'Progressing: Widget w is not ready: Waiting');
});

test('a CustomResourceDefinition is Healthy once established', () => {
  assert.is(assessHealth(crd).status, 'Progressing');
  assert.is(assessHealth({ ...crd, status: { conditions: [{ type: 'Established', status: 'True' }] } }).status, 'Healthy');
});

test('kept kinds: configuration kinds are Healthy by existing; kinds that need a controller are Unknown', () => {
  const sa = assessHealth({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'sa', namespace: 'default' } });
  assert.is(`${sa.status}: ${sa.message}`, 'Healthy: ServiceAccount sa exists (kept: no tokens are issued)');
  const csr = assessHealth({ apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name: 'c' } });
  assert.is(csr.status, 'Unknown');
});

test.run();
