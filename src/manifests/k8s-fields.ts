// The full Kubernetes field tree, derived from @kubernetes/client-node's generated models rather than typed by
// hand: each model class lists its fields (`baseName` is the YAML name) and their types (`V1Container`,
// `Array<V1EnvVar>`, `{ [key: string]: string; }`, `string` …). Only consulted when a field is not implemented,
// so models are loaded lazily, one small file per type, and cached.
import { createRequire } from 'node:module';

interface Attribute { baseName: string; type: string }
type ModelClass = { getAttributeTypeMap(): Attribute[] };

/** What sits at a path: an object with named fields, a free-form map (any key), or a leaf. */
export type FieldNode = { fields: Map<string, string> } | { map: string } | { leaf: string };

const require = createRequire(import.meta.url);
const MODELS = '@kubernetes/client-node/dist/gen/models/';
const cache = new Map<string, Map<string, string> | null>();
let loads = 0;

/** How many model files have been loaded (a clean manifest load should need none). */
export const modelLoads = () => loads;

/** The fields of model class `type` (baseName → type), or null for primitives and unknown names. */
function fieldsOf(type: string): Map<string, string> | null {
  let fields = cache.get(type);
  if (fields !== undefined) return fields;
  fields = null;
  if (/^[A-Z][A-Za-z0-9]*$/.test(type) && type !== 'IntOrString' && type !== 'Date') {
    try {
      // The package's top-level entry pulls in undici (broken on Node 20); the generated models load on their own.
      const cls = (require(`${MODELS}${type}.js`) as Record<string, ModelClass>)[type];
      loads++;
      if (cls?.getAttributeTypeMap) fields = new Map(cls.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
    } catch {
      fields = null;
    }
  }
  cache.set(type, fields);
  return fields;
}

const ARRAY = /^Array<(.+)>$/;
const MAP = /^\{ \[key: string\]: (.+); \}$/;

function nodeOf(type: string): FieldNode {
  const map = MAP.exec(type);
  if (map) return { map: map[1] };
  const fields = fieldsOf(type);
  return fields ? { fields } : { leaf: type };
}

/**
 * What Kubernetes has at `path` (YAML names and array indexes) inside an object of `kind`,
 * or undefined when the path leaves the Kubernetes schema.
 */
export function k8sNodeAt(kind: string, path: readonly (string | number)[]): FieldNode | undefined {
  let type = `V1${kind}`;
  for (const seg of path) {
    const arr = ARRAY.exec(type);
    if (arr) {
      if (typeof seg !== 'number') return undefined;
      type = arr[1];
      continue;
    }
    const node = nodeOf(type);
    if ('map' in node) type = node.map;
    else if ('fields' in node && node.fields.has(String(seg))) type = node.fields.get(String(seg))!;
    else return undefined;
  }
  const arr = ARRAY.exec(type);
  return arr ? { leaf: type } : nodeOf(type);
}

/** The Kubernetes field names of the object at `path` (empty for maps, leaves and unknown paths). */
export function k8sFieldsAt(kind: string, path: readonly (string | number)[]): string[] {
  const node = k8sNodeAt(kind, path);
  return node && 'fields' in node ? [...node.fields.keys()] : [];
}

/** Is `name` a Kubernetes field of the object at `path`? */
export function isK8sField(kind: string, path: readonly (string | number)[], name: string): boolean {
  const node = k8sNodeAt(kind, path);
  return !!node && 'fields' in node && node.fields.has(name);
}

/**
 * Is `key` a real resource name in a resource list (requests/limits), which Kubernetes models as a free-form map?
 * Kubernetes accepts the standard names and fully-qualified extended resources (`example.com/gpu`).
 */
export function isK8sResourceName(key: string): boolean {
  return ['cpu', 'memory', 'ephemeral-storage', 'storage'].includes(key) || key.startsWith('hugepages-') || key.includes('/');
}
