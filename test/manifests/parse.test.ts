import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseYaml } from '../../src/manifests/parse.ts';
import { loadManifests } from '../../src/manifests/load-manifests.ts';
import { brief, fixture, load } from './helpers.ts';

test('multi-document files: one object per document, empty documents skipped', () => {
  const yaml = '---\n# only a comment\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n---\n\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: b\n...\n';
  const r = load(yaml);
  assert.equal(r.issues, []);
  assert.equal(r.objects.map((o) => [o.object.metadata.name, o.line, o.column]), [['a', 4, 1], ['b', 10, 1]]);
});

test('an empty file or a file of comments yields nothing', () => {
  assert.equal(load(''), { objects: [], issues: [] });
  assert.equal(load('# nothing here\n'), { objects: [], issues: [] });
});

test('a YAML syntax error carries js-yaml line and column', () => {
  const r = loadManifests(fixture('errors/syntax.yaml'));
  assert.equal(r.issues, [{ severity: 'error', file: 'fixtures/manifests/errors/syntax.yaml', line: 5, column: 10, message: 'YAML: bad indentation of a mapping entry' }]);
});

test('duplicate keys are a YAML error at the second key', () => {
  assert.equal(brief(load('apiVersion: v1\nkind: Namespace\nkind: Namespace\n')), ['error 3:1 -: YAML: duplicated mapping key']);
});

test('a quoted value continued on lines not indented past its key loads as go-yaml reads it', () => {
  // The dashboard's init-container annotation: kubectl and the API server accept it; YAML 1.2 does not.
  const src = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  annotations:\n    a: \'[\n        {"x": 1}\n    ]\'\n    b: "one\n  two"\ndata:\n  k: v\n';
  const { docs, error } = parseYaml(src, 'q.yaml', 100);
  assert.is(error, undefined);
  assert.equal((docs[0].value as any).metadata.annotations, { a: '[ {"x": 1} ]', b: 'one two' });
  // Positions after the re-indented lines are unchanged.
  assert.equal(docs[0].positions.at(['data', 'k']), { line: 12, column: 3 });
});

test('mis-indented structure outside quotes keeps js-yaml\'s error', () => {
  assert.equal(brief(load('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n labels: {}\n')), ['error 5:2 -: YAML: bad indentation of a mapping entry']);
  // A document marker inside a quoted scalar is still an error, not text.
  const r = parseYaml("a:\n  b: 'x\n---\n'\n", 'm.yaml', 100);
  assert.equal(r.error, { line: 3, column: 1, message: 'YAML: deficient indentation' });
});

test('positions: keys for mapping entries, starts for list items, quotes and flow style included', () => {
  const src = 'a:\n  "quoted key": 1\n  list:\n    - x\n    - {b: [1, 2], c: 3}\n  &anchor d: !!str 5\n';
  const { docs } = parseYaml(src, 'p.yaml', 100);
  const p = docs[0].positions;
  assert.equal(p.at([]), { line: 1, column: 1 });
  assert.equal(p.at(['a', 'quoted key']), { line: 2, column: 3 });
  assert.equal(p.at(['a', 'list', 0]), { line: 4, column: 7 });
  assert.equal(p.at(['a', 'list', 1]), { line: 5, column: 7 });
  assert.equal(p.at(['a', 'list', 1, 'c']), { line: 5, column: 19 });
  assert.equal(p.at(['a', 'list', 1, 'b', 1]), { line: 5, column: 15 });
  assert.equal(p.at(['a', 'd']), { line: 6, column: 3 });
  assert.equal(p.at(['a', 'list', 1, 'missing', 'deeper']), { line: 5, column: 7 }, 'missing paths fall back to the nearest written ancestor');
  // Once written for the load cache, the positions are kept compact: the same answers, read back from it.
  const compact = p.compacted();
  assert.is(p.compacted(), compact);
  assert.equal(JSON.parse(compact.fields).slice(0, 3), ['', '/a', '/a/quoted key']);
  assert.is(compact.where.split(',').length, JSON.parse(compact.fields).length);
  assert.equal(p.at(['a', 'list', 1, 'missing', 'deeper']), { line: 5, column: 7 });
  assert.equal(p.at(['a', 'list', 1, 'c']), { line: 5, column: 19 });
  assert.equal(p.at(['a', 'd']), { line: 6, column: 3 });
});

test('aliases and merge keys load as plain copies', () => {
  const src = 'base: &b {x: 1}\nuse: *b\nmerged:\n  <<: *b\n  z: 2\n';
  const { docs, error } = parseYaml(src, 'a.yaml', 100);
  assert.is(error, undefined);
  assert.equal(docs[0].value, { base: { x: 1 }, use: { x: 1 }, merged: { x: 1, z: 2 } });
  const v = docs[0].value as any;
  assert.is.not(v.base, v.use, 'no shared references');
  assert.equal(docs[0].positions.at(['merged', 'x']), { line: 3, column: 1 }, 'a merged key points at its mapping');
});

test('billion laughs is refused quickly', () => {
  const t = performance.now();
  const r = loadManifests(fixture('errors/billion-laughs.yaml'));
  assert.ok(performance.now() - t < 500, 'refused without expanding');
  assert.equal(brief(r), ['error 10:16 -: YAML aliases expand this file far beyond its size ("billion laughs"); refused']);
});

test('the alias count is limited (default 100, configurable)', () => {
  const many = 'a: &a x\nl: [' + Array(101).fill('*a').join(', ') + ']\n';
  assert.equal(brief(load(many)), ['error 2:405 -: more than 100 YAML aliases in one document']);
  assert.equal(brief(load('a: &a x\nb: *a\nc: *a\n', { maxAliases: 1 })), ['error 3:4 -: more than 1 YAML aliases in one document']);
});

test.run();

test('plain scalars resolve as go-yaml v2 (YAML 1.1) resolves them, as kubectl and the API server read them', () => {
  const { docs } = parseYaml('mode: 0400\nhex: 0x1F\nbin: 0b101\ngo: 0o755\nbig: 1_000\nexp: 1e3\nno8: 08\nflag: yes\nswitch: off\nnothing: ~\ntime: 12:30\ndate: 2024-01-01\nquoted: "0400"\n', 'f.yaml', 10);
  assert.equal(docs[0].value, {
    mode: 256, hex: 31, bin: 5, go: 493, big: 1000, exp: 1000, no8: 8, flag: true, switch: false, nothing: null,
    time: '12:30', date: '2024-01-01', quoted: '0400',
  });
});
