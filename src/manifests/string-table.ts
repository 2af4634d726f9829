// One string per distinct text among what a load reads. Each file is parsed on its own (here, by a parse worker,
// or back from the load cache), so 3,333 Deployments held 3,333 copies of their image, "IfNotPresent" and the rest
// of their template, twice (as written and defaulted): ~15 MB of duplicate strings in serve's 112 MB at 10,000
// objects. The store's copies share their input's strings (json-copy.ts), so one string here is one there too.
// A load's table is dropped when the load ends: strings the next commit's files share with the last one stay two.

/** Longer strings are kept as they are: rarely written twice, and hashing them costs. */
const MAX_LENGTH = 1024;

export class StringTable {
  private readonly strings = new Map<string, string>();

  /** The table's string with `s`'s text (`s` itself the first time). */
  string(s: string): string {
    if (s.length > MAX_LENGTH) return s;
    const hit = this.strings.get(s);
    if (hit !== undefined) return hit;
    this.strings.set(s, s);
    return s;
  }

  /**
   * `value` with each string in it replaced, in place, by the table's: `value` must be the caller's own and
   * writable (just parsed). A subtree reached twice (a YAML alias) is walked twice, as the loader's other walks do.
   */
  intern<T>(value: T): T {
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const x = value[i];
        if (typeof x === 'string') value[i] = this.string(x);
        else if (typeof x === 'object' && x !== null) this.intern(x);
      }
    } else if (typeof value === 'object' && value !== null) {
      const o = value as Record<string, unknown>;
      for (const k in o) {
        if (!Object.hasOwn(o, k)) continue;
        const x = o[k];
        // An own "__proto__" (JSON.parse makes one) is left: assigning to it would set the prototype instead.
        if (typeof x === 'string') { if (k !== '__proto__') o[k] = this.string(x); } else if (typeof x === 'object' && x !== null) this.intern(x);
      }
    }
    return value;
  }
}
