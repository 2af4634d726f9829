// schemas/kubernetes-1.32.kinds.json is what model/openapi-kinds.ts derives from the OpenAPI document beside it:
// a document updated without the kinds regenerated fails here, not in a user's start.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { kindsOfOpenApi } from '../../src/model/openapi-kinds.ts';
import { OPENAPI_KINDS_FILE, SWAGGER_FILE } from '../../src/model/kinds.ts';

test('the kinds file is the OpenAPI document\'s kinds (regenerate: npx tsx scripts/update-openapi-kinds.ts)', () => {
  const derived = kindsOfOpenApi(JSON.parse(readFileSync(SWAGGER_FILE, 'utf8')));
  assert.equal(JSON.parse(readFileSync(OPENAPI_KINDS_FILE, 'utf8')), JSON.parse(JSON.stringify(derived)));
});

test('a kind served only in beta keeps its beta version; one with a GA version keeps only GA versions, newest first', () => {
  const doc = {
    definitions: {
      'a.v1.Thing': { 'x-kubernetes-group-version-kind': [{ group: 'a', version: 'v1', kind: 'Thing' }] },
      'a.v2.Thing': { 'x-kubernetes-group-version-kind': [{ group: 'a', version: 'v2', kind: 'Thing' }] },
      'a.v2beta1.Thing': { 'x-kubernetes-group-version-kind': [{ group: 'a', version: 'v2beta1', kind: 'Thing' }] },
      'b.v1beta1.New': { 'x-kubernetes-group-version-kind': [{ group: 'b', version: 'v1beta1', kind: 'New' }] },
    },
    paths: {
      '/apis/a/v1/namespaces/{namespace}/things': { get: { 'x-kubernetes-group-version-kind': { group: 'a', version: 'v1', kind: 'Thing' } } },
      '/apis/a/v2beta1/namespaces/{namespace}/things': { get: { 'x-kubernetes-group-version-kind': { group: 'a', version: 'v2beta1', kind: 'Thing' } } },
      '/apis/a/v2/namespaces/{namespace}/things/{name}': { get: { 'x-kubernetes-group-version-kind': { group: 'a', version: 'v2', kind: 'Thing' } } },
      '/apis/b/v1beta1/news': { get: { 'x-kubernetes-group-version-kind': { group: 'b', version: 'v1beta1', kind: 'New' } } },
    },
  };
  assert.equal(kindsOfOpenApi(doc), [
    { kind: 'Thing', group: 'a', versions: ['v2', 'v1'], resource: 'things', namespaced: true, definitions: { v1: 'a.v1.Thing', v2: 'a.v2.Thing' } },
    { kind: 'New', group: 'b', versions: ['v1beta1'], resource: 'news', namespaced: false, definitions: { v1beta1: 'b.v1beta1.New' } },
  ]);
});

test.run();
