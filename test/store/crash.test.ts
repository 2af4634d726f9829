// Durable state: a store written in a loop by a child process killed with SIGKILL at random instants always leaves
// a state (state.json and its journal) that loads, whose resourceVersion is at or above every version the child
// had handed out. Half the trials compact the journal often (journalMin 0), so kills land in snapshots too.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { openStore } from '../../src/store/lowdb-store.ts';
import { cleanup, tempDir } from './helpers.ts';

const WRITER = new URL('./crash-writer.ts', import.meta.url).pathname;
const TRIALS = Number(process.env.CRASH_TRIALS ?? 6);

test.after.each(cleanup);

/** Runs the writer until it has handed out a few versions, then after a random pause kills it; the versions seen. */
function runAndKill(dir: string, flushDelay: number, journalMin: number, pauseMs: number): Promise<{ start: number; last: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dir, String(flushDelay)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = '', err = '', start = -1, last = -1, armed = false;
    child.stdout.on('data', (d) => {
      buf += d;
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) {
        const [what, n] = l.split(' ');
        if (what === 'start') start = Number(n);
        else last = Math.max(last, Number(n));
      }
      if (last >= 0 && !armed) {
        armed = true;
        setTimeout(() => child.kill('SIGKILL'), pauseMs);
      }
    });
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') return reject(new Error(`writer ended with ${code}: ${err}`));
      // What arrived before the kill may still sit in the pipe: read to the end.
      child.stdout.once('end', () => resolve({ start, last }));
      if (child.stdout.readableEnded) resolve({ start, last });
    });
  });
}

test(`kill -9 at random instants during writes (${TRIALS} trials): the state always loads, resourceVersion never goes back`, async () => {
  const dir = await tempDir();
  let seen = 0;
  for (let t = 0; t < TRIALS; t++) {
    const { start, last } = await runAndKill(dir, [0, 1, 5, 20][t % 4], t % 2 ? 0 : 4 << 20, 20 + Math.floor(Math.random() * 400));
    assert.ok(start >= seen, `trial ${t}: the writer started at ${start}, below ${seen} already handed out`);
    assert.ok(last > start, `trial ${t}: the writer wrote nothing (${start}..${last})`);
    seen = last;
    const store = await openStore(dir); // throws when the file does not load
    const rv = Number(await store.resourceVersion());
    assert.ok(rv >= last, `trial ${t}: reopened at ${rv}, below ${last} handed out before the kill`);
    const objects = await store.list('ConfigMap');
    assert.ok(objects.every((o) => Number(o.metadata.resourceVersion) <= rv));
    assert.is(new Set(objects.map((o) => o.metadata.name)).size, objects.length);
    await store.close();
    seen = Math.max(seen, rv);
  }
  assert.equal(readdirSync(dir).filter((f) => !f.endsWith('.tmp')).sort(), ['state.journal', 'state.json', 'state.rv']);
});

test.run();
