// Deep-freezing, for objects the loader shares between loads (LoadOptions.shared): a caller that writes into one
// throws where it does so, instead of changing what the next commit's load hands out.

/** Freezes `v` and everything below it that is not frozen yet; returns `v`. */
export function deepFreeze<T>(v: T): T {
  if (v === null || typeof v !== 'object' || Object.isFrozen(v)) return v;
  Object.freeze(v);
  for (const x of Object.values(v)) deepFreeze(x);
  return v;
}
