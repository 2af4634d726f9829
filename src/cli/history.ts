// `convergit history`: the revisions a serve has seen, newest first, with their timelines and health.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { HistoryEntry } from '../sync/history.ts';
import type { StatusReport } from '../sync/status.ts';
import { readStateFile } from '../store/persist.ts';
import { delayAfter as after } from '../model/time.ts';
import { connectServer, type ServerConnection, type ServerFlags } from './server-connection.ts';

export interface HistoryOptions extends ServerFlags { dataDir?: string; output: 'text' | 'json'; limit?: number }

/** Without --server: the kubeconfig's current context when `convergit kubeconfig` wrote it, else serve's default. */
const defaultServer = (current?: { name: string; server?: string }) =>
  current?.name.startsWith('convergit-') && current.server ? current.server : 'http://127.0.0.1:7480';

export async function history(opts: HistoryOptions): Promise<number> {
  const remote = [opts.server && '--server', (opts.kubeconfig || opts.context) && '--kubeconfig/--context'].filter(Boolean);
  if (remote.length && opts.dataDir) throw new Error(`${remote[0]} and --data-dir both say where to read the history: give one`);
  const status = opts.dataDir ? await statusFromDataDir(opts.dataDir) : await statusFromServer(connectServer(opts, defaultServer)!);
  const entries = (status.history ?? []).slice(0, opts.limit);
  if (opts.output === 'json') process.stdout.write(JSON.stringify(entries, null, 2) + '\n');
  else process.stdout.write(formatHistory(entries));
  return 0;
}

const statusFromServer = (server: ServerConnection): Promise<StatusReport> => server.getJson('/status');

async function statusFromDataDir(dir: string): Promise<StatusReport> {
  const file = path.join(path.resolve(dir), 'state.json');
  // A mistyped folder is not "no revisions seen yet".
  if (!existsSync(file)) throw new Error(`no convergit state in ${dir} (${file} does not exist): is it the --data-dir of a serve?`);
  const state = await readStateFile(file);
  // The sync loop's persisted record (`sync`) holds the history; /status (`status`) is no longer written to disk
  // but an older version's data folder has it.
  const sync = state.meta.sync as { history?: StatusReport['history'] } | undefined;
  return (sync?.history ? { history: sync.history } : state.meta.status ?? { history: [] }) as StatusReport;
}

/** One row per revision: each step's delay after the previous one, and the total from commit to healthy. */
export function formatHistory(entries: HistoryEntry[]): string {
  if (!entries.length) return 'No revisions seen yet.\n';
  const header = ['REVISION', 'RESULT', 'HEALTH', 'COMMITTED', 'DETECTED', 'APPLIED', 'HEALTHY', 'TOTAL', 'MESSAGE'];
  const rows = entries.map((h) => {
    const settled = h.healthyAt ?? h.degradedAt;
    return [
      h.sha.slice(0, 7), h.result, h.health ?? '', h.commitTime.replace('T', ' ').replace(/(\.\d+)?Z$/, ''),
      after(h.commitTime, h.detectedAt), after(h.detectedAt, h.appliedAt),
      h.healthyAt ? after(h.appliedAt, h.healthyAt) : h.degradedAt ? `degraded ${after(h.appliedAt, h.degradedAt)}` : '',
      after(h.commitTime, settled), h.message,
    ];
  });
  const widths = header.map((t, i) => Math.max(t.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd();
  const out = [line(header)];
  entries.forEach((h, i) => {
    out.push(line(rows[i]));
    // Why it is not healthy, or why it was refused, under its row.
    const why = h.result === 'Failed' ? h.error : h.health && h.health !== 'Healthy' ? h.healthMessage : h.degradedAt ? `was degraded: ${h.degradedReason}` : undefined;
    if (why) out.push(`${' '.repeat(widths[0] + 2)}${why}`); // under RESULT
  });
  return out.join('\n') + '\n';
}
