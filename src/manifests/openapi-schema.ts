// Kubernetes' OpenAPI v2 definitions turned into one JSON Schema document that ajv compiles: the structure and
// types come from upstream as they are; objects are closed (a field Kubernetes does not have is reported instead
// of silently dropped, as `kubectl apply --validate=strict` does); Kubernetes' validation rules that the OpenAPI
// document does not carry (schemas/kubernetes-validation.json) are added on the fields they constrain.
import { readFileSync } from 'node:fs';
import { SWAGGER_FILE, kubernetesOpenApi } from '../model/kinds.ts';

type Schema = Record<string, any>;

export const SCHEMA_ID = 'kubernetes.json';

const RULES_FILE = new URL('../../schemas/kubernetes-validation.json', import.meta.url);
const rules = JSON.parse(readFileSync(RULES_FILE, 'utf8')).definitions as
  Record<string, { required?: string[]; properties?: Record<string, Schema> }>;

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

/** The whole document: `{ $id, definitions }`, every upstream definition converted and constrained. */
export function kubernetesSchemaDocument(): Schema {
  if (doc) return doc;
  const definitions: Record<string, Schema> = {};
  for (const [name, def] of Object.entries(kubernetesOpenApi().definitions)) {
    let s = SPECIAL[name] ?? convert(def);
    const r = rules[name];
    if (r) {
      if (r.required) s.required = [...new Set([...(s.required ?? []), ...r.required])];
      for (const [field, c] of Object.entries(r.properties ?? {})) {
        if (!s.properties?.[field]) throw new Error(`kubernetes-validation.json: ${name} has no field ${field}`);
        s = { ...s, properties: { ...s.properties, [field]: constrain(s.properties[field], c) } };
      }
    }
    definitions[name] = s;
  }
  doc = { $id: SCHEMA_ID, definitions };
  return doc;
}

/** This module's source, shipped beside build/ (whose files, bundled or not, sit two folders below the package too). */
const SOURCE_FILE = new URL('../../src/manifests/openapi-schema.ts', import.meta.url);

/**
 * What kubernetesSchemaDocument is made of, read without building it: the upstream document's and the rules' bytes
 * and the code that converts them, this module's source (a changed conversion must not be taken for the old one;
 * the same bytes whether it runs from src/, build/ or a bundle, so build/validators' shipped inputs file serves all
 * three). The validator cache names its folder from these, so a process whose validators are cached never parses
 * the 3 MB document.
 */
export function schemaDocumentInputs(): (string | Buffer)[] {
  let code: string | Buffer;
  try {
    code = readFileSync(SOURCE_FILE);
  } catch {
    code = [convert, constrain, kubernetesSchemaDocument].map(String).join('\n'); // no sources: the code as it runs
  }
  return [readFileSync(SWAGGER_FILE), readFileSync(RULES_FILE), code];
}

/**
 * Per definition, per field: the definitions it leads to (its own $ref, its items', its additionalProperties') and
 * whether it is a map (has additionalProperties): what the implemented-fields walk needs of the document, small
 * enough to keep beside the validators (validate.ts schemaFields) so that no process builds the document for it.
 */
export type FieldIndex = Record<string, Record<string, [string | null, string | null, string | null, boolean]>>;

export function fieldIndexOf(document: Schema): FieldIndex {
  const out: FieldIndex = {};
  for (const [name, def] of Object.entries(document.definitions as Record<string, Schema>)) {
    if (!def.properties) continue;
    const fields: FieldIndex[string] = (out[name] = {});
    for (const [field, f] of Object.entries(def.properties as Record<string, Schema>)) {
      fields[field] = [refOf(f) ?? null, refOf(f.items) ?? null, refOf(f.additionalProperties) ?? null, !!f.additionalProperties];
    }
  }
  return out;
}

/** The converted definition `name` (for tools that walk fields, such as the implemented-fields check). */
export const definitionSchema = (name: string): Schema | undefined => kubernetesSchemaDocument().definitions[name];

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
