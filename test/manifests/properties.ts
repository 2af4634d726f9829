// Property-based checks of the manifest loader and the plan (fast-check): generated valid repositories, and the
// same repositories mutated the ways hostile or careless commits are (wrong types, huge or deep values, alias
// bombs, odd unicode, duplicate keys, bad quantities, names at their length limits, deleted fields, damaged
// text). Shared by the quick run in `npm test` and the long one in `npm run torture`; `runs` sets how many.
import fc from 'fast-check';
import * as yaml from 'js-yaml';
import { loadManifests } from '../../src/manifests/load-manifests.ts';
import type { LoadResult, ManifestFile } from '../../src/manifests/types.ts';
import { formatIssue } from '../../src/model/issue.ts';
import type { KubeObject } from '../../src/model/object.ts';
import { makePlan } from '../../src/plan/plan.ts';

// ---- valid objects -------------------------------------------------------------------------------------------

const alnum = 'abcdefghijklmnopqrstuvwxyz0123456789';
/** A DNS-1123 label of `min`..`max` characters (63 is Kubernetes' limit). */
export const label = (min = 1, max = 20) =>
  fc.integer({ min, max }).chain((n) =>
    fc.array(fc.constantFrom(...alnum, '-'), { minLength: n, maxLength: n }).map((cs) => {
      cs[0] = cs[0] === '-' ? 'a' : cs[0];
      cs[cs.length - 1] = cs[cs.length - 1] === '-' ? 'z' : cs[cs.length - 1];
      return cs.join('');
    }),
  );
/** Any text a ConfigMap value may hold: unicode of every plane, control characters YAML can quote, long lines. */
const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom('', ' ', 'yes', 'no', 'on', '~', 'null', '0x1F', '1e3', '.inf', '- a', '&a', '*a', '#', "'", '"', '\ufeffBOM', '\u202eRTL', 'a\u200bb'),
);
const labels = fc.dictionary(label(1, 12), label(1, 12), { maxKeys: 3 });
const quantity = fc.oneof(
  fc.integer({ min: 1, max: 4000 }).map((n) => `${n}m`),
  fc.integer({ min: 1, max: 512 }).map((n) => `${n}Mi`),
  fc.constantFrom('1', '2', '0.5', '1Gi', '100M', '1e3'),
);
const port = fc.integer({ min: 1, max: 65535 });
const image = fc.tuple(label(1, 10), label(1, 6)).map(([n, t]) => `${n}:${t}`);

function deployment(name: string, app: string, replicas: number, img: string, cpu: string, mem: string, containerPort: number, extra: Record<string, string>): KubeObject {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, labels: extra },
    spec: {
      replicas, selector: { matchLabels: { app } },
      template: {
        metadata: { labels: { app, ...extra } },
        spec: { containers: [{ name: 'main', image: img, ports: [{ containerPort }], resources: { requests: { cpu, memory: mem }, limits: { memory: mem } } }] },
      },
    },
  } as KubeObject;
}

/** One valid object of a few common kinds, named `name`. */
const validObject = (name: string) =>
  fc.oneof(
    fc.dictionary(fc.stringMatching(/^[-_a-zA-Z0-9][-._a-zA-Z0-9]{0,19}$/), text, { maxKeys: 5 }).map((data) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data }) as KubeObject),
    fc.tuple(label(1, 8), fc.integer({ min: 0, max: 50 }), image, quantity, quantity, port, labels).map(([app, r, img, cpu, mem, p, l]) =>
      deployment(name, app, r, img, cpu, mem.replace(/m$/, 'Mi'), p, l)),
    fc.tuple(label(1, 8), port, port).map(([app, p, tp]) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { selector: { app }, ports: [{ port: p, targetPort: tp }] } }) as KubeObject),
    fc.tuple(label(1, 10), fc.string({ maxLength: 30 })).map(([k, v]) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name }, stringData: { [k]: v } }) as KubeObject),
    fc.tuple(image, fc.constantFrom('Always', 'OnFailure', 'Never')).map(([img, restartPolicy]) =>
      ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { restartPolicy, containers: [{ name: 'c', image: img }] } }) as KubeObject),
  );

/** A valid repository: up to 6 objects with distinct names (one up to 63 characters), one or two files. */
export const validRepo = fc
  .uniqueArray(label(1, 63), { minLength: 1, maxLength: 6 })
  .chain((names) => fc.tuple(...names.map(validObject)))
  .chain((objects) => fc.integer({ min: 1, max: 2 }).map((files) => ({ objects, files })));

export function filesOf(objects: KubeObject[], files: number): ManifestFile[] {
  const out: ManifestFile[] = [];
  for (let f = 0; f < files; f++) {
    const mine = objects.filter((_, i) => i % files === f);
    // Block style up to 40 levels (every valid object), flow below: js-yaml writes deep block nesting in time cubic
    // in its depth (a deep(2000) value once kept one run busy for half an hour) and overflows its stack past ~1,500 levels.
    if (mine.length) out.push({ path: `apps/f${f}.yaml`, content: mine.map((o) => yaml.dump(o, { lineWidth: -1, flowLevel: 40 })).join('---\n') });
  }
  return out;
}

// ---- mutations ------------------------------------------------------------------------------------------------

type Json = unknown;
/** Every path to a field of `o` (objects and arrays both). */
function paths(o: Json, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (o && typeof o === 'object') {
    for (const [k, v] of Object.entries(o)) {
      const p = [...at, Array.isArray(o) ? Number(k) : k];
      out.push(p);
      paths(v, p, out);
    }
  }
  return out;
}
const deep = (n: number): Json => (n === 0 ? 'x' : { d: deep(n - 1) });
/** Values that are wrong for almost any field: other types, huge, deep, odd. */
const badValue = fc.oneof(
  fc.constantFrom<Json>(null, true, 0, -1, 1.5, 1e308, -0, '', [], {}, [[]], 'x'.repeat(70_000), 'a\u0000b', '\ud800', '\u202e', deep(200), deep(1200)),
  fc.string({ unit: 'binary', maxLength: 10 }),
  fc.integer(),
  fc.constantFrom<Json>('-1', '1Zi', '1.5.5', 'Infinity', 'NaN', '1e999', '0x10', '+-1', '1 Gi', '𝟙'),
  fc.jsonValue({ maxDepth: 3 }),
);
/** Names at and past their limits, and names that are not DNS labels. */
const badName = fc.oneof(
  fc.constantFrom('a'.repeat(64), 'a'.repeat(253), 'a'.repeat(254), 'A', '-a', 'a-', 'a_b', 'a.b', '', ' ', 'ä', 'a/b', '..', 'a\u0000'),
  label(64, 300),
);

type Mutation =
  | { op: 'set'; pick: number; value: Json }
  | { op: 'delete'; pick: number }
  | { op: 'name'; value: string }
  | { op: 'quantity'; value: string };
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('set' as const), pick: fc.nat(), value: badValue }),
  fc.record({ op: fc.constant('delete' as const), pick: fc.nat() }),
  fc.record({ op: fc.constant('name' as const), value: badName }),
  fc.record({ op: fc.constant('quantity' as const), value: fc.constantFrom('1Zi', '-1', '1.5.5', 'lots', '1e999', '0.0000000001m', '1 Gi', '') }),
);

/** Applies a mutation to a copy of `o`. */
export function mutate(o: KubeObject, m: Mutation): KubeObject {
  const c = structuredClone(o) as any;
  if (m.op === 'name') c.metadata.name = m.value;
  else if (m.op === 'quantity') {
    const ctr = c.spec?.template?.spec?.containers?.[0] ?? c.spec?.containers?.[0];
    if (ctr) ctr.resources = { limits: { memory: m.value } };
    else c.metadata.name = m.value;
  } else {
    const all = paths(c);
    const p = all[m.pick % all.length];
    const parent = p.slice(0, -1).reduce((n: any, s) => n[s], c);
    if (m.op === 'delete') Array.isArray(parent) ? parent.splice(p[p.length - 1] as number, 1) : delete parent[p[p.length - 1]];
    else parent[p[p.length - 1]] = m.value;
  }
  return c;
}

/** Damage to YAML text itself, applied at a position given as a fraction of its length. */
type TextDamage = { op: 'insert'; at: number; text: string } | { op: 'truncate'; at: number } | { op: 'duplicate-key' } | { op: 'alias-bomb'; levels: number } | { op: 'deep'; depth: number; flow: boolean } | { op: 'long-key'; n: number };
const textDamage: fc.Arbitrary<TextDamage> = fc.oneof(
  fc.record({ op: fc.constant('insert' as const), at: fc.double({ min: 0, max: 1, noNaN: true }), text: fc.oneof(fc.constantFrom('\u0000', '\ufeff', '\t', ': ', '- ', '\n  ', '{', ']', '&a ', '*a', '!!binary ', '!!python/object ', '<<: *x\n', '%YAML 1.1\n', '---\n', '...\n', '\ud800', '\r', '"', "'"), fc.string({ unit: 'binary', maxLength: 8 })) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.constant({ op: 'duplicate-key' as const }),
  fc.record({ op: fc.constant('alias-bomb' as const), levels: fc.integer({ min: 2, max: 12 }) }),
  fc.oneof(
    fc.record({ op: fc.constant('deep' as const), depth: fc.integer({ min: 50, max: 800 }), flow: fc.constant(false) }),
    fc.record({ op: fc.constant('deep' as const), depth: fc.integer({ min: 50, max: 20_000 }), flow: fc.constant(true) }),
  ),
  fc.record({ op: fc.constant('long-key' as const), n: fc.integer({ min: 1000, max: 200_000 }) }),
);

export function damage(content: string, d: TextDamage): string {
  const at = (f: number) => Math.floor(f * content.length);
  switch (d.op) {
    case 'insert': return content.slice(0, at(d.at)) + d.text + content.slice(at(d.at));
    case 'truncate': return content.slice(0, at(d.at));
    case 'duplicate-key': return content.replace(/^metadata:\n/m, 'metadata:\n  name: dup\n');
    case 'alias-bomb': {
      let s = 'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n';
      for (let i = 1; i < d.levels; i++) s += `a${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(',')}]\n`;
      return content.replace(/^metadata:\n/m, `metadata:\n  annotations:\n${s.trimEnd().replace(/^/gm, '    ')}\n`);
    }
    case 'deep': {
      const v = d.flow ? '['.repeat(d.depth) + ']'.repeat(d.depth) : Array.from({ length: d.depth }, (_, i) => `${' '.repeat(i)}k:`).join('\n') + ' x';
      return `${content}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\ndata:\n  v: ${d.flow ? v : '|\n    x'}\n${d.flow ? '' : v}\n`;
    }
    case 'long-key': return content.replace(/^metadata:\n/m, `metadata:\n  ${'k'.repeat(d.n)}: v\n`);
  }
}

// ---- properties -----------------------------------------------------------------------------------------------

/** What every load must satisfy, whatever its input: no throw (the caller sees one), and every issue placed. */
export function wellPlaced(files: ManifestFile[], r: LoadResult): string | undefined {
  const lines = new Map(files.map((f) => [f.path, f.content.split(/\r\n|\r|\n/).length + 1]));
  for (const i of r.issues) {
    const where = formatIssue(i).slice(0, 300);
    if (!lines.has(i.file)) return `issue names no input file: ${where}`;
    if (!Number.isInteger(i.line) || i.line < 1 || i.line > lines.get(i.file)!) return `issue line out of the file: ${where}`;
    if (!Number.isInteger(i.column) || i.column < 1) return `issue column not positive: ${where}`;
    if (!i.message?.trim()) return `issue with no message: ${where}`;
    // An issue about an object (its kind is known) says which field.
    if (i.kind && !i.field) return `issue about an object names no field: ${where}`;
    // Issues are stored, logged and shown on the status page: a huge written value is never echoed whole.
    if (i.message.length > 1000 || (i.field?.length ?? 0) > 600) return `issue echoes a huge value (${i.message.length} + ${i.field?.length} characters): ${where}`;
  }
  return undefined;
}

export const load = (files: ManifestFile[]) => loadManifests(files);

export { fc };

/** The loaded objects of a repository with no errors, or throws with its issues. */
export function loadValid(files: ManifestFile[]): KubeObject[] {
  const r = loadManifests(files);
  const errors = r.issues.filter((i) => i.severity === 'error');
  if (errors.length) throw new Error(`valid input refused:\n${errors.map(formatIssue).join('\n')}\n${files.map((f) => f.content).join('\n====\n')}`);
  return r.objects.map((o) => o.object);
}

export const planOf = makePlan;
export { mutation, textDamage };
