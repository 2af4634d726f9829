import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatQuantity, isQuantity, parseQuantity } from '../../src/model/quantity.ts';

test('parses decimal, binary, milli and exponent forms into base units', () => {
  assert.is(parseQuantity('250m'), 0.25);
  assert.is(parseQuantity('100m'), 0.1);
  assert.is(parseQuantity('0.5'), 0.5);
  assert.is(parseQuantity('2'), 2);
  assert.is(parseQuantity('128Mi'), 134217728);
  assert.is(parseQuantity('1Ki'), 1024);
  assert.is(parseQuantity('1Gi'), 1073741824);
  assert.is(parseQuantity('1G'), 1e9);
  assert.is(parseQuantity('1k'), 1000);
  assert.is(parseQuantity('1e3'), 1000);
  assert.is(parseQuantity('1E3'), 1000);
  assert.is(parseQuantity('1E'), 1e18); // exa, not an exponent
  assert.is(parseQuantity('5n'), 5e-9);
  assert.is(parseQuantity('.5'), 0.5);
  assert.is(parseQuantity('+1.5M'), 1.5e6);
  assert.is(parseQuantity('-1'), -1);
});

test('accepts YAML numbers', () => {
  assert.is(parseQuantity(1), 1);
  assert.is(parseQuantity(0.25), 0.25);
  assert.throws(() => parseQuantity(Infinity), /invalid quantity/);
});

test('rejects bad syntax', () => {
  for (const bad of ['', 'abc', '12 parsecs', '1mi', '1MB', 'Mi', '1.2.3', ' 1', '1 ', '1e', '0x10', '1Kii']) {
    assert.throws(() => parseQuantity(bad), /invalid quantity/, bad);
    assert.is(isQuantity(bad), false, bad);
  }
  assert.is(isQuantity('64Mi'), true);
  assert.is(isQuantity(null), false);
});

test('formats like Kubernetes', () => {
  assert.is(formatQuantity(0.25), '250m');
  assert.is(formatQuantity(2), '2');
  assert.is(formatQuantity(1500), '1500');
  assert.is(formatQuantity(2000), '2k');
  assert.is(formatQuantity(0), '0');
  assert.is(formatQuantity(134217728, 'binarySI'), '128Mi');
  assert.is(formatQuantity(1024 ** 3, 'binarySI'), '1Gi');
  assert.is(formatQuantity(1e9, 'binarySI'), '1G'); // not a multiple of 1024: decimal
  assert.is(formatQuantity(1000, 'binarySI'), '1k');
  assert.is(formatQuantity(1e-6), '1u');
});

test('round-trips', () => {
  for (const q of ['250m', '1', '128Mi', '3Gi', '1500', '5k', '10u']) {
    const style = q.endsWith('i') ? 'binarySI' : 'decimalSI';
    assert.is(formatQuantity(parseQuantity(q), style), q);
  }
});

test.run();
