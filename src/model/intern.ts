// One flat string per text, for strings kept as long as an object lives (keys, uids, paths, health messages).
// A template literal or `+` of 13 characters or more makes a rope (V8's ConsString: ~32 bytes a piece, the pieces
// strings of their own), and each component that names an object makes its own: a 10,000-object serve held ~14 MB
// of ropes, most of them keys (heap snapshot, 2026-12-07). A string stored as a property name is internalized: V8
// copies it flat into its string table, one per text (weakly held: gone once no one uses it), and turns the rope
// into a ThinString pointing at that copy (16 bytes), which a young-generation collection drops, moving its users to
// the copy (one already old stays). So call it where the string is made, to be kept.
const names: Record<string, 0> = Object.create(null);

/** `s`, from now on the one flat string of its text. */
export function intern(s: string): string {
  names[s] = 0;
  delete names[s];
  return s;
}
