// src/cli/closed-output.ts: `convergit validate | head` — the reader of stdout goes away after its first lines; the
// command still ends with its own exit code and no EPIPE stack trace on stderr.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { makeRepo } from '../support/git-repo.ts';

const BIN = new URL('../../bin/convergit.js', import.meta.url).pathname;

test('validate whose reader goes after the first lines: exit 1 (invalid) as it would, no EPIPE', async () => {
  // ~2,000 errors, ~250 KB of output: well past a pipe's 64 KB, so most of it is written after the reader has gone.
  const docs = Array.from({ length: 2000 }, (_, i) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-${i}\ndata:\n  k: [not, a, string]\n`);
  const repo = makeRepo({ 'bad.yaml': docs.join('---\n') });
  try {
    const child = spawn(process.execPath, [BIN, 'validate', '--repo', repo.dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let first = '', stderr = '';
    child.stdout.once('data', (chunk: Buffer) => {
      first = chunk.toString();
      child.stdout.destroy(); // as `head` does once it has its lines
    });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk; });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.match(first, /bad\.yaml:\d+:\d+: ConfigMap\/cm-0/);
    assert.is(code, 1, stderr);
    assert.not.match(stderr, /EPIPE|Unhandled/);
  } finally {
    repo.cleanup();
  }
});

test.run();
