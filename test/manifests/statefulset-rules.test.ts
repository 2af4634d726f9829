// The API server's StatefulSet rules, checked at validation with file and field.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { load, messages } from './helpers.ts';

const sts = (strategy: string, claims = '[{metadata: {name: data}, spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}}]', labels = 'app: db') => `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  selector: {matchLabels: {app: db}}
  updateStrategy: ${strategy}
  template:
    metadata: {labels: {${labels}}}
    spec: {containers: [{name: db, image: redis, command: [redis-server]}]}
  volumeClaimTemplates: ${claims}
`;

test('a valid StatefulSet loads with no issue, its claim template keeping its storage request', () => {
  const r = load(sts('{type: RollingUpdate, rollingUpdate: {partition: 1, maxUnavailable: 2}}'));
  assert.equal(messages(r), []);
  assert.equal(r.objects[0].object.spec.volumeClaimTemplates[0].spec.resources, { requests: { storage: '1Gi' } });
});

test('selector, strategy and claim template names are checked as the API server does', () => {
  assert.equal(messages(load(sts('{type: RollingUpdate}', undefined, 'app: web'))), ['spec.selector: does not match the template labels (spec.template.metadata.labels)']);
  assert.equal(messages(load(sts('{type: OnDelete, rollingUpdate: {partition: 1}}'))), ["spec.updateStrategy.rollingUpdate: only allowed for updateStrategy 'RollingUpdate'"]);
  assert.equal(messages(load(sts('{type: RollingUpdate, rollingUpdate: {maxUnavailable: 0}}'))), ['spec.updateStrategy.rollingUpdate.maxUnavailable: must be greater than 0']);
  assert.equal(messages(load(sts('{type: RollingUpdate}', '[{metadata: {name: data}}, {metadata: {name: data}}]'))), ['spec.volumeClaimTemplates[1].metadata: duplicate claim template name "data"']);
});

test.run();
