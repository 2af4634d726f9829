// Manifest bytes → text. Invalid UTF-8 is refused, not replaced with U+FFFD and applied (kubectl refuses it too):
// the problem names the line and column of the first invalid byte.

/** Why a file cannot be loaded, at a position in it. */
export interface FileProblem { line: number; column: number; message: string }

const strict = new TextDecoder('utf-8', { fatal: true });

export function decodeText(bytes: Uint8Array): { content: string; problem?: FileProblem } {
  try {
    return { content: strict.decode(bytes) };
  } catch {
    const offset = firstInvalid(bytes);
    // Line and column of the valid text before it; the column counts characters, as the loader's positions do.
    const before = new TextDecoder().decode(bytes.subarray(0, offset));
    const lines = before.split('\n');
    const hex = Array.from(bytes.subarray(offset, offset + 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
    const message = `file is not valid UTF-8: invalid byte sequence at byte offset ${offset} (${hex}); manifests must be UTF-8`;
    return { content: '', problem: { line: lines.length, column: [...lines[lines.length - 1]].length + 1, message } };
  }
}

/** Offset of the first byte that does not start a well-formed UTF-8 sequence (RFC 3629: no overlongs, surrogates or > U+10FFFF). */
function firstInvalid(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    if (c < 0x80) { i++; continue; }
    let n: number, lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) n = 1;
    else if (c >= 0xe0 && c <= 0xef) { n = 2; if (c === 0xe0) lo = 0xa0; if (c === 0xed) hi = 0x9f; }
    else if (c >= 0xf0 && c <= 0xf4) { n = 3; if (c === 0xf0) lo = 0x90; if (c === 0xf4) hi = 0x8f; }
    else return i;
    for (let k = 1; k <= n; k++) {
      const d = b[i + k];
      if (d === undefined || d < (k === 1 ? lo : 0x80) || d > (k === 1 ? hi : 0xbf)) return i;
    }
    i += n + 1;
  }
  return b.length;
}
