// src/cli/closed-output.ts: `convergit plan | head` — the reader of stdout goes away after its first lines; the
// command still ends with its own exit code and no EPIPE stack trace on stderr. (validate prints through console.log,
// which drops write errors itself; plan writes its report to stdout as one text.)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { makeRepo } from '../support/git-repo.ts';

const BIN = new URL('../../bin/convergit.js', import.meta.url).pathname;

test('plan whose reader goes after the first lines: exit 0 (valid) as it would, no EPIPE', async () => {
  const repo = makeRepo({ 'README.md': 'nothing yet\n' });
  try {
    // 2,000 creates, ~400 KB of report: well past a pipe's 64 KB, so most of it is written after the reader has gone.
    for (let i = 0; i < 2000; i++) repo.write(`deploy/cm-${i}.yaml`, `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-${i}\ndata:\n  k: "${i}"\n`);
    repo.commit('2,000 ConfigMaps');
    const child = spawn(process.execPath, [BIN, 'plan', '--repo', repo.dir, '--ref', 'main', '--base', 'main~1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let first = '', stderr = '';
    child.stdout.once('data', (chunk: Buffer) => {
      first = chunk.toString();
      child.stdout.destroy(); // as `head` does once it has its lines
    });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk; });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.match(first, /create ConfigMap default\/cm-/);
    assert.is(code, 0, stderr);
    assert.not.match(stderr, /EPIPE|Unhandled/);
  } finally {
    repo.cleanup();
  }
});

test.run();
