// A stable, well-spread number for a string (FNV-1a, 32 bit): where a Service's preferred clusterIP and node
// ports come from, so that a Service deleted and created again under the same name tends to get the same ones.

export function stableHash(s: string): number {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(s)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
