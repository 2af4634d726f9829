// What the API server reads a written document as, before validation: a key with no value (`annotations:`) or
// an explicit null is absent (Go decodes it to a nil map, list or pointer), a Service's `nodePort: 0` means
// "allocate one" and its `targetPort: 0` (or "") means "the port", as the API server defaults them. Changes the parsed value in place (it is the loader's own); positions of the other fields hold.

type Obj = Record<string, unknown>;

function dropNulls(v: unknown): void {
  if (Array.isArray(v)) { for (const x of v) dropNulls(x); return; }
  if (typeof v !== 'object' || v === null) return;
  for (const k in v as Obj) {
    const x = (v as Obj)[k];
    if (x === null) delete (v as Obj)[k];
    else if (typeof x === 'object') dropNulls(x);
  }
}

export function normalizeDocument(value: unknown): unknown {
  dropNulls(value);
  const out = value as Obj;
  if (out && typeof out === 'object' && out.kind === 'Service' && typeof out.spec === 'object' && out.spec) {
    const ports = (out.spec as Obj).ports;
    if (Array.isArray(ports)) for (const p of ports) if (p && typeof p === 'object' && (p as Obj).nodePort === 0) delete (p as Obj).nodePort;
    if (Array.isArray(ports)) for (const p of ports) if (p && typeof p === 'object' && ((p as Obj).targetPort === 0 || (p as Obj).targetPort === '')) delete (p as Obj).targetPort;
  }
  return out;
}
