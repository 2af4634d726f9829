// pod-template-hash: FNV-32a plus Kubernetes' safe alphabet, stable across key order and runs, blind to its own label.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { equalIgnoreHash, podTemplateHash, safeEncode, templateWithHash, withoutHash } from '../../src/controllers/pod-template-hash.ts';
import { fnv32a } from '../../src/model/hash.ts';

const template = () => ({
  metadata: { labels: { app: 'web', tier: 'front' }, annotations: { team: 'blue' } },
  spec: { containers: [{ name: 'web', image: 'git:apps/web@1234abcd', ports: [{ containerPort: 8080, protocol: 'TCP' }] }], restartPolicy: 'Always' },
});

test('FNV-32a matches the reference vectors', () => {
  assert.is(fnv32a(''), 0x811c9dc5);
  assert.is(fnv32a('a'), 0xe40c292c);
  assert.is(fnv32a('foobar'), 0xbf9cf968);
  assert.is(fnv32a('é'), fnv32a('\u00e9'), 'hashed as UTF-8 bytes');
});

test('the safe encoding maps each digit into Kubernetes\' alphabet (no vowels, no look-alikes)', () => {
  assert.is(safeEncode('0123456789'), '456789bcdf');
});

test('the hash is stable: same content, any key order; known value pinned so a change of algorithm shows', () => {
  const a = template();
  const b = { spec: { restartPolicy: 'Always', containers: [{ ports: [{ protocol: 'TCP', containerPort: 8080 }], image: 'git:apps/web@1234abcd', name: 'web' }] }, metadata: { annotations: { team: 'blue' }, labels: { tier: 'front', app: 'web' } } };
  const h = podTemplateHash(a);
  assert.is(podTemplateHash(b), h);
  assert.match(h, /^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
  assert.is(h, safeEncode(String(fnv32a('{"metadata":{"annotations":{"team":"blue"},"labels":{"app":"web","tier":"front"}},"spec":{"containers":[{"image":"git:apps/web@1234abcd","name":"web","ports":[{"containerPort":8080,"protocol":"TCP"}]}],"restartPolicy":"Always"}}'))));
});

test('the hash changes with the template, and ignores its own label', () => {
  const t = template();
  const h = podTemplateHash(t);
  const other = template();
  other.spec.containers[0].image = 'git:apps/web@5678ef00';
  assert.is.not(podTemplateHash(other), h);
  assert.is(podTemplateHash(templateWithHash(t, h)), h);
});

test('equalIgnoreHash: templates differing only by the hash label are equal; empty maps equal missing ones', () => {
  const t = template();
  const withHash = templateWithHash(t, 'abc');
  assert.is(withHash.metadata!.labels!['pod-template-hash'], 'abc');
  assert.is((t.metadata.labels as Record<string, string>)['pod-template-hash'], undefined, 'the input is not changed');
  assert.ok(equalIgnoreHash(t, withHash));
  assert.ok(equalIgnoreHash({ metadata: {}, spec: { containers: [] } }, templateWithHash({ spec: {} }, 'x')));
  const changed = templateWithHash(t, 'abc');
  (changed.metadata!.labels as Record<string, string>).tier = 'back';
  assert.not.ok(equalIgnoreHash(t, changed));
});

test('withoutHash drops the label and a labels map it leaves empty', () => {
  assert.equal(withoutHash({ metadata: { labels: { 'pod-template-hash': 'x' } }, spec: {} }), { metadata: {}, spec: {} });
  const t = template();
  assert.is(withoutHash(t), t, 'nothing to drop: the same object');
});

test.run();
