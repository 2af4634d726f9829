// One string per distinct text among what a load reads. Each file is parsed on its own (here, by a parse worker,
// or back from the load cache), so 3,333 Deployments held 3,333 copies of their image, "IfNotPresent" and the rest
// of their template, twice (as written and defaulted): ~15 MB of duplicate strings in serve's 112 MB at 10,000
// objects. The store's copies share their input's strings (json-copy.ts), so one string here is one there too.
// A load's table is dropped when the load ends: strings the next commit's files share with the last one stay two.
// What the table hands out is a string of its own: js-yaml's scalars of 13 characters or more are slices of the
// file's text, which a slice keeps alive, and the objects made from a document (the store's, a ReplicaSet's) outlive
// the loader's memory of the file.

/** Longer strings are not shared (rarely written twice, and hashing them costs), only made strings of their own. */
const MAX_LENGTH = 1024;
/** V8 makes a slice of a string this long or longer a view into it; shorter ones are copies. */
const SLICE_LENGTH = 13;

/** A string with `s`'s text that is no view into another: JSON's round trip keeps every code unit, lone surrogates too. */
const own = (s: string) => (s.length < SLICE_LENGTH ? s : JSON.parse(JSON.stringify(s)) as string);

export class StringTable {
  private readonly strings = new Map<string, string>();

  /**
   * The table's string with `s`'s text: the first time, a copy of `s` of its own, or `s` itself when it is `flat`
   * (JSON.parse's strings are: the load cache's and the parse workers' documents).
   */
  string(s: string, flat = false): string {
    if (s.length > MAX_LENGTH) return flat ? s : own(s);
    const hit = this.strings.get(s);
    if (hit !== undefined) return hit;
    const first = flat ? s : own(s);
    this.strings.set(first, first);
    return first;
  }

  /**
   * `value` with each string in it replaced, in place, by the table's: `value` must be the caller's own (just
   * parsed). A frozen object is left as it is (a LoadCache must hand out a new value; see types.ts). A subtree
   * reached twice (a YAML alias) is walked twice, as the loader's other walks do.
   */
  intern<T>(value: T, flat = false): T {
    if (Object.isFrozen(value)) return value; // primitives too
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const x = value[i];
        if (typeof x === 'string') value[i] = this.string(x, flat);
        else if (typeof x === 'object' && x !== null) this.intern(x, flat);
      }
    } else if (typeof value === 'object' && value !== null) {
      const o = value as Record<string, unknown>;
      for (const k in o) {
        if (!Object.hasOwn(o, k)) continue;
        const x = o[k];
        // An own "__proto__" (JSON.parse makes one) is left: assigning to it would set the prototype instead.
        if (typeof x === 'string') { if (k !== '__proto__') o[k] = this.string(x, flat); } else if (typeof x === 'object' && x !== null) this.intern(x, flat);
      }
    }
    return value;
  }
}
