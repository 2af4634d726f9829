// serve lets V8 grow its young generation only while the event loop is busy (src/cli/young-generation.ts): a commit
// now and then does not grow it for good, churn does. Run in a child process each (V8's flags are process-wide).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';

const child = new URL('./young-generation-child.ts', import.meta.url).pathname;
const run = (mode: 'governed' | 'free', phases = 'quiet,commits,busy') =>
  JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', child, mode, phases], { encoding: 'utf8' }).trim().split('\n').pop()!);

test('bursts between idle waits, and commits\' bursts, keep it at its first semi-space; a busy loop lets V8 grow it', () => {
  const r = run('governed');
  assert.ok(r.quiet <= 4, `young generation ${r.quiet} MB through quiet bursts`);
  assert.ok(r.commits <= 4, `young generation ${r.commits} MB through bursts of 150 ms (1.5 windows)`);
  assert.ok(r.busy > 4, `young generation ${r.busy} MB under a busy loop: the governor kept it small`);
});

test('without the governor the same quiet bursts grow it, and so do the commits\' (the checks can fail)', () => {
  const quiet = run('free', 'quiet').quiet, commits = run('free', 'commits').commits;
  assert.ok(quiet > 4, `young generation ${quiet} MB: V8 did not grow it here, so the governed check proves nothing`);
  assert.ok(commits > 4, `young generation ${commits} MB through bursts: V8 did not grow it there, so the governed check proves nothing`);
});

test.run();
