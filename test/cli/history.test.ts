// `convergit history` output: the delays between steps (after) and the table of revisions (formatHistory).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { formatHistory, history } from '../../src/cli/history.ts';
import { delayAfter as after } from '../../src/model/time.ts';
import type { HistoryEntry } from '../../src/sync/history.ts';

const T0 = Date.parse('2026-03-01T10:00:00.000Z');
/** The ISO time `ms` after T0. */
const at = (ms: number) => new Date(T0 + ms).toISOString();

const entry = (sha: string, over: Partial<HistoryEntry>): HistoryEntry => ({
  sha: sha.repeat(40), message: 'change', author: 'Dev <dev@example.com>', commitTime: at(0), detectedAt: at(0),
  result: 'Applied', created: 0, updated: 1, pruned: 0, errors: 0, ...over,
});

test('after: how long after, in ms, s with one decimal, or m and s', () => {
  assert.is(after(at(0), at(0)), '+0ms');
  assert.is(after(at(0), at(250)), '+250ms');
  assert.is(after(at(0), at(999)), '+999ms');
  assert.is(after(at(0), at(1000)), '+1.0s');
  assert.is(after(at(0), at(1549)), '+1.5s');
  assert.is(after(at(0), at(59_940)), '+59.9s');
  assert.is(after(at(0), at(125_000)), '+2m5s');
  assert.is(after(at(0), at(3_600_000)), '+60m0s');
});

test('after: rounding never gives 60 of a unit', () => {
  assert.is(after(at(0), at(59_960)), '+1m0s');
  assert.is(after(at(0), at(119_600)), '+2m0s');
  assert.is(after(at(0), at(60_400)), '+1m0s');
});

test('after: nothing when either step has not happened; a clock step backwards is +0ms', () => {
  assert.is(after(undefined, at(5)), '');
  assert.is(after(at(0), undefined), '');
  assert.is(after(at(500), at(0)), '+0ms');
});

test('an empty history says so', () => {
  assert.is(formatHistory([]), 'No revisions seen yet.\n');
});

const healthy = entry('a', {
  message: 'web: first version', commitTime: at(0), detectedAt: at(40), appliedAt: at(100), health: 'Healthy', healthMessage: 'all 3 objects healthy',
  healthyAt: at(1_600),
});
const refused = entry('b', {
  message: 'web: typo in a field', commitTime: at(60_000), detectedAt: at(60_100), result: 'Failed', errors: 1,
  error: 'web.yaml:12:7: Deployment/web: spec.replica: unknown field',
});
const degraded = entry('c', {
  message: 'web: crashes on start', commitTime: at(120_000), detectedAt: at(120_250), appliedAt: at(121_750), health: 'Degraded',
  healthMessage: 'Deployment web: 2/2 replicas available, rollout waiting on pod web-7d9f-x2 (CrashLoopBackOff)',
  degradedAt: at(246_750), degradedReason: 'Deployment web: 2/2 replicas available, rollout waiting on pod web-7d9f-x2 (CrashLoopBackOff)',
});
const recovered = entry('d', {
  message: 'web: flaky start', commitTime: at(300_000), detectedAt: at(300_010), appliedAt: at(300_020), health: 'Healthy',
  healthMessage: 'all 3 objects healthy', degradedAt: at(302_020), degradedReason: 'Deployment web: 0/2 replicas available', healthyAt: at(310_020),
});
const pending = entry('e', { message: 'web: being applied', commitTime: at(400_000), detectedAt: at(400_500), result: 'Pending' });

const HEADER = ['REVISION', 'RESULT', 'HEALTH', 'COMMITTED', 'DETECTED', 'APPLIED', 'HEALTHY', 'TOTAL', 'MESSAGE'];

/** The row's cells, cut at the header's column starts (cells never contain two spaces in a row here). */
function cells(header: string, row: string): Record<string, string> {
  const starts = HEADER.map((h) => header.indexOf(h));
  return Object.fromEntries(HEADER.map((h, i) => [h, row.slice(starts[i], i + 1 < HEADER.length ? starts[i + 1] : undefined).trim()]));
}

test('one row per revision, newest first as given, each cell under its column', () => {
  const out = formatHistory([pending, recovered, degraded, refused, healthy]);
  assert.ok(out.endsWith('\n'));
  const lines = out.trimEnd().split('\n');
  assert.equal(lines[0].split(/\s+/), HEADER);
  const rows = lines.filter((l) => /^[a-e]{7} /.test(l));
  assert.equal(rows.map((r) => r.slice(0, 7)), ['eeeeeee', 'ddddddd', 'ccccccc', 'bbbbbbb', 'aaaaaaa']);
  const starts = HEADER.map((h) => lines[0].indexOf(h));
  for (const r of rows) {
    // Aligned: a space before every column (no cell runs into the next), and a non-empty cell begins at its column.
    for (const start of starts.slice(1)) if (start < r.length) assert.is(r[start - 1], ' ', `${r} @${start}`);
    const c = cells(lines[0], r);
    for (const [h, start] of HEADER.map((h, i) => [h, starts[i]] as const)) if (c[h]) assert.is.not(r[start], ' ', `${h} in ${r}`);
  }
  assert.ok(lines.every((l) => l === l.trimEnd()), 'no trailing spaces');

  assert.equal(cells(lines[0], rows[4]), {
    REVISION: 'aaaaaaa', RESULT: 'Applied', HEALTH: 'Healthy', COMMITTED: '2026-03-01 10:00:00',
    DETECTED: '+40ms', APPLIED: '+60ms', HEALTHY: '+1.5s', TOTAL: '+1.6s', MESSAGE: 'web: first version',
  });
  assert.equal(cells(lines[0], rows[0]), {
    REVISION: 'eeeeeee', RESULT: 'Pending', HEALTH: '', COMMITTED: '2026-03-01 10:06:40',
    DETECTED: '+500ms', APPLIED: '', HEALTHY: '', TOTAL: '', MESSAGE: 'web: being applied',
  });
});

test('a degraded revision: when it turned Degraded in the HEALTHY column, the total to it, and why on the line under it', () => {
  const lines = formatHistory([degraded, healthy]).trimEnd().split('\n');
  const row = lines.findIndex((l) => l.startsWith('ccccccc'));
  assert.equal(cells(lines[0], lines[row]), {
    REVISION: 'ccccccc', RESULT: 'Applied', HEALTH: 'Degraded', COMMITTED: '2026-03-01 10:02:00',
    DETECTED: '+250ms', APPLIED: '+1.5s', HEALTHY: 'degraded +2m5s', TOTAL: '+2m7s', MESSAGE: 'web: crashes on start',
  });
  const resultColumn = lines[0].indexOf('RESULT');
  assert.is(lines[row + 1], `${' '.repeat(resultColumn)}${degraded.healthMessage}`);
  assert.ok(lines[row + 2].startsWith('aaaaaaa'), 'a healthy revision has no line under it');
});

test('a refused revision: no applied or health cells, and the error on the line under it', () => {
  const lines = formatHistory([refused]).trimEnd().split('\n');
  assert.equal(cells(lines[0], lines[1]), {
    REVISION: 'bbbbbbb', RESULT: 'Failed', HEALTH: '', COMMITTED: '2026-03-01 10:01:00',
    DETECTED: '+100ms', APPLIED: '', HEALTHY: '', TOTAL: '', MESSAGE: 'web: typo in a field',
  });
  assert.is(lines[2].trim(), refused.error);
  assert.is(lines.length, 3);
});

test('a revision that was degraded and came good: healthy after, total to healthy, and that it was degraded', () => {
  const lines = formatHistory([recovered]).trimEnd().split('\n');
  const c = cells(lines[0], lines[1]);
  assert.is(c.HEALTH, 'Healthy');
  assert.is(c.HEALTHY, '+10.0s');
  assert.is(c.TOTAL, '+10.0s');
  assert.is(lines[2].trim(), 'was degraded: Deployment web: 0/2 replicas available');
});

test('a revision still Progressing shows its current reason under it', () => {
  const progressing = entry('f', { appliedAt: at(10), health: 'Progressing', healthMessage: 'Deployment web: 1/2 replicas available, 1/2 updated' });
  const lines = formatHistory([progressing]).trimEnd().split('\n');
  assert.is(cells(lines[0], lines[1]).HEALTHY, '');
  assert.is(lines[2].trim(), progressing.healthMessage);
});

test('--data-dir of a folder with no state is an error naming the file, not "no revisions seen yet"', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'convergit-history-'));
  try {
    const e = await history({ dataDir: path.join(dir, 'typo'), output: 'text' }).then(() => undefined, (err: Error) => err);
    assert.ok(e, 'rejected');
    assert.is(e!.message, `no convergit state in ${path.join(dir, 'typo')} (${path.join(dir, 'typo', 'state.json')} does not exist): is it the --data-dir of a serve?`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('server flags with --data-dir are refused rather than one silently winning or a token silently ignored', async () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ server: 'http://127.0.0.1:1' }, '--server'],
    [{ token: 'secret' }, '--token'],
    [{ certificateAuthority: '/ca.crt' }, '--certificate-authority'],
  ];
  for (const [flags, name] of cases) {
    const e = await history({ ...flags, dataDir: '/nonexistent', output: 'text' }).then(() => undefined, (err: Error) => err);
    assert.is(e?.message, `${name} is for reading a server; --data-dir reads the folder: give one`, name);
  }
});

test.run();
