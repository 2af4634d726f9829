// Manifest bytes → text: invalid UTF-8 is refused at the position of its first bad byte, never replaced.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
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

test.run();
