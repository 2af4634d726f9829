// Kubernetes' OpenAPI v2 definitions turned into one JSON Schema document that ajv compiles: the structure and
// types come from upstream as they are; objects are closed (a field Kubernetes does not have is reported instead
// of silently dropped, as `kubectl apply --validate=strict` does); Kubernetes' validation rules that the OpenAPI
// document does not carry (schemas/kubernetes-validation.json) are added on the fields they constrain.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SWAGGER_FILE, kubernetesOpenApi } from '../model/kinds.ts';

type Schema = Record<string, any>;

export const SCHEMA_ID = 'kubernetes.json';

/**
 * Names what convert, constrain and SPECIAL below make of the two schema files: bump it with any change to them.
 * test/manifests/schema-key.test.ts records the converted document's hash for each value, and fails when the
 * document changes under the same one (validators cached under the old key would be used).
 */
export const CONVERSION = 'conversion-1';

const RULES_FILE = new URL('../../schemas/kubernetes-validation.json', import.meta.url);
const rulesText = readFileSync(RULES_FILE, 'utf8');
const rules = JSON.parse(rulesText).definitions as Record<string, { required?: string[]; properties?: Record<string, Schema> }>;

/** Definitions whose wire form differs from their Go struct: replaced by what YAML holds. */
const SPECIAL: Record<string, Schema> = {
  'io.k8s.apimachinery.pkg.api.resource.Quantity': { k8s: 'quantity' },
  'io.k8s.apimachinery.pkg.util.intstr.IntOrString': { k8s: 'int-or-string' },
  'io.k8s.apimachinery.pkg.apis.meta.v1.Time': { type: 'string' },
  'io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime': { type: 'string' },
  'io.k8s.apimachinery.pkg.runtime.RawExtension': {},
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON': {},
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrArray': {},
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrBool': {},
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrStringArray': {},
  // A free-form map in the API (fieldsV1 of managed fields).
  'io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1': { type: 'object' },
};

/** Constraints that replace a field's type instead of adding to it (a stricter int-or-string). */
const REPLACING = new Set(['k8s']);

function convert(s: Schema): Schema {
  const out: Schema = {};
  if (s.$ref) return { $ref: `#/definitions/${s.$ref.slice('#/definitions/'.length)}` };
  if (s.type) out.type = s.type;
  if (s.format === 'byte') out.format = 'base64';
  else if (s.format === 'int-or-string') out.k8s = 'int-or-string';
  if (s.items) out.items = convert(s.items);
  if (s.properties) {
    out.properties = {};
    for (const [k, v] of Object.entries(s.properties)) out.properties[k] = convert(v as Schema);
  }
  if (s.additionalProperties !== undefined) {
    out.additionalProperties = typeof s.additionalProperties === 'object' ? convert(s.additionalProperties) : s.additionalProperties;
  } else if (s.properties) out.additionalProperties = false;
  if (s.required?.length) out.required = [...s.required];
  if (s.enum) out.enum = s.enum;
  return out;
}

/** Adds rule `c` (enum, range, format …) to field schema `f`, which may be a $ref. */
function constrain(f: Schema, c: Schema): Schema {
  const replacing = Object.keys(c).some((k) => REPLACING.has(k));
  if (replacing) return { ...c };
  const { items, additionalProperties, ...own } = c;
  let out: Schema = f.$ref ? (Object.keys(own).length ? { allOf: [f, own] } : { ...f }) : { ...f, ...own };
  if (items) out = { ...out, items: constrain(out.items ?? {}, items) };
  if (additionalProperties) out = { ...out, additionalProperties: constrain(typeof out.additionalProperties === 'object' ? out.additionalProperties : {}, additionalProperties) };
  return out;
}

let doc: Schema | undefined;
const converted = new Map<string, Schema | undefined>();

/** Upstream definition `name` converted and constrained (once); undefined when upstream has none. */
function convertedDefinition(name: string): Schema | undefined {
  if (converted.has(name)) return converted.get(name);
  const def = kubernetesOpenApi().definitions[name];
  let s: Schema | undefined;
  if (def) {
    s = SPECIAL[name] ?? convert(def);
    const r = rules[name];
    if (r) {
      if (r.required) s.required = [...new Set([...(s.required ?? []), ...r.required])];
      for (const [field, c] of Object.entries(r.properties ?? {})) {
        if (!s.properties?.[field]) throw new Error(`kubernetes-validation.json: ${name} has no field ${field}`);
        s = { ...s, properties: { ...s.properties, [field]: constrain(s.properties[field], c) } };
      }
    }
  }
  converted.set(name, s);
  return s;
}

/** The whole document: `{ $id, definitions }`, every upstream definition converted and constrained. */
export function kubernetesSchemaDocument(): Schema {
  if (doc) return doc;
  const definitions: Record<string, Schema> = {};
  for (const name of Object.keys(kubernetesOpenApi().definitions)) definitions[name] = convertedDefinition(name)!;
  doc = { $id: SCHEMA_ID, definitions };
  return doc;
}

let key: string | undefined;
/**
 * What the document is made of, hashed: the two schema files and CONVERSION (ValidatorCache's key). Cheap: the
 * document itself is converted only to compile a validator, so a process whose validators are all cached never
 * converts it (a whole conversion and hash of it cost each process and each parse worker ~0.2 s of CPU; issue 14).
 */
export function schemaDocumentKey(): string {
  return (key ??= createHash('sha256').update(`${CONVERSION}\0${SCHEMA_ID}\0`).update(readFileSync(SWAGGER_FILE)).update('\0').update(rulesText).digest('hex'));
}

/** The converted definition `name` (for tools that walk fields, such as the implemented-fields check): only that one converted. */
export const definitionSchema = (name: string): Schema | undefined => convertedDefinition(name);

/** The definition a field schema points to: `#/definitions/X` (directly or inside allOf), else undefined. */
export function refOf(s: Schema | undefined): string | undefined {
  if (!s) return undefined;
  if (s.$ref) return s.$ref.slice('#/definitions/'.length);
  for (const part of s.allOf ?? []) {
    const r = refOf(part);
    if (r) return r;
  }
  return undefined;
}
