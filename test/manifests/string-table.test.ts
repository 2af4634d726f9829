// The loader keeps one string per text among what it reads (string-table.ts): documents as written, their
// defaulted objects, from this thread's parse, a parse worker's or the load cache's. Counted in heap snapshots.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { StringTable } from '../../src/manifests/string-table.ts';
import { clearLoadCache, loadManifests, Preload } from '../../src/manifests/load-manifests.ts';
import type { ManifestFile } from '../../src/manifests/types.ts';
import { jsonCopy } from '../../src/model/json-copy.ts';
import { countStrings, stringCopies } from '../support/heap-strings.ts';

/** A new string with this text each time (a literal would be one string). */
const fresh = (text: string) => [...text].join('');

test('intern: the same value, strings taken from the table, an own __proto__ left as it is', () => {
  const table = new StringTable();
  const value = JSON.parse('{"a":"x","list":["x",{"b":"y"},3,null,true],"__proto__":"p","n":{"__proto__":{"c":"x"}}}');
  const before = structuredClone(value);
  assert.is(table.intern(value), value);
  assert.equal(value, before);
  assert.is(Object.getPrototypeOf(value), Object.prototype);
  assert.ok(Object.hasOwn(value, '__proto__') && Object.hasOwn(value.n, '__proto__'));
  assert.is(table.intern('just a string'), 'just a string');
  const frozen = Object.freeze({ a: 'x', inner: { b: 'y' } }), holder = { list: Object.freeze(['x']), c: 'z' };
  assert.is(table.intern(frozen), frozen, 'a frozen value is left as it is (not written into: no throw)');
  assert.equal(table.intern(holder), { list: ['x'], c: 'z' });
});

test('intern: 500 copies of a text become one', () => {
  const TEXT = 'registry.example/s15-table:1';
  const table = new StringTable();
  const plain = Array.from({ length: 500 }, () => ({ image: fresh(TEXT) }));
  const interned = Array.from({ length: 500 }, () => table.intern({ image: fresh(TEXT + 'x') }));
  const [copies, shared] = stringCopies(TEXT, TEXT + 'x');
  assert.ok(copies >= 500, `the test makes separate strings (${copies})`);
  assert.ok(shared <= 2, `${shared} copies of an interned text`);
  assert.is(plain.length + interned.length, 1000);
});

const files = (image: string, n: number): ManifestFile[] => Array.from({ length: n }, (_, k) => ({
  path: `apps/${k}.yaml`, oid: `${image}-${k}`,
  content: `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app-${k}}\nspec:\n  selector: {matchLabels: {app: a${k}}}\n  template:\n    metadata: {labels: {app: a${k}}}\n    spec: {containers: [{name: main, image: "${image}"}]}\n`,
}));

// js-yaml's strings may be slices of the file's text, which a snapshot does not name: this counts the defaulted
// objects' strings, which must be the documents' own (a structuredClone made 200 more).
test('a load parsed here: the defaulted objects share the strings of the documents as written', () => {
  clearLoadCache();
  const IMAGE = 'registry.example/s15-here:1';
  const r = loadManifests(files(IMAGE, 200), {});
  assert.is(r.objects.length, 200);
  assert.is(r.objects[7].object.spec.template.spec.containers[0].imagePullPolicy, 'IfNotPresent');
  const [copies] = stringCopies(IMAGE);
  // The test's own literal, and at most one more: 200 documents and 200 defaulted objects share one.
  assert.ok(copies <= 3, `${copies} copies of the image for 200 documents`);
  clearLoadCache();
});

test('what a load gives keeps no file text alive once the loader forgets the files (js-yaml slices them)', () => {
  clearLoadCache();
  // Each file its own values: 14 characters (the shortest a slice), 40, and over the table's 1,024.
  const pinned = (k: number): ManifestFile => ({
    path: `pin/${k}.yaml`, oid: `pin-${k}`,
    content: `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: pin-${k}}\ndata:\n  short: "s15pin-shor${String(k).padStart(3, '0')}"\n  image: "registry.example/s15pin-image:${k}"\n  long: "${'L'.repeat(1100)}${k}"\n`,
  });
  // Made and dropped in here: only what the load gave may keep the files' texts.
  const kept = ((all: ManifestFile[]) => loadManifests(all, { shared: true }).objects.map((o) => jsonCopy(o.object)))(Array.from({ length: 30 }, (_, k) => pinned(k)));
  clearLoadCache();
  assert.is(kept.length, 30);
  assert.is((kept[3].data as Record<string, string>).short.length, 14);
  assert.is(countStrings((text) => text.includes('s15pin') && text.includes('apiVersion')), 0, 'file texts kept alive');
});

test('and from parse workers: what they send back shares the strings of the load', async () => {
  clearLoadCache();
  const IMAGE = 'registry.example/s15-workers:1';
  const all = files(IMAGE, 200);
  const prev = process.env.CONVERGIT_PARSE_WORKERS;
  process.env.CONVERGIT_PARSE_WORKERS = '1';
  try {
    const preload = new Preload({}, all.length, true);
    for (const f of all) preload.add(f);
    assert.is(await preload.finish(), 200);
  } finally {
    if (prev === undefined) delete process.env.CONVERGIT_PARSE_WORKERS; else process.env.CONVERGIT_PARSE_WORKERS = prev;
  }
  const r = loadManifests(all, {});
  assert.is(r.objects.length, 200);
  const [copies] = stringCopies(IMAGE);
  assert.ok(copies <= 3, `${copies} copies of the image for 200 documents from workers`);
  clearLoadCache();
});

test.run();
