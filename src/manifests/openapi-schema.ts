// Kubernetes' OpenAPI v2 definitions turned into one JSON Schema document that ajv compiles: the structure and
// types come from upstream as they are; objects are closed (a field Kubernetes does not have is reported instead
// of silently dropped, as `kubectl apply --validate=strict` does); Kubernetes' validation rules that the OpenAPI
// document does not carry (schemas/kubernetes-validation.json) are added on the fields they constrain.
import { readFileSync } from 'node:fs';
import { kubernetesOpenApi } from '../model/kinds.ts';

type Schema = Record<string, any>;

export const SCHEMA_ID = 'kubernetes.json';

const rules = JSON.parse(readFileSync(new URL('../../schemas/kubernetes-validation.json', import.meta.url), 'utf8')).definitions as
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
