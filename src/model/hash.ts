// FNV-1a, 32 bit: a stable, well-spread number for a string. Names ReplicaSets by their pod template and picks
// a Service's preferred addresses, so the same input always lands in the same place.

export function fnv32a(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}
