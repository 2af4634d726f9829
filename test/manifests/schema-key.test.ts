// Validators are cached under schemaDocumentKey (the schema files and CONVERSION), not under a hash of the
// converted document (which would cost every process the conversion): the converted document must then change
// only with CONVERSION. Recorded here per CONVERSION value; a change of convert, constrain or SPECIAL in
// src/manifests/openapi-schema.ts fails this test until CONVERSION is bumped and its document's hash added.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { CONVERSION, kubernetesSchemaDocument, schemaDocumentKey } from '../../src/manifests/openapi-schema.ts';

/** sha256 of JSON.stringify(kubernetesSchemaDocument()) for each CONVERSION, with the schema files of the key below. */
const RECORDED: Record<string, { document: string; key: string }> = {
  'conversion-1': { document: '649ec62a6790794b00bc14a53aa162f77c344e2b1dcd59bb20c992fc35af6bb2', key: '7d054c62200586c44579eb05cbd2c0e60f5e91f944cee5bea7fc4b81b6e5c1cf' },
};

test('the converted document is the one recorded for its CONVERSION (bump CONVERSION when the conversion changes)', () => {
  const recorded = RECORDED[CONVERSION];
  assert.ok(recorded, `no document recorded for ${CONVERSION}: add its hash to RECORDED`);
  const document = createHash('sha256').update(JSON.stringify(kubernetesSchemaDocument())).digest('hex');
  // Another key: the schema files changed (a new Kubernetes version), and with them the validators' folder anyway.
  if (schemaDocumentKey() !== recorded.key) return;
  assert.is(document, recorded.document, `the converted document changed under ${CONVERSION}: bump CONVERSION in src/manifests/openapi-schema.ts and record the new hashes`);
});

test.run();
