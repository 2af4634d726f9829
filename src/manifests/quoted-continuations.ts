// Kubernetes reads YAML with go-yaml (libyaml's scanner), which does not check the indentation of a quoted
// scalar's continuation lines; js-yaml follows YAML 1.2 and refuses one that is not indented deeper than its key:
//
//   annotations:
//     example.com/init: '[
//         {"name": "install"}
//     ]'                      <- js-yaml: "deficient indentation"; kubectl and the API server: fine
//
// A continuation line's leading spaces are folded away, so indenting it further changes no value. We do exactly
// that, one refused line at a time, and keep the result only when every line we indented lies inside a quoted
// scalar of the final parse; anything else keeps js-yaml's error.
import * as yaml from 'js-yaml';

/** Most lines one file may have re-indented (each costs a reparse). */
const MAX_LINES = 200;

export interface LenientEvents {
  events: yaml.Event[];
  /** The text the events' offsets refer to: the source with continuation lines indented (same lines). */
  source: string;
}

const indentOf = (line: string) => line.length - line.trimStart().length;

export function parseEventsLeniently(source: string, filename: string): LenientEvents {
  let text = source;
  const moved: number[] = []; // 0-based lines indented
  for (;;) {
    try {
      const events = yaml.parseEvents(text, { filename });
      if (moved.length > 0 && !moved.every((l) => insideQuoted(events, lineStart(text, l)))) throw firstError(source, filename);
      return { events, source: text };
    } catch (e) {
      if (!(e instanceof yaml.YAMLException) || e.reason !== 'deficient indentation' || !e.mark) throw e;
      const lines = text.split('\n');
      const at = e.mark.line;
      const line = lines[at] ?? '';
      if (moved.includes(at) || moved.length >= MAX_LINES || /^(---|\.\.\.)(\s|$)/.test(line)) throw firstError(source, filename);
      let prev = at - 1;
      while (prev >= 0 && lines[prev].trim() === '') prev--;
      if (prev < 0) throw e;
      const want = indentOf(lines[prev]) + 1;
      lines[at] = ' '.repeat(Math.max(0, want - indentOf(line))) + line;
      text = lines.join('\n');
      moved.push(at);
    }
  }
}

function lineStart(text: string, line: number): number {
  let at = 0;
  for (let l = 0; l < line; l++) at = text.indexOf('\n', at) + 1;
  return at;
}

/** Is `offset` strictly inside a quoted scalar (between its quotes)? */
function insideQuoted(events: yaml.Event[], offset: number): boolean {
  return events.some((ev) => ev.type === yaml.EVENT_ID.SCALAR
    && (ev.style === yaml.SCALAR_STYLE.SINGLE_QUOTED || ev.style === yaml.SCALAR_STYLE.DOUBLE_QUOTED)
    && ev.valueStart <= offset && offset <= ev.valueEnd);
}

/** js-yaml's own error on the text as written. */
function firstError(source: string, filename: string): unknown {
  try { yaml.parseEvents(source, { filename }); } catch (e) { return e; }
  return new Error('unreachable: the source parsed');
}
