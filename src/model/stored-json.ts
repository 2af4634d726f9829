// The JSON text of a stored object, made once per version. Stored objects are never changed in place (the store
// replaces them, docs/engine.md "shared"), so an object's text never goes stale: the API's GETs, LISTs and watch
// events send the same string instead of serialising the object again (a LIST of 30,000 pods is then a
// concatenation), and the persister's journal and snapshots reuse it. Keyed weakly: a replaced version's text goes
// with it. A text costs about a third of its object's memory, so it is kept only where it is likely read again:
// what the API served, and pods (big, hot LISTs and watches; their status changes all the time, so their text is
// made by the journal anyway). The 10,000 ConfigMaps of a repository are written once and seldom listed whole.
import type { KubeObject } from './object.ts';

const texts = new WeakMap<object, string>();

/** JSON.stringify(o), remembered for `o`: only for objects nobody changes afterwards (stored ones). */
export function storedJson(o: object): string {
  let text = texts.get(o);
  if (text === undefined) {
    text = JSON.stringify(o);
    texts.set(o, text);
  }
  return text;
}

/** Kinds whose text the write path keeps for the API (see above). */
const KEPT_ON_WRITE = new Set(['Pod']);

/** The text to persist `o` with: the one kept for it, else made now and kept only for a kind worth it. */
export function persistedJson(o: KubeObject): string {
  return texts.get(o) ?? (KEPT_ON_WRITE.has(o.kind) ? storedJson(o) : JSON.stringify(o));
}
