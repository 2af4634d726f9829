// Deep-freezing, for objects handed out shared: the loader's between loads (LoadOptions.shared), and with
// CONVERGIT_FREEZE_OBJECTS=1 (tests) every object the store keeps. A caller that writes into one throws where it
// does so, instead of changing what the next load or every other reader sees.

/**
 * Freezes `v` and everything below it that is not frozen yet (parts shared with a frozen object are skipped);
 * returns `v`. Walks without Object.values' array per object: the loader freezes every document of a cold load.
 */
export function deepFreeze<T>(v: T): T {
  if (v === null || typeof v !== 'object' || Object.isFrozen(v)) return v;
  Object.freeze(v);
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) deepFreeze(v[i]);
  } else {
    for (const k in v) if (Object.hasOwn(v, k)) deepFreeze(v[k]);
  }
  return v;
}
