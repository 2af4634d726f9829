// Which written fields convergit acts on. For the kinds it runs, a real Kubernetes field outside
// schemas/implemented.json is reported (a warning; an error with --strict) and dropped, rather than silently
// ignored. Resource names in requests and limits are checked for every kind, as the API server does.
import { readFileSync } from 'node:fs';
import { closest } from './fields.ts';
import { schemaFields } from './validate.ts';
import type { Path } from './paths.ts';
import type { Violation } from './violation.ts';

const SCHEMA = JSON.parse(readFileSync(new URL('../../schemas/implemented.json', import.meta.url), 'utf8'));
const IMPLEMENTED = SCHEMA.definitions as Record<string, string[]>;
const implemented = new Map(Object.entries(IMPLEMENTED).map(([d, fields]) => [d, new Set(fields)]));
/** Fields whose values are acted on only in part (ServicePort.protocol: not SCTP), by definition then field. */
const VALUES = (SCHEMA.values ?? {}) as Record<string, Record<string, { implemented: string[]; why: string }>>;

const RESOURCE_LIST = 'io.k8s.api.core.v1.ResourceList';
const RESOURCES_DEF = ['io.k8s.api.core.v1.ResourceRequirements', 'io.k8s.api.core.v1.VolumeResourceRequirements'];
const STANDARD_RESOURCES = ['cpu', 'memory', 'ephemeral-storage', 'storage'];

/** Kubernetes accepts the standard names and fully-qualified extended resources (`example.com/gpu`). */
export const isK8sResourceName = (key: string) => STANDARD_RESOURCES.includes(key) || key.startsWith('hugepages-') || key.includes('/');

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Walks `value` (of OpenAPI definition `def`) and reports fields convergit does not act on (`run` true: the kind
 * is run) and unknown resource names (always). Fields the schema rejects are left to the schema's errors.
 */
export function implementationViolations(def: string, value: unknown, run: boolean, strict: boolean): Violation[] {
  const out: Violation[] = [];
  walk(def, value, [], run, strict, out);
  return out;
}

function walk(def: string, value: unknown, path: Path, run: boolean, strict: boolean, out: Violation[]) {
  if (!isObj(value)) return;
  const props = schemaFields()[def];
  if (!props) return;
  const known = run ? implemented.get(def) : undefined;
  for (const [field, v] of Object.entries(value)) {
    const fieldSchema = props[field];
    if (!fieldSchema) continue; // not a Kubernetes field: the schema says so
    const [ref, items, additional, isMap] = fieldSchema;
    const at = [...path, field];
    if (known && !known.has(field)) {
      out.push(notImplemented(at, `${field} is a Kubernetes field`, strict));
      continue;
    }
    const values = known && VALUES[def]?.[field];
    if (values && typeof v === 'string' && !values.implemented.includes(v)) {
      // Kept as written (dropping `protocol: SCTP` would make it TCP): a warning that says what happens instead.
      const what = `${field} "${v}" is a Kubernetes value that convergit does not implement (${values.why})`;
      out.push(strict ? { path: at, at, message: what } : { path: at, at, message: what, warning: true, keep: true });
      continue;
    }
    if (RESOURCES_DEF.includes(def) && (field === 'requests' || field === 'limits') && isObj(v)) {
      resourceNames(v, at, run, strict, out, def === RESOURCES_DEF[1] ? ['storage'] : []);
      continue;
    }
    const target = ref ?? items ?? additional;
    if (!target) continue;
    if (Array.isArray(v)) v.forEach((item, i) => walk(target, item, [...at, i], run, strict, out));
    else if (isMap && !ref && isObj(v)) {
      for (const [k, item] of Object.entries(v)) walk(target, item, [...at, k], run, strict, out);
    } else walk(target, v, at, run, strict, out);
  }
}

/** `claimed`: names acted on at this place besides ResourceList's (a claim's `storage`). */
function resourceNames(list: Obj, at: Path, run: boolean, strict: boolean, out: Violation[], claimed: string[]) {
  const acted = new Set([...(implemented.get(RESOURCE_LIST) ?? []), ...claimed]);
  for (const name of Object.keys(list)) {
    const path = [...at, name];
    if (isK8sResourceName(name)) {
      if (run && !acted.has(name)) out.push(notImplemented(path, `"${name}" is a Kubernetes resource`, strict));
      continue;
    }
    const suggestion = closest(name, STANDARD_RESOURCES);
    const hint = suggestion ? `; did you mean "${suggestion}"?` : '';
    out.push({ path, at: path, message: `unknown field "${name}"${hint}` });
  }
}

function notImplemented(path: Path, what: string, strict: boolean): Violation {
  return strict
    ? { path, at: path, message: `${what} that convergit does not implement` }
    : { path, at: path, message: `${what} that convergit does not implement; it is ignored`, warning: true };
}
