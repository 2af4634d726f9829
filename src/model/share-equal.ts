// One copy of what two JSON trees have in common. The loader keeps each document as written (for cross-object checks
// and issue positions) beside its defaulted object, which is a copy with a few fields added: a Deployment's labels,
// selector and containers' env, a ConfigMap's data are the same in both (issue 14: 2 MB of 97 at 10,000 objects).

/**
 * `into` with every part that equals the same place's part of `from` (same keys in the same order, same values)
 * replaced by `from`'s; `from` itself when all of `into` is equal. Written into: `into` must be the caller's own,
 * not frozen yet. JSON trees only (plain objects, arrays, strings, numbers, booleans, null), and no cycles: what the
 * loader's documents and objects are. Key order counts: a shared part must serialise as the copy did.
 */
export function sharingEqual<T>(into: T, from: unknown): T {
  return share(into, from) as T;
}

function share(into: unknown, from: unknown): unknown {
  if (Object.is(into, from)) return from; // a string: the one object of the two
  if (typeof into !== 'object' || into === null || typeof from !== 'object' || from === null) return into;
  const array = Array.isArray(into);
  if (array !== Array.isArray(from)) return into;
  let same = true;
  if (array) {
    const a = into as unknown[], b = from as unknown[];
    if (a.length !== b.length) same = false;
    for (let i = 0; i < a.length; i++) {
      const v = i < b.length ? share(a[i], b[i]) : a[i];
      if (v !== a[i]) a[i] = v;
      if (i >= b.length || !Object.is(v, b[i])) same = false;
    }
    return same ? from : into;
  }
  const a = into as Record<string, unknown>, b = from as Record<string, unknown>;
  const keys = Object.keys(a), theirs = Object.keys(b);
  if (keys.length !== theirs.length) same = false;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    if (theirs[i] !== k) same = false;
    if (!Object.hasOwn(b, k)) continue;
    const v = share(a[k], b[k]);
    if (v !== a[k]) a[k] = v;
    if (!Object.is(v, b[k])) same = false;
  }
  return same ? from : into;
}
