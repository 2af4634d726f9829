// kustomize's output made ready for the loader: one YAML text per kustomization, line for line what
// `kubectl kustomize <folder>` prints (so a position in an issue can be looked up by running it), and the file
// each object came from, read from the `config.kubernetes.io/origin` annotation the build asked for.
import { posix } from 'node:path';
import { parseYaml } from '../manifests/parse.ts';
import { toYaml } from '../manifests/to-yaml.ts';

export const ORIGIN = 'config.kubernetes.io/origin';

export interface BuiltDoc {
  /** First and last line of the document in the built text (1-based). */
  from: number;
  to: number;
  /** Where the object came from, e.g. `base/deployment.yaml` or `ConfigMapGenerator in overlays/prod/kustomization.yaml`. */
  origin?: string;
}

export interface BuiltOutput {
  content: string;
  docs: BuiltDoc[];
}

/**
 * Splits the build's stream into documents, reads each one's origin (paths relative to `folder`, the
 * kustomization's repository path) and, unless `keepOrigin` (the user's own kustomization asked for the
 * annotation, so it is part of what they build), removes the annotation the build added.
 */
export function prepareOutput(stdout: string, folder: string, keepOrigin: boolean): BuiltOutput {
  const parts = stdout.split(/^---[ \t]*\n/m);
  const texts: string[] = [];
  const docs: BuiltDoc[] = [];
  let line = 1;
  for (const part of parts) {
    if (!part.trim()) continue;
    const { text, origin } = withoutOrigin(part, folder, keepOrigin);
    const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
    if (texts.length) line++; // the `---` before it
    docs.push({ from: line, to: line + lines - 1, origin });
    line += lines;
    texts.push(text.endsWith('\n') ? text : `${text}\n`);
  }
  return { content: texts.join('---\n'), docs };
}

function withoutOrigin(text: string, folder: string, keep: boolean): { text: string; origin?: string } {
  const parsed = parseYaml(text, 'build', 100);
  const doc = parsed.docs[0];
  const annotations = doc?.value && (doc.value as any).metadata?.annotations;
  const raw = annotations?.[ORIGIN];
  if (typeof raw !== 'string') return { text };
  const origin = describeOrigin(raw, folder);
  if (keep) return { text, origin };

  const expected: any = structuredClone(doc.value);
  delete expected.metadata.annotations[ORIGIN];
  const only = Object.keys(expected.metadata.annotations).length === 0;
  if (only) delete expected.metadata.annotations;

  // The annotation's key line and its block scalar's lines; the `annotations:` line too when nothing else is left.
  const lines = text.split('\n');
  const key = doc.positions.at(['metadata', 'annotations', ORIGIN]);
  let end = key.line; // 1-based, exclusive after the loop
  while (end < lines.length && (lines[end] === '' ? end + 1 < lines.length : indent(lines[end]) > key.column)) end++;
  const start = only ? doc.positions.at(['metadata', 'annotations']).line : key.line;
  const stripped = [...lines.slice(0, start - 1), ...lines.slice(end)].join('\n');
  const check = parseYaml(stripped, 'build', 100).docs[0]?.value;
  // Should kustomize ever print it another way, a re-serialized document is still right, if not line for line.
  return { text: JSON.stringify(check) === JSON.stringify(expected) ? stripped : toYaml(expected), origin };
}

const indent = (line: string) => line.length - line.trimStart().length + 1;

/** `path: ../base/cm.yaml` → `base/cm.yaml`; a generated object → `ConfigMapGenerator in overlays/prod/kustomization.yaml`. */
function describeOrigin(raw: string, folder: string): string | undefined {
  const field = (name: string) => new RegExp(`^\\s*${name}:\\s*(.+?)\\s*$`, 'm').exec(raw)?.[1];
  const inRepo = (p: string) => posix.normalize(posix.join(folder || '.', p));
  const path = field('path');
  if (path) return inRepo(path);
  const configuredIn = field('configuredIn');
  const by = field('kind');
  if (configuredIn) return `${by ? `${by} in ` : ''}${inRepo(configuredIn)}`;
  return undefined;
}

/** The origin of the document holding `line` of a built text. */
export const originAt = (out: BuiltOutput, line: number) => out.docs.find((d) => line >= d.from && line <= d.to)?.origin;
