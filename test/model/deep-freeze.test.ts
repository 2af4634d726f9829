import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { deepFreeze } from '../../src/model/deep-freeze.ts';

test('freezes every object and array below, returns what it was given, and leaves primitives', () => {
  const pod = { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'c', args: ['x', { deep: [1, 2] }] }] }, n: null };
  assert.is(deepFreeze(pod), pod);
  for (const o of [pod, pod.metadata, pod.metadata.labels, pod.spec, pod.spec.containers, pod.spec.containers[0], pod.spec.containers[0].args, pod.spec.containers[0].args[1], (pod.spec.containers[0].args[1] as { deep: number[] }).deep]) {
    assert.ok(Object.isFrozen(o), JSON.stringify(o));
  }
  assert.throws(() => { (pod.metadata.labels as Record<string, string>).app = 'b'; }, TypeError);
  assert.is(deepFreeze('text'), 'text');
  assert.is(deepFreeze(null), null);
});

test('a part frozen already is not walked again (an object sharing it with an earlier frozen version), and only own properties are', () => {
  const loose = { inner: { v: 1 } };
  const frozenOuter = Object.freeze({ loose });
  deepFreeze({ shared: frozenOuter });
  assert.not.ok(Object.isFrozen(loose), 'below a frozen part, nothing is touched');
  const proto = { inherited: { v: 2 } };
  const child = Object.assign(Object.create(proto), { own: { v: 3 } });
  deepFreeze(child);
  assert.ok(Object.isFrozen(child.own));
  assert.not.ok(Object.isFrozen(proto.inherited), 'an inherited property is not the object\'s to freeze');
});

test.run();
