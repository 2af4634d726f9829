// One entry point for every output format of a plan report (`--output`, `GET /plan?output=`).
import type { PlanReport } from './report.ts';
import { renderText } from './render-text.ts';
import { renderMarkdown } from './render-markdown.ts';
import { renderJson } from './render-json.ts';

export const OUTPUT_FORMATS = ['text', 'markdown', 'json'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

const RENDERERS: Record<OutputFormat, (r: PlanReport) => string> = { text: renderText, markdown: renderMarkdown, json: renderJson };

/** `color`: ANSI colours in text (a terminal), for what must stand out (data deletions, in red). */
export function renderReport(report: PlanReport, format: OutputFormat, opts: { color?: boolean } = {}): string {
  return format === 'text' ? renderText(report, opts) : RENDERERS[format](report);
}
