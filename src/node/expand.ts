// `$(VAR)` references in env values, command and args, expanded exactly as Kubernetes does
// (third_party/forked/golang/expansion): `$$` is a literal `$`, an unknown or unterminated reference stays as written.

/** Expands `$(NAME)` with `lookup`; a name lookup does not know is left as `$(NAME)`. */
export function expand(input: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== '$' || cursor + 1 >= input.length) continue;
    out += input.slice(checkpoint, cursor);
    const rest = input.slice(cursor + 1);
    let advance = 1;
    if (rest[0] === '$') {
      out += '$'; // escaped operator
    } else if (rest[0] === '(') {
      const close = rest.indexOf(')');
      if (close > 0) {
        const name = rest.slice(1, close);
        out += lookup(name) ?? `$(${name})`;
        advance = close + 1;
      } else {
        out += '$('; // incomplete reference: kept, and scanning resumes after the `(`
      }
    } else {
      out += `$${rest[0]}`; // an operator that starts no expression
    }
    cursor += advance;
    checkpoint = cursor + 1;
  }
  return out + input.slice(checkpoint);
}
