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

test('each operator against labels that have the key, lack it, or are absent altogether', () => {
  const one = (operator: string, values: string[]) => [{ key: 'k', operator, values }] as Parameters<typeof matchesRequirements>[0];
  const cases: [string, string[], Record<string, string> | undefined, boolean][] = [
    ['In', ['a', 'b'], { k: 'b' }, true], ['In', ['a'], { k: 'c' }, false], ['In', ['a'], {}, false], ['In', ['a'], undefined, false],
    ['NotIn', ['a'], { k: 'a' }, false], ['NotIn', ['a'], { k: 'c' }, true], ['NotIn', ['a'], {}, true], ['NotIn', ['a'], undefined, true],
    ['Exists', [], { k: '' }, true], ['Exists', [], {}, false], ['Exists', [], undefined, false],
    ['DoesNotExist', [], { k: 'x' }, false], ['DoesNotExist', [], {}, true], ['DoesNotExist', [], undefined, true],
    ['Gt', ['1'], { k: '2' }, false], // not a label-selector operator: never matches
  ];
  for (const [op, values, labels, want] of cases) assert.is(matchesRequirements(one(op, values), labels), want, `${op} ${JSON.stringify(values)} on ${JSON.stringify(labels)}`);
  assert.ok(matchesRequirements([], undefined), 'no requirement matches anything');
  assert.not.ok(matchesRequirements([{ key: 'toString', operator: 'Exists', values: [] }], {}), 'only own keys count');
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
