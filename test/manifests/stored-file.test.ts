// The load cache's form of a file (src/manifests/stored-file.ts): a file stored and restored answers every field
// position as the parsed one did, from compact positions (positions.ts) whose field lists documents of one shape
// share; what is not what storeFile wrote is no hit, and bad positions are no positions, never a throw.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseYaml } from '../../src/manifests/parse.ts';
import { restoreFile, storeFile } from '../../src/manifests/stored-file.ts';
import { DocPositions } from '../../src/manifests/positions.ts';
import { stringCopies } from '../support/heap-strings.ts';

const TEXT = `apiVersion: v1
kind: ConfigMap
metadata:
  name: one
  labels: {app: web}
data:
  a: "1"
  list:
    - x
    - {y: 2}
---
apiVersion: v1
kind: Service
metadata:
  name: two
spec:
  ports:
    - port: 80
`;
const PATHS = [[], ['kind'], ['metadata', 'labels', 'app'], ['data', 'list', 1, 'y'], ['data', 'list', 1, 'missing'], ['spec', 'ports', 0, 'port'], ['nowhere', 'deep']];

const roundTrip = (text: string, path: string) => {
  const parsed = parseYaml(text, path, 100);
  const json = JSON.stringify(storeFile({ docs: parsed.docs.map((d) => ({ file: path, ...d })), chars: text.length, bytes: text.length }, () => undefined));
  return { parsed, restored: restoreFile(JSON.parse(json), path)! };
};

test('restored positions answer what the parsed ones did, for every path (missing ones at their nearest ancestor)', () => {
  const fresh = parseYaml(TEXT, 'f.yaml', 100);
  const expected = fresh.docs.map((d) => PATHS.map((p) => d.positions.at(p)));
  const { restored } = roundTrip(TEXT, 'f.yaml');
  assert.equal(restored.docs.map((d) => PATHS.map((p) => d.positions.at(p))), expected);
  assert.equal(restored.docs[1].positions.at(['spec', 'ports', 0, 'port']), { line: 18, column: 7 });
  assert.equal(restored.docs[0].positions.at(['data', 'list', 1, 'missing']), { line: 10, column: 7 });
  // A List item's positions taken from compact ones, as from parsed ones.
  const item = restored.docs[0].positions.within(['data', 'list', 1]);
  assert.equal(item.at([]), { line: 10, column: 7 });
  assert.equal(item.at(['y']), { line: 10, column: 8 });
});

test('documents of one shape share one field list, whichever file they were restored from', () => {
  const files = Array.from({ length: 300 }, (_, i) => roundTrip(`apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-${i}\ndata:\n  v: "${i}"\n`, `cm-${i}.yaml`).restored);
  const fields = files[0].docs[0].positions.compacted().fields;
  assert.ok(fields.includes('/metadata/name'));
  const [copies] = stringCopies(fields);
  assert.is(copies, 1, `${copies} copies of the field list of 300 documents`);
  assert.equal(files[299].docs[0].positions.at(['data', 'v']), { line: 6, column: 3 });
});

test('what storeFile did not write is no hit; bad positions are none (the document start), never a throw', () => {
  const stored = JSON.parse(JSON.stringify(storeFile({ docs: parseYaml(TEXT, 'f.yaml', 100).docs.map((d) => ({ file: 'f.yaml', ...d })), chars: 1, bytes: 1 }, () => undefined)));
  const without = structuredClone(stored);
  delete without.docs[0].where;
  assert.is(restoreFile(without, 'f.yaml'), undefined);
  const old = structuredClone(stored);
  old.docs[0].offsets = '[["",0]]';
  delete old.docs[0].fields;
  assert.is(restoreFile(old, 'f.yaml'), undefined, 'the older format (offsets and line starts) is not read');
  const start = { line: 3, column: 1 };
  for (const bad of [{ fields: 'not json', where: '1.1' }, { fields: '["","/a"]', where: '1.1' }, { fields: '["","/a"]', where: '1.1,x.2' }, { fields: '{"a":1}', where: '' }, { fields: '["",3]', where: '1.1,2.2' }, { fields: '["","/a"]', where: '1.1,0.2' }]) {
    assert.equal(DocPositions.ofCompact(bad, start).at(['a']), start, JSON.stringify(bad));
  }
  // One bad item spoils all of them, the fields asked for included, whether one is asked for or the item's positions.
  for (const bad of [{ fields: '["","/a","/a/b"]', where: '1.1,x.2,3.3' }, { fields: '["","/a","/a/b"]', where: '1.1,2.2,0.3' }, { fields: '["","/a","/a/b"]', where: 7 as unknown as string }]) {
    const positions = DocPositions.ofCompact(bad, start);
    assert.equal(positions.at(['a', 'b']), start, JSON.stringify(bad));
    assert.equal(positions.within(['a']).at(['b']), start, JSON.stringify(bad));
  }
  assert.equal(DocPositions.ofCompact({ fields: '["","/a","/a"]', where: '1.1,2.2,3.3' }, start).at(['a']), { line: 3, column: 3 }, 'a pointer listed twice: the last');
});

test.run();
