import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isConfigKey, isDnsLabel, isDnsSubdomain, isIanaSvcName, isLabelValue, isQualifiedName } from '../../src/model/names.ts';

test('DNS-1123 labels and subdomains', () => {
  for (const ok of ['a', 'web-1', '0abc', 'a'.repeat(63)]) assert.ok(isDnsLabel(ok), ok);
  for (const bad of ['', '-a', 'a-', 'A', 'a.b', 'a_b', 'a'.repeat(64)]) assert.not.ok(isDnsLabel(bad), bad);
  for (const ok of ['a', 'a.b', 'web-1.example.com', `${'a'.repeat(63)}.${'b'.repeat(63)}`]) assert.ok(isDnsSubdomain(ok), ok);
  for (const bad of ['', '.a', 'a.', 'a..b', 'A.b', 'a.-b', 'a'.repeat(254)]) assert.not.ok(isDnsSubdomain(bad), bad);
});

test('label keys and values', () => {
  for (const ok of ['app', 'App_1.x-y', 'example.com/name', 'kubernetes.io/os', 'a'.repeat(63)]) assert.ok(isQualifiedName(ok), ok);
  for (const bad of ['', '/x', 'x/', 'Example.com/x', 'a/b/c', '-x', 'x_', 'a b', 'a'.repeat(64)]) assert.not.ok(isQualifiedName(bad), bad);
  for (const ok of ['', 'v1', 'A_b.c-d']) assert.ok(isLabelValue(ok), ok);
  for (const bad of ['-', 'a b', 'x/y', 'a'.repeat(64)]) assert.not.ok(isLabelValue(bad), bad);
});

test('port names and config keys', () => {
  for (const ok of ['http', 'h2c', 'metrics-9090', 'a'.repeat(15)]) assert.ok(isIanaSvcName(ok), ok);
  for (const bad of ['8080', 'HTTP', 'web--http', '-http', 'a'.repeat(16)]) assert.not.ok(isIanaSvcName(bad), bad);
  for (const ok of ['a', 'settings.json', '.env', 'A_B-c']) assert.ok(isConfigKey(ok), ok);
  for (const bad of ['', '.', '..', '..a', 'a/b', 'a b', 'a'.repeat(254)]) assert.not.ok(isConfigKey(bad), bad);
});

test.run();
