// The text of a bundle with each non-ASCII character written as its \u escape (scripts/prepare.mjs): V8 keeps a
// script's source one byte a character only when every character is Latin-1, and serve's 4 MB bundle held 8 MB for a
// few → and ’ in comments and regular expressions, which esbuild's ASCII output leaves as written. The escape means
// the same character in a string, an untagged template, an identifier, a regular expression and a comment. Where it
// might not, the text is refused and kept as it is (only memory is lost): a non-ASCII character after a backslash
// (`\→` would become `\\u2192`), a line or paragraph separator (it ends a `//` comment; escaped, it would not), a
// String.raw template holding one (it gives the raw text). Another tag function reading its template's raw text would
// see the escape: none in the bundles does (finding every tagged template takes a parser; checked by reading them,
// 2026-12-05).
const RAW = /String\.raw\s*`[^`]*[^\0-\x7f]/;

/** `{ text }` in ASCII, or `{ refused }` saying why the text is kept as it is. */
export function asciiText(text) {
  if (!/[^\0-\x7f]/.test(text)) return { text };
  if (/\\[^\0-\x7f]/.test(text)) return { refused: 'a non-ASCII character follows a backslash' };
  if (/[\u2028\u2029]/.test(text)) return { refused: 'it holds a line or paragraph separator' };
  if (RAW.test(text)) return { refused: 'a String.raw template holds a non-ASCII character' };
  return { text: text.replace(/[^\0-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) };
}
