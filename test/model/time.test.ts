import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isoSeconds } from '../../src/model/time.ts';

test('isoSeconds: second precision, the kept text of the last second never given for another', () => {
  const at = (iso: string) => new Date(iso);
  assert.is(isoSeconds(at('2024-05-01T10:00:00.250Z')), '2024-05-01T10:00:00Z');
  assert.is(isoSeconds(at('2024-05-01T10:00:00.999Z')), '2024-05-01T10:00:00Z', 'the same second');
  assert.is(isoSeconds(at('2024-05-01T10:00:01.000Z')), '2024-05-01T10:00:01Z', 'the next one');
  assert.is(isoSeconds(at('2024-05-01T10:00:00.500Z')), '2024-05-01T10:00:00Z', 'back to an earlier one');
  assert.is(isoSeconds(at('1969-12-31T23:59:59.500Z')), '1969-12-31T23:59:59Z', 'before 1970: floor, not truncation');
  assert.is(isoSeconds(at('1970-01-01T00:00:00.500Z')), '1970-01-01T00:00:00Z');
  assert.throws(() => isoSeconds(new Date(NaN)), RangeError, 'an invalid date throws, as toISOString does');
});

test.run();
