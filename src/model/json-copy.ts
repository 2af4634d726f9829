// What JSON.parse(JSON.stringify(v)) gives, made without the text in between. The store copies every object it is
// given (no caller keeps a reference into it); through a text that was a 2 KB string made and parsed per pod write,
// and every string of the copy a new one: 30,000 pods held 30,000 copies of "IfNotPresent", "ClusterFirst" and the
// rest of their ReplicaSet's template. Strings are immutable, so the copy shares them (issue 14).
//
// The rules are JSON.stringify's (ECMA-262 SerializeJSONProperty): toJSON first (a Date becomes its text), boxed
// primitives unboxed, non-finite numbers null, -0 is 0, undefined, functions and symbols dropped from an object and
// null in an array (a hole too), own enumerable string keys only, a BigInt or a cycle throws a TypeError. A value
// JSON.stringify gives undefined for (undefined, a function) throws a SyntaxError, as parsing its "text" would.
import { types } from 'node:util';

export function jsonCopy<T>(value: T): T {
  const copied = copy('', value, [], 0, false);
  if (copied === undefined) throw new SyntaxError(`${typeof value} is not JSON`);
  return copied as T;
}

/**
 * jsonCopy, except that a frozen object or array below the top two levels (an object's fields' fields: a
 * Deployment's `spec.template`) that is JSON as it is, frozen all the way down, is kept rather than copied: no one
 * can change it, so the copy may share it. The store keeps what the loader froze this way (a third of a Deployment
 * not held twice). The top two levels are always new, for the caller to set (a namespace, server fields).
 */
export function jsonCopySharingFrozen<T>(value: T): T {
  const copied = copy('', value, [], 0, true);
  if (copied === undefined) throw new SyntaxError(`${typeof value} is not JSON`);
  return copied as T;
}

/**
 * Whether `v` is frozen, and so is all below it, and is what a JSON copy of it would be: plain objects and packed
 * arrays of data properties only, strings, finite numbers but -0, booleans and null. Walked each time it is asked
 * (no memory of the answer: a sync writes an object once, and a table of what was walked held 1–2 MB at 10,000).
 */
const frozenJson = (v: object) => walkFrozenJson(v, []);

function walkFrozenJson(v: object, ancestors: object[]): boolean {
  const array = Array.isArray(v);
  if (!Object.isFrozen(v) || Object.getPrototypeOf(v) !== (array ? Array.prototype : Object.prototype)) return false;
  if (ancestors.includes(v)) return false; // a cycle: copied, which refuses it as JSON does
  const own = Reflect.ownKeys(v);
  if (array && own.length !== (v as unknown[]).length + 1) return false; // holes
  ancestors.push(v);
  for (const k of own) {
    if (array && k === 'length') continue;
    if (typeof k !== 'string' || k === 'toJSON' || k === '__proto__') return false; // symbols too
    const d = Object.getOwnPropertyDescriptor(v, k)!;
    // A getter, or a property JSON would not copy (checked here, not by a second list of the keys: the walk of a
    // 10,000-object first sync was ~0.1 s of its apply).
    if (!('value' in d) || !d.enumerable) return false;
    const x = d.value;
    const ok = typeof x === 'string' || typeof x === 'boolean' || x === null
      || (typeof x === 'number' && Number.isFinite(x) && !Object.is(x, -0))
      || (typeof x === 'object' && walkFrozenJson(x, ancestors));
    if (!ok) return false;
  }
  ancestors.pop();
  return true;
}

function copy(key: string | number, value: unknown, ancestors: object[], depth: number, share: boolean): unknown {
  // Any object (a function too) and a BigInt may have a toJSON; a string or number never is asked.
  if ((typeof value === 'object' && value !== null) || typeof value === 'function' || typeof value === 'bigint') {
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') value = toJSON.call(value, String(key));
  }
  if (typeof value === 'object' && value !== null) {
    // By the internal slot, as JSON.stringify does (a boxed value of another realm too).
    if (types.isNumberObject(value)) value = Number(value);
    else if (types.isStringObject(value)) value = String(value);
    else if (types.isBooleanObject(value)) value = Boolean.prototype.valueOf.call(value);
    else if (types.isBigIntObject(value)) value = BigInt.prototype.valueOf.call(value); // refused below
  }
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value + 0 : null; // + 0 turns -0 into 0
    case 'bigint':
      throw new TypeError('Do not know how to serialize a BigInt');
    case 'object':
      if (value === null) return null;
      break;
    default:
      return undefined; // undefined, a function, a symbol
  }
  if (share && depth >= 2 && frozenJson(value)) return value;
  if (ancestors.includes(value)) throw new TypeError('Converting circular structure to JSON');
  ancestors.push(value);
  let out: unknown[] | Record<string, unknown>;
  if (Array.isArray(value)) {
    // Sized at once and packed, as JSON.parse makes them: pushed one by one, small arrays kept room for 16 more (a
    // pod's copy 2.4 KB instead of 1.6 KB; 2.0 through text); made as new Array(n), they stayed holey for good (slower
    // paths in JSON.stringify and structuredClone).
    // Literals for the short ones (most of a manifest's): Array.from's callback costs a pod's copy twice the time.
    const n = value.length;
    const at = (i: number) => item(value as unknown[], i, ancestors, depth + 1, share);
    out = n === 0 ? [] : n === 1 ? [at(0)] : n === 2 ? [at(0), at(1)] : n === 3 ? [at(0), at(1), at(2)] : Array.from(value, (_, i) => at(i));
  } else {
    const o: Record<string, unknown> = {};
    for (const k of Object.keys(value)) {
      const v = copy(k, (value as Record<string, unknown>)[k], ancestors, depth + 1, share);
      if (v === undefined) continue;
      // JSON.parse makes "__proto__" an own property; an assignment would set the prototype instead.
      if (k === '__proto__') Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
      else o[k] = v;
    }
    out = o;
  }
  ancestors.pop();
  return out;
}

/** An array's item as JSON has it: what is not JSON (undefined, a function, a hole) is null. */
const item = (items: unknown[], i: number, ancestors: object[], depth: number, share: boolean) => copy(i, items[i], ancestors, depth, share) ?? null;
