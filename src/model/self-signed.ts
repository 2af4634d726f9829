// selfsigned's `generate`, loaded on first use (the X.509 library costs more than a serve's start). Required, not
// imported: in the esbuild bundle (scripts/prepare.mjs) a dynamic import() of this CommonJS package becomes a chunk
// with only a default export, and `generate` was undefined there ("generate is not a function").
import { createRequire } from 'node:module';

type SelfSigned = typeof import('selfsigned');
const require = createRequire(import.meta.url);

export const selfSigned = (): SelfSigned => require('selfsigned') as SelfSigned;
