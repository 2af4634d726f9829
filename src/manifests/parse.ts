// YAML text → plain JSON documents, each with the position of every field. Plain text is read by plain-yaml.ts;
// the rest goes through js-yaml's event stream, so that positions, alias limits and construction all read the same
// single parse.
import * as yaml from 'js-yaml';
import { aliasProblem } from './limits.ts';
import { DocPositions, LineIndex, documentPositions, type Position } from './positions.ts';
import { parseEventsLeniently } from './quoted-continuations.ts';
import { jsonCopy } from '../model/json-copy.ts';
import { plainDocs } from './plain-yaml.ts';
import { SCHEMA } from './yaml-tags.ts';

export interface ParsedDoc {
  value: unknown; // plain JSON: aliases expanded into copies, no shared references
  positions: DocPositions;
}

export interface ParseResult {
  docs: ParsedDoc[]; // empty documents left out
  error?: Position & { message: string };
}

/** The documents of a YAML text: plain text the quick way (plain-yaml.ts), anything else through js-yaml 5's events. */
export function parseYaml(written: string, filename: string, maxAliases: number): ParseResult {
  const plain = plainDocs(written);
  return plain ? { docs: plain.map(jsonDoc(written)) } : parseYamlEvents(written, filename, maxAliases);
}

/** .inf and .nan are not JSON: a document of a text that may hold one is copied as JSON. */
const MAY_HOLD_NON_JSON = /\.(inf|nan)\b/i;
const jsonDoc = (source: string) => (MAY_HOLD_NON_JSON.test(source) ? (d: ParsedDoc) => ({ ...d, value: jsonCopy(d.value) }) : (d: ParsedDoc) => d);

/** The documents of any YAML text, through js-yaml 5's events: what parseYaml gives, every error included. */
export function parseYamlEvents(written: string, filename: string, maxAliases: number): ParseResult {
  try {
    // `source` differs from `written` only in the indentation of quoted continuation lines: same lines, same values.
    const { events, source } = parseEventsLeniently(written, filename);
    const index = new LineIndex(source);
    const aliases = aliasProblem(events, source, maxAliases);
    if (aliases) return { docs: [], error: { ...index.at(aliases.offset), message: aliases.message } };
    const positions = documentPositions(events, source, index);
    const values = yaml.constructFromEvents(events, { source, filename, schema: SCHEMA, maxAliases });
    // Aliases share one object between places, and .inf/.nan are not JSON: only then is a JSON copy needed.
    const copy = events.some((e) => e.type === yaml.EVENT_ID.ALIAS) || MAY_HOLD_NON_JSON.test(source);
    const docs: ParsedDoc[] = [];
    values.forEach((value, i) => {
      if (value !== null && value !== undefined) docs.push({ value: copy ? jsonCopy(value) : value, positions: positions[i] });
    });
    return { docs };
  } catch (e) {
    if (!(e instanceof yaml.YAMLException)) throw e;
    const mark = e.mark;
    return { docs: [], error: { line: (mark?.line ?? 0) + 1, column: (mark?.column ?? 0) + 1, message: `YAML: ${e.reason}` } };
  }
}
