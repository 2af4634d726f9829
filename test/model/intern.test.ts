// Strings kept as long as an object lives are one flat string per text (intern.ts): a template literal makes a rope
// (a snapshot's "(concatenated string)"), and each component naming an object made its own. Counted in heap snapshots.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { intern } from '../../src/model/intern.ts';
import { keyOf } from '../../src/plan/pair.ts';
import { IndexBuckets } from '../../src/store/index-buckets.ts';
import type { KubeObject } from '../../src/model/object.ts';
import { stringCopies } from '../support/heap-strings.ts';

test('intern gives the same text, whatever it is', () => {
  for (const s of ['', 'a', '__proto__', 'constructor', 'toString', '0', '4294967295', 'a\0b', '\ud800', 'x'.repeat(5000), 'v1/ConfigMap/default/cm-1']) assert.is(intern(s), s);
  assert.is(intern(`${'toString'}/${'x'}`), 'toString/x');
});

const objects = (ns: string) => Array.from({ length: 500 }, (_, i) => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { namespace: ns, name: `app-${i}` } }) as KubeObject);
/** A text made flat here (a literal would be the interned string itself): it is one copy of its own. */
const flat = (...parts: string[]) => parts.join('/');

// Without intern each of these is a rope, which is not a flat string: only the text asked for is counted. Made flat
// but not shared, each would be two more.
test("plan's keys and an index's entries: 500 objects named twice hold one flat string for each key", () => {
  const planned = [...objects('intern-plan'), ...objects('intern-plan')].map(keyOf);
  const index = new IndexBuckets<KubeObject>();
  for (const o of [...objects('intern-index'), ...objects('intern-index')]) index.put(`app=${o.metadata.name}`, `${o.metadata.namespace}/${o.metadata.name}`, o);
  const [plan, value, entry] = stringCopies(flat('apps/v1', 'Deployment', 'intern-plan', 'app-17'), ['app', 'app-17'].join('='), flat('intern-index', 'app-17'));
  assert.is(plan, 2, `${plan - 1} flat copies of a key planned twice`);
  assert.is(value, 2, `${value - 1} flat copies of an index's value put twice`);
  assert.is(entry, 2, `${entry - 1} flat copies of an index's key put twice`);
  assert.is(planned.length + index.count(`app=app-3`), 1001);
});

test.run();
