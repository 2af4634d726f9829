// Keys kept as long as an object lives are one flat string per text (intern.ts): a template literal makes a rope
// (a snapshot's "(concatenated string)"), and each component naming an object made its own. Counted in heap snapshots.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { intern } from '../../src/model/intern.ts';
import { keyOf, objectKey } from '../../src/model/key.ts';
import { stringCopies } from '../support/heap-strings.ts';

test('intern gives the same text, whatever it is', () => {
  for (const s of ['', 'a', '__proto__', 'constructor', 'toString', '0', '42', 'x'.repeat(5000), 'v1/ConfigMap/default/cm-1']) assert.is(intern(s), s);
  assert.is(intern(`${'toString'}/${'x'}`), 'toString/x');
});

test('objectKey and keyOf: 500 objects named twice hold one flat string for each key', () => {
  const objects = () => Array.from({ length: 500 }, (_, i) => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { namespace: 'intern-test', name: `app-${i}` } }));
  const held = [...objects(), ...objects()].map((o) => [objectKey(o), keyOf(o)]);
  // The texts asked for, made flat here (not literals, which would be the interned strings themselves), are one copy
  // each; the keys another. A rope is not a flat string: without intern only the texts asked for are counted, and
  // keys made flat but not shared would be two more.
  const [full, short] = stringCopies(['apps/v1', 'Deployment', 'intern-test', 'app-17'].join('/'), ['intern-test', 'app-17'].join('/'));
  assert.is(full, 2, `${full - 1} flat copies of an object key made twice`);
  assert.is(short, 2, `${short - 1} flat copies of a cache key made twice`);
  assert.is(held.length, 1000);
});

test.run();
