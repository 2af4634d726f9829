#!/usr/bin/env node
// Run by prepare.mjs after compiling src/ to build/: compiles the validator of every built-in kind that may be
// committed into build/validators (validator-cache.ts's shipped root, same hash folders as the user's cache), so a
// fresh checkout's first `validate` or `plan` loads them instead of compiling the Kubernetes schemas (seconds of CPU:
// Deployment's PodSpec alone ~0.3 s; issue 14). Whatever fails here only leaves them to be compiled on first use.
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../build/validators', import.meta.url));
rmSync(root, { recursive: true, force: true }); // only this build's schema hash: no folder of an older one
process.env.CONVERGIT_VALIDATOR_CACHE = root;
const { KINDS } = await import('../build/model/kinds.js');
const { validateObject, schemaFields } = await import('../build/manifests/validate.js');
// ObjectMeta: what a custom resource's metadata is checked against (crd-schema.ts).
const definitions = new Set(['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', ...KINDS.filter((k) => k.fromGit && !k.custom).flatMap((k) => Object.values(k.definitions))]);
for (const d of definitions) validateObject(d, {});
schemaFields(); // the field index the implemented-fields check walks (fields.json), so it never builds the document either
console.log(`convergit: ${definitions.size} validators compiled into build/validators`);
