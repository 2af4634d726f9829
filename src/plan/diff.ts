// What would change in a live object if the desired one were applied, as a JSON patch over the fields git owns.
import jsonpatch from 'fast-json-patch';
import type { Operation } from 'fast-json-patch';
import type { KubeObject } from '../model/object.ts';
import { sameCanonical } from './canonical.ts';

export type { Operation };

/** The part of an object that git owns: everything but status and server-set metadata. */
export function owned(o: KubeObject): Record<string, unknown> {
  const { status: _status, metadata, ...body } = o;
  const meta: Record<string, unknown> = { name: metadata.name };
  if (metadata.namespace !== undefined) meta.namespace = metadata.namespace;
  if (metadata.labels && Object.keys(metadata.labels).length) meta.labels = metadata.labels;
  if (metadata.annotations && Object.keys(metadata.annotations).length) meta.annotations = metadata.annotations;
  return { ...body, metadata: meta };
}

/**
 * Lists of named items (containers, env, ports, volumes…) become maps keyed by name, so that a reorder or an
 * insertion in the middle is a small patch naming the item (`/spec/containers/web/image`) instead of a shift of
 * every later index.
 */
export function keyed(value: unknown): unknown {
  if (Array.isArray(value)) {
    const named = value.length > 0 && value.every((v) => v && typeof v === 'object' && typeof v.name === 'string');
    if (named && new Set(value.map((v) => v.name)).size === value.length) {
      return Object.fromEntries(value.map((v) => [v.name, keyed(v)]));
    }
    return value.map(keyed);
  }
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, keyed(v)]));
  }
  return value;
}

/** Empty when the owned parts are equal. Equal objects cost one canonical string each, no patch. */
export function diff(desired: KubeObject, live: KubeObject): Operation[] {
  const d = owned(desired);
  const l = owned(live);
  if (sameCanonical(d, l)) return [];
  const ops = jsonpatch.compare(keyed(l) as object, keyed(d) as object);
  // Only the order of a named list changed: show it as a plain positional patch.
  return ops.length ? ops : jsonpatch.compare(l, d);
}
