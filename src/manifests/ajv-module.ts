// ajv's compiler, required on first use: a process whose verdicts all come from the load cache, or whose validators
// all come from the validator cache (their standalone code needs only ajv's small runtime files), never compiles,
// and importing ajv cost `validate` and `plan` a tenth of their start-up (issue 14).
import { createRequire } from 'node:module';

type AjvModule = typeof import('ajv');
const require = createRequire(import.meta.url);
let loaded: AjvModule | undefined;

/** The `ajv` package (Ajv, `_`, …), loaded synchronously the first time it is asked for. */
export const ajvModule = (): AjvModule => (loaded ??= require('ajv') as AjvModule);
