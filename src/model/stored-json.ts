// The JSON text of a stored object, made once per version. Stored objects are never changed in place (the store
// replaces them, docs/engine.md "shared"), so an object's text never goes stale: the persister's journal and
// snapshots, the API's GETs, LISTs and watch events all send the same string instead of serialising the object
// again (a LIST of 30,000 pods is then a concatenation). Keyed weakly: a replaced version's text goes with it.
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
