// What the API server reads a written document as, before validation: a key with no value (`annotations:`) or
// an explicit null is absent (Go decodes it to a nil map, list or pointer), and a Service's `nodePort: 0` means
// "allocate one". Returns a copy; positions of the remaining fields are unchanged.

type Obj = Record<string, unknown>;

function dropNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropNulls);
  if (typeof v !== 'object' || v === null) return v;
  const out: Obj = {};
  for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = dropNulls(x);
  return out;
}

export function normalizeDocument(value: unknown): unknown {
  const out = dropNulls(value) as Obj;
  if (out && typeof out === 'object' && out.kind === 'Service' && typeof out.spec === 'object' && out.spec) {
    const ports = (out.spec as Obj).ports;
    if (Array.isArray(ports)) for (const p of ports) if (p && typeof p === 'object' && (p as Obj).nodePort === 0) delete (p as Obj).nodePort;
  }
  return out;
}
