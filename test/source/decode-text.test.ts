// Manifest bytes → text: invalid UTF-8 is refused at the position of its first bad byte, never replaced.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { decodeText } from '../../src/source/decode-text.ts';

const bytes = (...parts: (string | number[])[]) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));

test('valid UTF-8, multi-byte characters and a literal U+FFFD included, decodes unchanged', () => {
  const text = 'data:\n  v: "héllo ✓ 😀 \uFFFD"\n';
  assert.equal(decodeText(Buffer.from(text)), { content: text });
});

test('the first invalid sequence is named by line, column (characters) and byte offset', () => {
  const r = decodeText(bytes('a: 1\nb: "é', [0xff], '"\n'));
  assert.is(r.content, '');
  assert.is(r.problem!.line, 2);
  assert.is(r.problem!.column, 6); // `b: "é` is 5 characters (6 bytes)
  assert.match(r.problem!.message, /not valid UTF-8.*byte offset 11 \(ff 22 0a\)/);
});

test('overlong forms, surrogates, code points over U+10FFFF and a truncated sequence are all refused', () => {
  for (const [bad, offset] of [[[0xc0, 0xaf], 2], [[0xe0, 0x80, 0xaf], 2], [[0xed, 0xa0, 0x80], 2], [[0xf4, 0x90, 0x80, 0x80], 2], [[0xe2, 0x9c], 2]] as [number[], number][]) {
    const r = decodeText(bytes('x:', bad));
    assert.ok(r.problem, bad.join(' '));
    assert.match(r.problem!.message, new RegExp(`byte offset ${offset} `), bad.join(' '));
    assert.equal([r.problem!.line, r.problem!.column], [1, 3]);
  }
});

test('property: the offset named is where a strict decoder first fails (valid text before it, a failure within it)', () => {
  const strict = new TextDecoder('utf-8', { fatal: true });
  const fails = (b: Uint8Array) => { try { strict.decode(b); return false; } catch { return true; } };
  // Mostly valid text with a few arbitrary bytes spliced in.
  const input = fc.array(fc.oneof(fc.string({ unit: 'grapheme' }).map((t) => [...Buffer.from(t)]), fc.array(fc.integer({ min: 0x80, max: 0xff }), { maxLength: 3 })), { maxLength: 8 });
  fc.assert(fc.property(input, (parts) => {
    const b = Uint8Array.from(parts.flat());
    const r = decodeText(b);
    if (!r.problem) return !fails(b) && r.content === strict.decode(b);
    const offset = +/byte offset (\d+)/.exec(r.problem.message)![1];
    return fails(b) && !fails(b.subarray(0, offset)) && fails(b.subarray(0, offset + 4)) && offset < b.length;
  }), { numRuns: 2000 });
});

test.run();
