// Custom resources validated against their CustomResourceDefinition's structural schema, as the
// apiextensions-apiserver does: unknown fields are reported (what `kubectl --validate=strict` asks of the server)
// unless `x-kubernetes-preserve-unknown-fields`; `default`s are applied; int-or-string, embedded resources, enums
// and formats; `x-kubernetes-validations` CEL rules are evaluated with @marcbachmann/cel-js.
import { createHash } from 'node:crypto';
import type { Ajv, ValidateFunction } from 'ajv';
import { ajvModule } from './ajv-module.ts';
import { parse as parseCel } from '@marcbachmann/cel-js';
import type { KubeObject } from '../model/object.ts';
import { crdSchema } from '../model/custom-kinds.ts';
import { fromPointer } from './paths.ts';
import type { Violation } from './violation.ts';
import { validateObject } from './validate.ts';

type Schema = Record<string, any>;

interface CelRule { rule: string; message?: string; messageExpression?: string; fieldPath?: string; reason?: string }

/** Rules already reported as not evaluated, so each is reported once per load. */
let unevaluated = new Set<string>();
/** Starts a new load: rules not evaluated are reported again, once. */
export const resetCelReports = () => { unevaluated = new Set(); };

/** CEL programs, compiled once per rule text. */
const programs = new Map<string, ((ctx: object) => unknown) | Error>();
function program(rule: string) {
  let p = programs.get(rule);
  if (!p) {
    try { p = parseCel(rule) as (ctx: object) => unknown; } catch (e) { p = e as Error; }
    programs.set(rule, p);
  }
  return p;
}

/** CEL sees integers of the schema as ints; JSON numbers arrive as doubles, so whole numbers become BigInts. */
function toCel(v: unknown): unknown {
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  if (Array.isArray(v)) return v.map(toCel);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toCel(x)]));
  return v;
}

/** Evaluates the `x-kubernetes-validations` rules of `s` and of the schemas below it against `data`. */
function celViolations(s: Schema, data: unknown, path: (string | number)[]): Violation[] {
  if (!s || typeof s !== 'object' || data === undefined) return [];
  const out: Violation[] = [];
  for (const r of (s['x-kubernetes-validations'] ?? []) as CelRule[]) {
    if (/\boldSelf\b/.test(r.rule)) continue; // a transition rule needs the old object; a create has none
    const p = program(r.rule);
    let ok: unknown;
    try { ok = p instanceof Error ? p : p({ self: toCel(data) }); } catch (e) { ok = e as Error; }
    if (ok === true) continue;
    const at = r.fieldPath ? [...path, ...r.fieldPath.replace(/^\./, '').split('.')] : path;
    if (ok instanceof Error) {
      // Kubernetes' CEL libraries (isIP, url, quantity …) go beyond the CEL spec: such a rule is reported, not enforced.
      if (!unevaluated.has(r.rule)) {
        unevaluated.add(r.rule);
        out.push({ path: at, at: path, message: `x-kubernetes-validations rule not evaluated by convergit (${ok.message.split('\n')[0]}): ${r.rule.length > 120 ? `${r.rule.slice(0, 117)}...` : r.rule}`, warning: true, keep: true });
      }
      continue;
    }
    out.push({ path: at, at: path, message: r.message ?? `failed rule: ${r.rule}` });
  }
  if (Array.isArray(data) && s.items) data.forEach((d, i) => out.push(...celViolations(s.items, d, [...path, i])));
  else if (data && typeof data === 'object') {
    for (const [k, d] of Object.entries(data)) {
      const sub = s.properties?.[k] ?? (typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined);
      if (sub) out.push(...celViolations(sub, d, [...path, k]));
    }
  }
  return out;
}

/** One structural schema node → ajv schema. `top` is the resource itself (apiVersion, kind, metadata are the API's). */
function convert(s: Schema, top = false, valueOnly = false): Schema {
  if (!s || typeof s !== 'object') return {};
  const out: Schema = {};
  if (s['x-kubernetes-int-or-string']) out.k8s = 'int-or-string';
  else if (s.type) out.type = s.type;
  if (s.enum) out.enum = s.enum;
  for (const k of ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'minLength', 'maxLength', 'minItems', 'maxItems', 'minProperties', 'maxProperties', 'pattern', 'multipleOf', 'uniqueItems']) {
    if (s[k] !== undefined) out[k] = s[k];
  }
  if (typeof s.format === 'string' && KNOWN_FORMATS.has(s.format)) out.format = s.format;
  if (s.default !== undefined && !valueOnly) out.default = s.default;
  if (s.items) out.items = convert(s.items, false, valueOnly);
  if (s.properties) {
    out.properties = {};
    for (const [k, v] of Object.entries(s.properties)) out.properties[k] = convert(v as Schema, false, valueOnly);
  }
  if (s.required) out.required = s.required;
  for (const c of ['allOf', 'anyOf', 'oneOf']) if (Array.isArray(s[c])) out[c] = s[c].map((x: Schema) => convertValueOnly(x));
  if (s.not) out.not = convertValueOnly(s.not);
  if (top || s['x-kubernetes-embedded-resource']) {
    // apiVersion, kind and metadata are the API's own: metadata is checked against ObjectMeta, never pruned.
    out.properties = { ...(out.properties ?? {}), apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object' } };
  }
  if (s.additionalProperties !== undefined && s.additionalProperties !== false) {
    out.additionalProperties = typeof s.additionalProperties === 'object' ? convert(s.additionalProperties, false, valueOnly) : true;
  } else if (!valueOnly && !s['x-kubernetes-preserve-unknown-fields'] && (s.type === 'object' || s.properties || top)) {
    out.additionalProperties = false; // pruned by the API server: said, rather than silently dropped
  }
  return out;
}

/** allOf/anyOf/oneOf/not branches only constrain values; they never declare fields or defaults (structural schemas). */
const convertValueOnly = (s: Schema): Schema => convert(s, false, true);

const KNOWN_FORMATS = new Set(['int32', 'int64', 'float', 'double', 'byte', 'date-time', 'date', 'uri', 'hostname', 'ipv4', 'ipv6', 'email', 'uuid', 'duration', 'password']);
const FORMAT_TESTS: Record<string, (s: string) => boolean> = {
  byte: (s) => /^[A-Za-z0-9+/\r\n]*={0,2}$/.test(s),
  'date-time': (s) => !Number.isNaN(Date.parse(s)),
  date: (s) => /^\d{4}-\d{2}-\d{2}$/.test(s),
  uuid: (s) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s),
  ipv4: (s) => /^(\d{1,3}\.){3}\d{1,3}$/.test(s),
  ipv6: (s) => s.includes(':'),
  hostname: (s) => /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/i.test(s),
  email: (s) => /^[^@\s]+@[^@\s]+$/.test(s),
  uri: (s) => /^[a-z][a-z0-9+.-]*:/i.test(s),
  duration: (s) => /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(s),
};

let ajv: Ajv | undefined;
/** By content: each commit parses its CRDs anew, and an unchanged schema must not be compiled again. */
const compiled = new Map<string, ValidateFunction>();

function validatorFor(schema: Schema): ValidateFunction {
  const key = createHash('sha1').update(JSON.stringify(schema)).digest('hex');
  let v = compiled.get(key);
  if (v) return v;
  if (!ajv) {
    ajv = new (ajvModule().Ajv)({ allErrors: true, verbose: true, strict: false, validateSchema: false, useDefaults: true, logger: false });
    for (const f of KNOWN_FORMATS) ajv.addFormat(f, FORMAT_TESTS[f] ? { type: 'string', validate: FORMAT_TESTS[f] } : true);
    ajv.addKeyword({
      keyword: 'k8s', schemaType: 'string', errors: true,
      validate: function intOrString(this: unknown, _s: string, data: unknown) {
        const ok = Number.isInteger(data) || typeof data === 'string';
        if (!ok) (intOrString as any).errors = [{ keyword: 'k8s', message: 'must be an integer or a string', params: {} }];
        return ok;
      },
    });
  }
  v = ajv.compile(convert(schema, true));
  compiled.set(key, v);
  return v;
}

/**
 * Validates (and defaults, in place) custom resource `obj` of `version` against `crd`. ObjectMeta is checked
 * against Kubernetes' own schema; the rest against the CRD's.
 */
export function validateCustomResource(crd: KubeObject, version: string, obj: Record<string, any>): Violation[] {
  const schema = crdSchema(crd, version);
  const out: Violation[] = [];
  if (obj.metadata !== undefined) {
    for (const v of validateObject('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', obj.metadata)) {
      out.push({ ...v, path: ['metadata', ...v.path], at: ['metadata', ...v.at] });
    }
  }
  if (!schema) return out; // a CRD without a schema (only possible for apiextensions v1beta1) accepts anything
  const v = validatorFor(schema);
  // The API server defaults before it validates: a first pass fills the defaults that oneOf/anyOf branches read.
  v(obj);
  // CEL rules run after defaulting, on a structurally valid object, as the API server orders it.
  if (v(obj)) return [...out, ...celViolations(schema, obj, [])];
  for (const e of v.errors ?? []) {
    if (e.instancePath === '/metadata' || e.instancePath.startsWith('/metadata/')) continue;
    const at = fromPointer(e.instancePath, obj);
    if (e.keyword === 'required') { out.push({ path: [...at, e.params.missingProperty], at, message: 'is required', missing: true }); continue; }
    if (e.keyword === 'additionalProperties') {
      const name: string = e.params.additionalProperty;
      const implemented = Object.keys((e.parentSchema as Schema)?.properties ?? {});
      out.push({ path: [...at, name], at: [...at, name], message: `unknown field "${name}"`, unknown: { name, implemented } });
      continue;
    }
    if (['anyOf', 'oneOf', 'allOf', 'if'].includes(e.keyword) && out.some((x) => x.path.length > at.length)) continue;
    const message = e.keyword === 'enum' ? `must be one of ${(e.params.allowedValues as unknown[]).join(', ')}`
      : e.keyword === 'type' ? `must be ${e.params.type === 'object' ? 'a mapping' : e.params.type === 'array' ? 'a list' : `a${/^[aeiou]/.test(String(e.params.type)) ? 'n' : ''} ${e.params.type}`}`
        : e.message ?? 'is invalid';
    out.push({ path: at, at, message });
  }
  return out;
}
