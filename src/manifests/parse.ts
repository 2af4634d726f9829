// YAML text → plain JSON documents, each with the position of every field. Parsing goes through js-yaml's
// event stream so that positions, alias limits and construction all read the same single parse.
import * as yaml from 'js-yaml';
import { aliasProblem } from './limits.ts';
import { DocPositions, LineIndex, documentPositions, type Position } from './positions.ts';
import { parseEventsLeniently } from './quoted-continuations.ts';
import { jsonCopy } from '../model/json-copy.ts';

export interface ParsedDoc {
  value: unknown; // plain JSON: aliases expanded into copies, no shared references
  positions: DocPositions;
}

export interface ParseResult {
  docs: ParsedDoc[]; // empty documents left out
  error?: Position & { message: string };
}

// Kubernetes reads YAML with go-yaml v2 (through sigs.k8s.io/yaml), whose plain scalars follow YAML 1.1: `0400` is
// octal (a file mode of 256, not 400), `1_000` is 1000, `yes`/`on`/`y` are booleans, `~` is null. It also parses
// integers with Go's prefixes (`0o`, `0x`, `0b`) and accepts merge keys (`<<: *defaults`). It has no sexagesimal
// numbers (`12:30` stays a string) and reads `1e3` as a number, as YAML 1.2 does; a date stays its text here.
const goNumber = (tag: yaml.ScalarTagDefinition, go: yaml.ScalarTagDefinition): yaml.ScalarTagDefinition => ({
  ...tag,
  resolve: (source, explicit, name) => {
    if (!explicit && source.includes(':')) return yaml.NOT_RESOLVED;
    const v = tag.resolve(source, explicit, name);
    return v === yaml.NOT_RESOLVED ? go.resolve(source, explicit, name) : v;
  },
});
const SCHEMA = new yaml.Schema([
  ...yaml.FAILSAFE_SCHEMA.tags, yaml.nullYaml11Tag, yaml.boolYaml11Tag, goNumber(yaml.intYaml11Tag, yaml.intCoreTag), goNumber(yaml.floatYaml11Tag, yaml.floatCoreTag), yaml.mergeTag,
]);

export function parseYaml(written: string, filename: string, maxAliases: number): ParseResult {
  try {
    // `source` differs from `written` only in the indentation of quoted continuation lines: same lines, same values.
    const { events, source } = parseEventsLeniently(written, filename);
    const index = new LineIndex(source);
    const aliases = aliasProblem(events, source, maxAliases);
    if (aliases) return { docs: [], error: { ...index.at(aliases.offset), message: aliases.message } };
    const positions = documentPositions(events, source, index);
    const values = yaml.constructFromEvents(events, { source, filename, schema: SCHEMA, maxAliases });
    // Aliases share one object between places, and .inf/.nan are not JSON: only then is a JSON copy needed.
    const copy = events.some((e) => e.type === yaml.EVENT_ID.ALIAS) || /\.(inf|nan)\b/i.test(source);
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
