// The readable YAML diff of one plan step: the whole object for a create or a prune, only the changed fields
// (with their path as context) for an update. Secret values are never printed.
import { diffArrays } from 'diff';
import { isSystemAnnotation } from '../model/allocated.ts';
import type { KubeObject } from '../model/object.ts';
import type { PlanStep } from '../plan/plan.ts';
import { diff, keyed, owned, type Operation } from '../plan/diff.ts';
import { canonical } from '../plan/canonical.ts';
import { toYaml } from '../manifests/to-yaml.ts';

type Data = Record<string, unknown>;

/**
 * Lines with a two-character prefix: `+ ` added, `- ` removed, `  ` unchanged (no trailing newline).
 * An update needs the live object: `step.object` is the desired one.
 */
export function changeDiff(step: PlanStep, live?: KubeObject): string[] {
  switch (step.action) {
    case 'create': return prefixed('+', toYaml(masked(shown(step.object))));
    case 'prune': return prefixed('-', toYaml(masked(shown(step.object))));
    case 'unchanged': return [];
  }
  if (!live) throw new Error(`changeDiff: the update of ${step.key} needs the live object`);
  const before = shown(live);
  const after = shown(step.object);
  const [maskedBefore, maskedAfter] = maskedPair(before, after);
  let pair: [unknown, unknown];
  if (canonical(keyed(before)) === canonical(keyed(after))) {
    // Only the order of a named list changed: show the names in their old and new order.
    pair = orderOnly(maskedBefore, maskedAfter) ?? [{}, {}];
  } else {
    const trie = pathTrie(step.patch ?? diff(step.object, live));
    pair = [prune(maskedBefore, keyed(maskedBefore), trie), prune(maskedAfter, keyed(maskedAfter), trie)];
  }
  return lineDiff(dump(pair[0]), dump(pair[1]));
}

/** The part git owns, in a manifest's order: apiVersion, kind, metadata, then the body. */
function shown(o: KubeObject): Data {
  const { apiVersion, kind, metadata, ...body } = owned(o);
  // What controllers annotate (a Deployment's revision) is not part of what git wrote.
  const meta = metadata as Data & { annotations?: Record<string, string> };
  if (meta.annotations) {
    const annotations = Object.fromEntries(Object.entries(meta.annotations).filter(([k]) => !isSystemAnnotation(k)));
    if (Object.keys(annotations).length) meta.annotations = annotations; else delete meta.annotations;
  }
  return { apiVersion, kind, metadata, ...body };
}

// ---- Secrets -------------------------------------------------------------------------------------------------

const SECRET_FIELDS = ['data', 'stringData'] as const;

/** `data` is base64: its size is the decoded one, as `kubectl describe secret` counts it. */
function secretBytes(field: string, v: unknown): number {
  if (v == null) return 0;
  return field === 'data' ? Buffer.from(String(v), 'base64').length : Buffer.byteLength(String(v));
}

/** A Secret with each value replaced by its size; `changed` names the keys whose value differs from the other side. */
function masked(o: Data, changed?: (field: string, key: string) => boolean): Data {
  if (o.kind !== 'Secret') return o;
  const out: Data = { ...o };
  for (const field of SECRET_FIELDS) {
    const values = o[field];
    if (!values || typeof values !== 'object') continue;
    out[field] = Object.fromEntries(Object.entries(values).map(([k, v]) => {
      const note = changed?.(field, k) ? ', changed' : '';
      return [k, `(hidden, ${secretBytes(field, v)} bytes${note})`];
    }));
  }
  return out;
}

/** Both sides masked; a changed value of the same size still reads as a change (on the new side). */
function maskedPair(before: Data, after: Data): [Data, Data] {
  const value = (o: Data, field: string, key: string) => (o[field] as Data | undefined)?.[key];
  const differs = (field: string, key: string) =>
    value(before, field, key) !== undefined && value(before, field, key) !== value(after, field, key);
  return [masked(before), masked(after, differs)];
}

// ---- Pruning to the touched paths ----------------------------------------------------------------------------

/** The patch paths as a tree of segments; `whole` where a path ends (everything below it is shown). */
interface Trie { whole: boolean; children: Map<string, Trie> }

function pathTrie(ops: Operation[]): Trie {
  const root: Trie = { whole: false, children: new Map() };
  for (const op of ops) {
    let node = root;
    const segments = op.path === '' ? [] : op.path.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    for (const s of segments) {
      if (node.whole) break;
      let next = node.children.get(s);
      if (!next) node.children.set(s, (next = { whole: false, children: new Map() }));
      node = next;
    }
    node.whole = true;
  }
  return root;
}

// A field kept on the way to a change that is not on this side (added or removed there): printed as `key:` alone.
const CONTEXT_ONLY = '__convergit_context_only__';

const isMap = (v: unknown): v is Data => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * `value` pruned down to the paths of the trie. `k` is the same value in keyed form (named lists as maps, as the
 * patch sees it), walked alongside so a named list stays a list, its kept items with `name` first.
 */
function prune(value: unknown, k: unknown, trie: Trie): unknown {
  if (trie.whole || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    if (Array.isArray(k)) return value; // a list without names: shown whole, so positions read right
    const items = (value as Data[])
      .filter((item) => trie.children.has(item.name as string))
      .map((item) => {
        const sub = trie.children.get(item.name as string)!;
        const kept = prune(item, (k as Data)[item.name as string], sub);
        return { name: item.name, ...(isMap(kept) ? kept : {}) };
      });
    return items.length ? items : CONTEXT_ONLY;
  }
  const out: Data = {};
  for (const [key, v] of Object.entries(value)) {
    const sub = trie.children.get(key);
    if (sub && v !== undefined) out[key] = prune(v, (k as Data)[key], sub);
  }
  return Object.keys(out).length ? out : CONTEXT_ONLY;
}

/** For a reorder-only change: the named lists whose order differs, as names only, with their path. */
function orderOnly(a: unknown, b: unknown): [unknown, unknown] | undefined {
  if (Array.isArray(a) && Array.isArray(b)) {
    if (Array.isArray(keyed(a)) || Array.isArray(keyed(b))) return canonical(a) === canonical(b) ? undefined : [a, b];
    const names = (l: Data[]) => l.map((i) => i.name as string);
    const [na, nb] = [names(a), names(b)];
    if (na.join('\n') !== nb.join('\n')) return [na.map((name) => ({ name })), nb.map((name) => ({ name }))];
    // Same order here: the reorder is further down, in some items.
    const pa: Data[] = [];
    const pb: Data[] = [];
    a.forEach((item: Data, i: number) => {
      const sub = orderOnly(item, b[i]);
      if (sub) { pa.push({ name: item.name, ...(sub[0] as Data) }); pb.push({ name: item.name, ...(sub[1] as Data) }); }
    });
    return pa.length ? [pa, pb] : undefined;
  }
  if (isMap(a) && isMap(b)) {
    const pa: Data = {};
    const pb: Data = {};
    for (const key of Object.keys(a)) {
      const sub = key in b ? orderOnly(a[key], b[key]) : undefined;
      if (sub) [pa[key], pb[key]] = sub;
    }
    return Object.keys(pa).length ? [pa, pb] : undefined;
  }
  return undefined;
}

// ---- Text ---------------------------------------------------------------------------------------------------

function dump(value: unknown): string {
  if (value === CONTEXT_ONLY || (isMap(value) && Object.keys(value).length === 0)) return '';
  return toYaml(value).replace(new RegExp(`: ${CONTEXT_ONLY}$`, 'gm'), ':');
}

const lines = (text: string) => (text === '' ? [] : text.replace(/\n$/, '').split('\n'));

// Empty lines (inside block scalars) carry no trailing blanks.
const row = (mark: ' ' | '+' | '-', text: string) => (text === '' ? mark.trim() : `${mark} ${text}`);

function prefixed(mark: '+' | '-', text: string): string[] {
  return lines(text).map((l) => row(mark, l));
}

/** Unchanged lines kept around each change (beyond its parents, which are always kept). */
const CONTEXT = 3;

const indentOf = (text: string) => text.length - text.trimStart().length;

/**
 * A line diff of two YAML texts. Unchanged lines far from any change (a long ConfigMap file with one line edited)
 * fold into one `…` line; the parents of every shown line (the path to it) are always kept.
 */
function lineDiff(before: string, after: string): string[] {
  const rows: { mark: ' ' | '+' | '-'; text: string }[] = [];
  for (const part of diffArrays(lines(before), lines(after))) {
    const mark = part.added ? '+' : part.removed ? '-' : ' ';
    for (const text of part.value) rows.push({ mark, text });
  }
  const keep = rows.map((r) => r.mark !== ' ');
  const changed = rows.flatMap((r, i) => (r.mark !== ' ' ? [i] : []));
  for (const i of changed) for (let j = Math.max(0, i - CONTEXT); j <= Math.min(rows.length - 1, i + CONTEXT); j++) keep[j] = true;
  for (let i = rows.length - 1; i >= 0; i--) {
    if (!keep[i] || rows[i].text === '') continue;
    // The nearest line above with less indentation is this line's parent key (or list item).
    let indent = indentOf(rows[i].text);
    for (let j = i - 1; j >= 0 && indent > 0; j--) {
      if (rows[j].text === '' || indentOf(rows[j].text) >= indent) continue;
      keep[j] = true;
      indent = indentOf(rows[j].text);
    }
  }
  const out: string[] = [];
  for (let i = 0; i < rows.length;) {
    let j = i;
    while (j < rows.length && !keep[j]) j++;
    if (j - i >= 2) {
      out.push(row(' ', `${' '.repeat(indentOf(rows[i].text))}…`));
      i = j;
      continue;
    }
    out.push(row(rows[i].mark, rows[i].text));
    i++;
  }
  return out;
}
