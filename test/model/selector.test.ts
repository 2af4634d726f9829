import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { matchesRequirements, matchesSelector, parseSelector } from '../../src/model/selector.ts';

test('parses equality, set and existence requirements', () => {
  const reqs = parseSelector('app=web, tier!=db,env in (prod, staging),!legacy,team');
  assert.equal(reqs, [
    { key: 'app', operator: 'In', values: ['web'] },
    { key: 'tier', operator: 'NotIn', values: ['db'] },
    { key: 'env', operator: 'In', values: ['prod', 'staging'] },
    { key: 'legacy', operator: 'DoesNotExist', values: [] },
    { key: 'team', operator: 'Exists', values: [] },
  ]);
  assert.ok(matchesRequirements(reqs, { app: 'web', env: 'prod', team: 'a' }));
  assert.not.ok(matchesRequirements(reqs, { app: 'web', env: 'dev', team: 'a' }));
  assert.not.ok(matchesRequirements(reqs, { app: 'web', env: 'prod', team: 'a', legacy: 'y' }));
});

test('rejects malformed selectors', () => {
  assert.throws(() => parseSelector('app=(web'), /unable to parse/);
});

test('structured selectors: matchLabels and matchExpressions; empty matches all', () => {
  assert.ok(matchesSelector({}, { a: '1' }));
  assert.ok(matchesSelector({ matchLabels: { a: '1' }, matchExpressions: [{ key: 'b', operator: 'NotIn', values: ['x'] }] }, { a: '1' }));
  assert.not.ok(matchesSelector({ matchLabels: { a: '1' } }, { a: '2' }));
});

test.run();
