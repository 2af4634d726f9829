// kubectl sends built-in objects as Kubernetes protobuf (`application/vnd.kubernetes.protobuf`: "k8s\0" then a
// runtime.Unknown wrapping the object). The self-reviews are the only bodies this server reads, so this decodes just
// their specs (k8s.io/api authorization/v1 and authentication/v1 generated.proto field numbers) into JSON form.

type Fields = Map<number, (Buffer | number)[]>;

/** Protobuf wire format: field number → values (varints as numbers, length-delimited as bytes). */
function fields(buf: Buffer): Fields {
  const out: Fields = new Map();
  let i = 0;
  const varint = () => {
    let v = 0, shift = 0;
    for (;;) {
      if (i >= buf.length) throw new Error('truncated varint');
      const b = buf[i++];
      v += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) return v;
      shift += 7;
    }
  };
  while (i < buf.length) {
    const key = varint();
    const no = Math.floor(key / 8), wire = key & 7;
    let value: Buffer | number;
    if (wire === 0) value = varint();
    else if (wire === 2) { const n = varint(); if (i + n > buf.length) throw new Error('truncated field'); value = buf.subarray(i, i + n); i += n; }
    else if (wire === 1) { i += 8; continue; }
    else if (wire === 5) { i += 4; continue; }
    else throw new Error(`unsupported wire type ${wire}`);
    out.set(no, [...(out.get(no) ?? []), value]);
  }
  return out;
}

const str = (f: Fields, n: number) => { const v = f.get(n)?.[0]; return Buffer.isBuffer(v) ? v.toString('utf8') : undefined; };
const msg = (f: Fields, n: number) => { const v = f.get(n)?.[0]; return Buffer.isBuffer(v) ? fields(v) : undefined; };
const defined = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== ''));

export const isKubeProtobuf = (contentType: string | undefined) => /application\/vnd\.kubernetes\.protobuf/.test(contentType ?? '');

/** The JSON form of a protobuf-encoded self-review (only what the answer needs: its spec). Throws on bad bytes. */
export function decodeReview(body: Buffer): { apiVersion?: string; kind?: string; spec: Record<string, unknown> } {
  if (body.subarray(0, 4).toString('latin1') !== 'k8s\0') throw new Error('not a Kubernetes protobuf message (no "k8s\\0" prefix)');
  const unknown = fields(body.subarray(4));
  const typeMeta = msg(unknown, 1);
  const raw = unknown.get(2)?.[0];
  const kind = typeMeta && str(typeMeta, 2);
  const object = Buffer.isBuffer(raw) ? fields(raw) : new Map();
  const spec = msg(object, 2);
  if (!spec) return { apiVersion: typeMeta && str(typeMeta, 1), kind, spec: {} };
  if (kind === 'SelfSubjectRulesReview') return { kind, spec: defined({ namespace: str(spec, 1) }) };
  const ra = msg(spec, 1), nra = msg(spec, 2);
  return {
    kind,
    spec: defined({
      resourceAttributes: ra && defined({ namespace: str(ra, 1), verb: str(ra, 2), group: str(ra, 3), version: str(ra, 4), resource: str(ra, 5), subresource: str(ra, 6), name: str(ra, 7) }),
      nonResourceAttributes: nra && defined({ path: str(nra, 1), verb: str(nra, 2) }),
    }),
  };
}
