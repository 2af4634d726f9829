// The quick parse of plain YAML (js-yaml 4) must read every text it takes exactly as js-yaml 5's events do: the
// same documents, the same field positions. Checked on the upstream corpus, on hand-picked texts at the edges of
// what it takes, and on generated documents dumped in many styles.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import * as yaml from 'js-yaml';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { plainDocs } from '../../src/manifests/plain-yaml.ts';
import { parseYaml, parseYamlEvents } from '../../src/manifests/parse.ts';
import { CORPUS, corpusPresent } from '../corpus/corpus-load.ts';

/** 'quick' when plainDocs read `text` (and parseYaml then reads it as parseYamlEvents does), 'events' when it left it. */
function readingOf(text: string): 'quick' | 'events' {
  if (!plainDocs(text)) return 'events';
  const quick = parseYaml(text, 't.yaml', 100); // plainDocs' documents, copied as JSON where .inf or .nan may be
  const events = parseYamlEvents(text, 't.yaml', 100);
  assert.is(events.error, undefined, `the quick parse took a text js-yaml 5 refuses: ${JSON.stringify(text)}`);
  assert.is(quick.error, undefined);
  assert.equal(quick.docs.map((d) => d.value), events.docs.map((d) => d.value), `values of ${JSON.stringify(text)}`);
  assert.equal(quick.docs.map((d) => d.positions.start), events.docs.map((d) => d.positions.start), `document starts of ${JSON.stringify(text)}`);
  assert.equal(quick.docs.map((d) => d.positions.compacted()), events.docs.map((d) => d.positions.compacted()), `positions of ${JSON.stringify(text)}`);
  return 'quick';
}

test('plain texts are read the quick way, as js-yaml 5 reads them', () => {
  const quick = [
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: "1"\n  b: |\n    text\n',
    // documents: markers, an empty one, a trailing marker, an end marker, comments
    '---\n# only a comment\n---\na: 1\n---\n---\n\nb:\n  c: 2\n...\n',
    'a: 1\n---\n',
    '# head\na: 1 # tail\n# between\nb:\n  # inside\n  - x\n',
    // list items of every style, a block scalar among them (placed at the line after its header)
    'command:\n- /bin/sh\n- -c\n- >\n  echo one\n\n  echo two\n- |-\n  last\nargs: ["a", \'b\', c]\n',
    'a:\n  - - x\n    - y\n  - {k: v, l: [1, 2]}\n  -   spaced: true\n',
    // flow collections over lines, empty ones, JSON style
    'a: {b: 1,\n  c: [x,\n    y]}\nd: []\ne: {}\nf: {"g":1,"h":[true,null]}\n',
    // YAML 1.1 scalars as go-yaml reads them
    'enabled: yes\ndisabled: n\nmode: 0400\nbig: 1_000\nhex: 0x1F\noct: 0o17\ntime: 12:30\nexp: 1e3\nnull1: ~\nnull2:\nf: .5\n',
    // keys and values that need care
    '"quoted key": 1\n\'single\': 2\n"a:b": 3\nkey with spaces: 4\napp.kubernetes.io/name: x\nurl: http://h/p?q=1#f\nhash: a#b\n__proto__: 5\n',
    'a: "one\n  two"\nb: plain\n  continued\nc: \'it\'\'s\'\n',
    'a:\r\n  b: 1\r\n  c:\r\n  - x\r\n',
    `${'a:\n'.repeat(1)}${Array.from({ length: 40 }, (_, i) => `${'  '.repeat(i + 1)}k${i}:\n`).join('')}${'  '.repeat(41)}v: 1\n`,
    'just a string\n',
    '--- # a comment\na: 1\n---   \nb: 2\n...  # end\n',
    `${'k'.repeat(1100)}: long key\n`,
    '- a\n- b: 1\n',
    '|\n  a document that is a block scalar\n',
    'a:\n  [1, 2]\nb:\n- {c: d}\n- [e]\n', // collections on a line of their own
    'a: |\n  x', // no line break at the end
  ];
  for (const text of quick) assert.is(readingOf(text), 'quick', JSON.stringify(text));
  const events = [
    'a: &x 1\nb: *x\n', // anchors and aliases
    'a: !!str 1\n', // tags
    '%YAML 1.2\n---\na: 1\n', // directives
    'base: &b {x: 1}\nc:\n  <<: *b\n', // merge keys
    '? complex\n: value\n', // explicit keys
    'a:\n\tb: 1\n', // tabs
    '\uFEFFa: 1\n', // a byte-order mark
    'a: 1\na: 2\n', // duplicate keys: js-yaml 5's error
    'on: push\n', // a key read as a boolean (go-yaml's YAML 1.1): its name is the value's text
    'data:\n  "80": x\n  "1": y\n', // integer-like keys: not in the order written
    'a: [b: 1]\n', // a one-pair mapping in a flow list
    'a: 1\n b: 2\n', // bad indentation
    "a:\n  k: '[\n    x\n  ]'\n", // a quoted value on lines not indented past its key (parse.ts re-indents it)
    `${'['.repeat(95)}${']'.repeat(95)}\n`, // nesting near js-yaml 5's limit
    '---a: 1\n...b: 2\n', // not document markers (js-yaml 4 takes them for ones)
    'a:\n- |', // a block scalar's header on the last line, no line break after it
    // what js-yaml 4 reads unlike js-yaml 5 (found by a review's fuzzing)
    'a: "x"#y\n', 'a: [x]#c\n', '[a,#c\n b]\n', '{"a":#c\n 1}\n', // a comment right after a quote or bracket: refused
    '--- a: 1\n', '--- text\n', 'a: 1\n... b\n', '---\u00a0a: 1\n', // more on a marker's line
    'a: 1\r---a: 2\r', '- |\r  x\r- y\n', // lone CR line breaks
    '--- |\n  text\n', // a document that is a block scalar
    '[: x]\n', '[b,? a]\n', // empty and explicit keys in flow
    'a: |+\n  x\n  ', // kept line breaks, no line break at the end (js-yaml 4 adds one)
  ];
  for (const text of events) assert.is(readingOf(text), 'events', JSON.stringify(text));
});

test('parseYaml reads plain texts the quick way and keeps js-yaml 5\'s errors and limits', () => {
  const quick = parseYaml('a:\n  b: [1, 2]\nc: .inf\n', 'p.yaml', 100);
  assert.equal(quick.docs.map((d) => d.value), [{ a: { b: [1, 2] }, c: null }], '.inf is not JSON: copied as JSON, as parse.ts does');
  assert.equal(quick.docs[0].positions.at(['a', 'b', 1]), { line: 2, column: 10 });
  assert.equal(parseYaml('a: 1\na: 2\n', 'd.yaml', 100).error, { line: 2, column: 1, message: 'YAML: duplicated mapping key' });
  const bomb = `a: &a [x, x, x]\nb: &b [*a, *a, *a]\nc: [*b, *b, *b, *b]\n`;
  assert.match(parseYaml(bomb, 'b.yaml', 4).error?.message ?? '', /alias/);
});

test('the corpus: every file the quick way takes reads as js-yaml 5 reads it', () => {
  if (!corpusPresent()) return console.log('  (corpus absent: skipped)');
  const walk = (d: string): string[] => readdirSync(d).flatMap((f) => { const p = join(d, f); return statSync(p).isDirectory() ? walk(p) : [p]; });
  const files = walk(CORPUS).filter((f) => /\.ya?ml$/.test(f));
  const quick = files.filter((f) => readingOf(readFileSync(f, 'utf8')) === 'quick').length;
  assert.ok(quick > files.length / 2, `only ${quick} of ${files.length} corpus files read the quick way`);
});

/** Characters of generated text: none that only parse.ts reads (`&*!%?<` and tabs), so most files go the quick way. */
const CHARS = 'abcxyz019 :#-"\'.,[]{}/\\é|>@`=~';
const text = (maxLength: number, minLength = 0, chars = CHARS + '\n') => fc.string({ unit: fc.constantFrom(...chars), minLength, maxLength });
const key = fc.oneof(
  fc.constantFrom('a', 'name', 'app.kubernetes.io/name', 'x y', 'with:colon', 'hash#tag', '-dash', 'yes', 'null', '1', '007', '~', 'é', 'say "hi"', "it's", 'a/b~c', '__proto__', 'on', '---a', '...b', '😀', 'k'.repeat(1100)),
  text(8, 1, CHARS), // a key over lines is written as an explicit key (`? `): parse.ts's
);
const scalar = fc.oneof(
  fc.constantFrom('', ' lead', 'trail ', '#c', '- d', '1.0', '0x1F', 'true', 'yes', 'Off', '~', 'a: b', '[x]', '{y}', 'a\nb', 'a\n\nb\n', 'line\n', '12:30', '0400', '1_000', '-.inf', 'é', '---', '... x', '😀', '\u2028', '\x85', '\x07'),
  text(12),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
);
const tree = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, tie('list'), tie('map')),
  list: fc.array(tie('node'), { maxLength: 4 }),
  map: fc.dictionary(key, tie('node'), { maxKeys: 5 }),
})).map;
const style = fc.record({
  indent: fc.integer({ min: 1, max: 4 }),
  flowLevel: fc.integer({ min: -1, max: 3 }),
  seqNoIndent: fc.boolean(),
  lineWidth: fc.constantFrom(-1, 10, 80),
  quoteStyle: fc.constantFrom('single' as const, 'double' as const),
  forceQuotes: fc.boolean(),
  flowBracketPadding: fc.boolean(),
});

test('generated documents, dumped in many styles, several to a file: both parses agree', () => {
  let quick = 0;
  fc.assert(fc.property(fc.array(tree, { minLength: 1, maxLength: 3 }), style, fc.boolean(), (docs, opts, crlf) => {
    let text = docs.map((d) => yaml.dump(d, opts)).join('---\n');
    if (crlf) text = text.replace(/\n/g, '\r\n');
    if (readingOf(text) === 'quick') quick++;
  }), { numRuns: 600, seed: 22 });
  assert.ok(quick > 200, `only ${quick} of 600 generated files read the quick way`); // integer-like keys, `?` keys: parse.ts
});

/** A small seeded generator of YAML-ish texts (block and flow, quotes, comments, markers, CRLF), then mutated. */
function yamlishTexts(count: number, seed: number): string[] {
  const rnd = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff; };
  const pick = <T>(a: readonly T[]) => a[Math.floor(rnd() * a.length)];
  const scalars = ['a', 'b c', 'yes', '1', '0400', '~', '', '"q"', "'s'", '"m\n  l"', "'x\n\n  y'", 'p\n  q', '=', 'x#y', 'é', '😀', '1e3', 'null', '"a:b"', ':x', '-x', '?x', '.5', '"\\u0041"', 'a\u00a0', '\u2028', 'x\x85'];
  const keys = ['a', 'b', 'k k', '"q k"', "'s'", 'x.y/z', '__proto__', 'é', 'a ', ':x', '-x', '"1"', 'on', '~'];
  const flow = (depth: number): string => {
    const r = rnd();
    if (depth > 4 || r < 0.5) return pick(scalars);
    const n = Math.floor(rnd() * 3);
    const sep = () => pick([', ', ',', ',\n  ', ' , ', ',#c\n ', ', #c\n  ']);
    if (r < 0.75) return '[' + Array.from({ length: n }, () => (rnd() < 0.1 ? pick([': ', 'k: ', '']) : '') + flow(depth + 1)).join(sep()) + pick([']', ',]', '\n]', ' ]']);
    return '{' + Array.from({ length: n }, (_, i) => pick(keys) + i + pick([': ', ':', ' : ', '']) + flow(depth + 1)).join(sep()) + pick(['}', ',}', '\n}', ' }']);
  };
  const block = (depth: number, indent: number): string => {
    const r = rnd();
    const sp = ' '.repeat(indent);
    if (depth > 3 || r < 0.25) return flow(depth);
    if (r < 0.35) return pick(['|', '>', '|-', '|+', '>-', '|2', '| # c']) + '\n' + sp + '  ' + pick(['x', `x\n${sp}  y`, `x\n\n${sp}   y`, '']) + (rnd() < 0.3 ? `\n${sp}  ` : '');
    const lines: string[] = [];
    for (let i = 0, n = 1 + Math.floor(rnd() * 3); i < n; i++) {
      if (r < 0.65) lines.push(`${sp}- ${rnd() < 0.2 ? `\n${sp}  ` : ''}${block(depth + 1, indent + 2)}${rnd() < 0.2 ? ' #c' : ''}`);
      else lines.push(`${sp}${pick(keys)}${i}${pick([':', ' :'])}${rnd() < 0.5 ? `\n${sp}${pick(['  ', '    ', ''])}` : ' '}${block(depth + 1, indent + 2)}${rnd() < 0.2 ? pick([' #c', `\n${sp}# c`]) : ''}`);
    }
    return (indent === 0 ? '' : '\n') + lines.join('\n');
  };
  const mutations = ['', ' ', '\n', '#', ':', '-', '"', "'", '[', ']', '{', '}', ',', '|', '>', '\r', '  ', '---', '...', '\n---\n', '\n...\n', 'x', '\u00a0', '\f'];
  return Array.from({ length: count }, () => {
    let text = Array.from({ length: 1 + Math.floor(rnd() * 2) }, () => block(0, 0)).join(pick(['\n---\n', '\n--- ', '\n...\n---\n', '\n---\n# c\n']));
    if (rnd() < 0.3) text = pick(['---\n', '--- ', '# c\n', '\n', '  ']) + text;
    if (rnd() < 0.6) text += '\n';
    for (let m = Math.floor(rnd() * 3); m > 0; m--) {
      const at = Math.floor(rnd() * (text.length + 1));
      text = text.slice(0, at) + pick(mutations) + text.slice(at + (rnd() < 0.3 ? 1 : 0));
    }
    return rnd() < 0.2 ? text.replace(/\n/g, '\r\n') : text;
  });
}

test('generated YAML-ish texts, valid or not: whatever the quick way takes reads as js-yaml 5 reads it', () => {
  const texts = yamlishTexts(4000, 22);
  const quick = texts.filter((t) => readingOf(t) === 'quick').length;
  assert.ok(quick > 300, `only ${quick} of ${texts.length} generated texts read the quick way`);
});

test.run();
