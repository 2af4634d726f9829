import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { persistedJson, storedJson } from '../../src/model/stored-json.ts';
import type { KubeObject } from '../../src/model/object.ts';

// Stored objects are never changed in place; these tests change one only to see which text was kept for it.
const obj = (kind: string): KubeObject => ({ apiVersion: 'v1', kind, metadata: { name: 'a', resourceVersion: '1' } });

test('the API keeps the text it made: the next GET, LIST or watch event sends the same one', () => {
  const o = obj('ConfigMap');
  const first = storedJson(o);
  o.metadata.name = 'changed';
  assert.is(storedJson(o), first);
  assert.is(persistedJson(o), first); // the journal writes the text the API already made
});

test("the journal keeps no text of a ConfigMap (written once, seldom listed whole: memory for nothing)", () => {
  const o = obj('ConfigMap');
  assert.is(persistedJson(o), JSON.stringify(o));
  o.metadata.name = 'changed';
  assert.match(storedJson(o), /"changed"/);
});

test("the journal keeps a Pod's text for the API (big, hot LISTs: a concatenation of kept texts)", () => {
  const o = obj('Pod');
  const written = persistedJson(o);
  o.metadata.name = 'changed';
  assert.is(storedJson(o), written);
});

test.run();
