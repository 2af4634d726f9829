// Field paths in three spellings: segments (['spec', 'ports', 0, 'port']), JSON pointers as ajv reports them
// ('/spec/ports/0/port') and the display form users read ('spec.ports[0].port').

export type Path = readonly (string | number)[];

// Most segments need no escape: two regex replaces on each cost a tenth of placing a file's fields.
const escape = (s: string) => (s.includes('~') || s.includes('/') ? s.replace(/~/g, '~0').replace(/\//g, '~1') : s);
const unescape = (s: string) => s.replace(/~1/g, '/').replace(/~0/g, '~');

export const toPointer = (path: Path) => path.map(segmentPointer).join('');
/** One segment's pointer (`toPointer([s])` without its two arrays: placing a file's fields makes one for each). */
export const segmentPointer = (s: string | number) => '/' + escape(String(s));

/** Splits a JSON pointer; a segment is a number when the value it indexes into is an array. */
export function fromPointer(pointer: string, root: unknown): (string | number)[] {
  const path: (string | number)[] = [];
  let node: any = root;
  for (const raw of pointer ? pointer.slice(1).split('/') : []) {
    const seg = unescape(raw);
    const key = Array.isArray(node) ? Number(seg) : seg;
    path.push(key);
    node = node?.[key];
  }
  return path;
}

const PLAIN = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** A written key or value as an issue quotes it: whole when short, else its start and its length (a 3 MB key is not echoed). */
export const shorten = (s: string, max = 100) => (s.length <= max ? s : `${s.slice(0, 60)}…(${s.length} characters)`);

/** `spec.template.spec.containers[0].ports[0].containerPort`; odd keys quoted: `metadata.labels["app.kubernetes.io/name"]`. */
export function displayPath(path: Path): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (PLAIN.test(seg) && seg.length <= 100) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(shorten(seg))}]`;
  }
  return out;
}
