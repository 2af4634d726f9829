import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { getCondition, isTrue, setCondition } from '../../src/model/conditions.ts';

test('lastTransitionTime moves only when the status flips', () => {
  let cs = setCondition(undefined, { type: 'Ready', status: 'False', reason: 'A' }, 't1');
  cs = setCondition(cs, { type: 'Ready', status: 'False', reason: 'B' }, 't2');
  assert.equal(getCondition(cs, 'Ready'), { type: 'Ready', status: 'False', reason: 'B', lastTransitionTime: 't1' });
  cs = setCondition(cs, { type: 'Ready', status: 'True' }, 't3');
  cs = setCondition(cs, { type: 'Other', status: 'True' }, 't4');
  assert.equal(cs.map((c) => [c.type, c.lastTransitionTime]), [['Ready', 't3'], ['Other', 't4']]);
  assert.ok(isTrue(cs, 'Ready'));
  assert.not.ok(isTrue(cs, 'Missing'));
});

test('setting the same condition again gives an equal list', () => {
  const a = setCondition([], { type: 'Available', status: 'True', reason: 'R', message: 'm', lastUpdateTime: 'u1' }, 't1');
  const b = setCondition(a, { type: 'Available', status: 'True', reason: 'R', message: 'm' }, 't2');
  assert.equal(b, a);
});

test.run();
