// JSON Schema validation with ajv against schemas/<kind>.json, and ajv's errors turned into short, human
// violations that name the field. Unknown properties are passed on for fields.ts to classify.
import { isIP } from 'node:net';
import { createRequire } from 'node:module';
import type { Ajv, ErrorObject, KeywordCxt, ValidateFunction } from 'ajv';
import { ajvModule } from './ajv-module.ts';
import { NAME_SYNTAXES } from '../model/names.ts';
import { isQuantity, parseQuantity } from '../model/quantity.ts';
import { fromPointer } from './paths.ts';
import type { Violation } from './violation.ts';
import { SCHEMA_ID, kubernetesSchemaDocument } from './openapi-schema.ts';
import { ValidatorCache, shippedValidatorRoot, validatorCacheRoot } from './validator-cache.ts';

/** ajv's standalone code generator, required with the compiler: only when a validator is not cached. */
const standaloneCode = (a: Ajv, v: ValidateFunction) => (createRequire(import.meta.url)('ajv/dist/standalone').default as (ajv: Ajv, v: ValidateFunction) => string)(a, v);

const FORMATS: Record<string, { test: (s: string) => boolean; message: string }> = {
  ...NAME_SYNTAXES,
  // Go's base64 decoder skips line breaks, so block scalars may wrap.
  base64: { test: (s) => /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s.replace(/[\r\n]/g, '')), message: 'must be base64-encoded' },
  'cluster-ip': { test: (s) => s === 'None' || s === '' || isIP(s) !== 0, message: 'must be an IP address or "None"' },
};

/** Values that take more than one type (int-or-string), checked by the custom `k8s` keyword. */
const K8S: Record<string, { test: (v: unknown) => boolean; message: string }> = {
  quantity: { test: (v) => isQuantity(v) && parseQuantity(v) >= 0, message: 'must be a quantity such as 250m or 128Mi' },
  'port-or-name': {
    test: (v) => (Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 65535) || (typeof v === 'string' && NAME_SYNTAXES['port-name'].test(v)),
    message: 'must be a port number (1-65535) or a port name',
  },
  'int-or-string': {
    test: (v) => Number.isInteger(v) || typeof v === 'string',
    message: 'must be an integer or a string',
  },
  'int-or-percent': {
    test: (v) => (Number.isInteger(v) && (v as number) >= 0) || (typeof v === 'string' && /^\d+%$/.test(v)),
    message: 'must be a non-negative integer or a percentage such as "25%"',
  },
};

/** What compiled validators call, by name, so that their standalone code (validator-cache.ts) can be cached. */
export const VALIDATOR_HELPERS = {
  formats: Object.fromEntries(Object.entries(FORMATS).map(([name, f]) => [name, { type: 'string' as const, validate: f.test }])),
  k8s: Object.fromEntries(Object.entries(K8S).map(([name, k]) => [name, k.test])),
};

let ajv: Ajv | undefined;
let cache: ValidatorCache | undefined;
const compiled = new Map<string, ValidateFunction>();

function newAjv(): Ajv {
  const { Ajv, _ } = ajvModule();
  // Not ajv's strict mode: upstream definitions use OpenAPI's own vocabulary, which we convert, not police.
  // code.source keeps the generated code for the cache; refs are not inlined, so each definition is one
  // function that every kind using it shares (it halves the compile time of a Deployment).
  const a = new Ajv({ allErrors: true, verbose: true, strict: false, validateSchema: false, inlineRefs: false, code: { source: true, formats: _`helpers.formats` } });
  for (const [name, f] of Object.entries(VALIDATOR_HELPERS.formats)) a.addFormat(name, f);
  a.addKeyword({
    keyword: 'k8s',
    schemaType: 'string',
    code(cxt: KeywordCxt) {
      const test = cxt.gen.scopeValue('keyword', { key: cxt.schema, ref: VALIDATOR_HELPERS.k8s[cxt.schema], code: _`helpers.k8s[${cxt.schema}]` });
      cxt.fail(_`!${test}(${cxt.data})`);
    },
  });
  a.addSchema(kubernetesSchemaDocument());
  return a;
}

/** The validator of OpenAPI definition `definition` (e.g. io.k8s.api.apps.v1.Deployment): compiled once, cached on disk. */
function validatorFor(definition: string): ValidateFunction {
  let v = compiled.get(definition);
  if (v) return v;
  cache ??= new ValidatorCache(validatorCacheRoot(), kubernetesSchemaDocument, VALIDATOR_HELPERS, shippedValidatorRoot());
  v = cache.get(definition);
  if (!v) {
    const c = compileValidator(definition);
    cache.put(definition, c.source);
    v = c.validate;
  }
  compiled.set(definition, v);
  return v;
}

/** Compiles the validator of `definition` with ajv, and its standalone code (what the cache keeps). */
export function compileValidator(definition: string): { validate: ValidateFunction; source: string } {
  ajv ??= newAjv();
  const validate = ajv.compile({ $ref: `${SCHEMA_ID}#/definitions/${definition}` });
  return { validate, source: standaloneCode(ajv, validate) };
}

const A: Record<string, string> = { string: 'a string', integer: 'an integer', number: 'a number', boolean: 'true or false', object: 'a mapping', array: 'a list', null: 'null' };

function typeMessage(expected: string, data: unknown): string {
  if (expected === 'string' && typeof data === 'number') return `must be a string (quote it: "${data}")`;
  // yes/no/on/off/y/n are booleans too in the YAML 1.1 Kubernetes reads: the value written may not be "true".
  if (expected === 'string' && typeof data === 'boolean') return `must be a string (unquoted, YAML reads it as the boolean ${data}: quote it)`;
  if ((expected === 'integer' || expected === 'number') && typeof data === 'string' && data.trim() !== '' && !isNaN(Number(data))) {
    return `must be ${A[expected]}, not a quoted string`;
  }
  if (expected === 'integer' && typeof data === 'number') return 'must be a whole number';
  return `must be ${A[expected] ?? expected}`;
}

function messageOf(e: ErrorObject): string {
  const ps = e.parentSchema as Record<string, any> | undefined;
  switch (e.keyword) {
    case 'type': return typeMessage(String(e.params.type), e.data);
    case 'enum': return `must be one of ${(e.params.allowedValues as unknown[]).join(', ')}`;
    case 'const': return `must be ${JSON.stringify(e.params.allowedValue)}`;
    case 'minimum':
    case 'maximum':
      if (ps && ps.minimum !== undefined && ps.maximum !== undefined) return `must be between ${ps.minimum} and ${ps.maximum}`;
      return e.keyword === 'minimum' ? `must be at least ${e.params.limit}` : `must be at most ${e.params.limit}`;
    case 'minItems': return e.params.limit === 1 ? 'must not be empty' : `must have at least ${e.params.limit} items`;
    case 'minLength': return e.params.limit === 1 ? 'must not be empty' : `must be at least ${e.params.limit} characters`;
    case 'format': return FORMATS[e.params.format as string]?.message ?? `must be a ${e.params.format}`;
    case 'k8s': return K8S[e.schema as string]?.message ?? 'is invalid';
    default: return e.message ?? 'is invalid';
  }
}

function toViolation(e: ErrorObject, obj: unknown): Violation {
  const at = fromPointer(e.instancePath, obj);
  if (e.keyword === 'required') return { path: [...at, e.params.missingProperty], at, message: 'is required', missing: true };
  if (e.keyword === 'additionalProperties') {
    const name: string = e.params.additionalProperty;
    const implemented = Object.keys((e.parentSchema as { properties?: object })?.properties ?? {});
    return { path: [...at, name], at: [...at, name], message: `unknown field "${name}"`, unknown: { name, implemented } };
  }
  const key = (e as { propertyName?: string }).propertyName; // a map key failed `propertyNames`
  if (key !== undefined) return { path: [...at, key], at: [...at, key], message: `key ${messageOf(e)}` };
  return { path: at, at, message: messageOf(e) };
}

/** Validates one object against OpenAPI definition `definition` (its kind's, in the version it is written in). */
export function validateObject(definition: string, obj: unknown): Violation[] {
  const v = validatorFor(definition);
  if (v(obj)) return [];
  const seen = new Set<string>();
  return (v.errors ?? [])
    .filter((e) => e.keyword !== 'propertyNames') // its inner error (with propertyName) says why
    .map((e) => toViolation(e, obj))
    .filter((x) => {
      const id = `${JSON.stringify(x.path)} ${x.message}`;
      return !seen.has(id) && !!seen.add(id);
    });
}
