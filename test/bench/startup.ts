// `npm run bench`, start-up part: what a process pays before doing anything (`--version`), `validate` of the
// example and `serve` start → first Synced, each run from build/ (compiled by `npm install`) and from the sources
// through tsx (CONVERGIT_NO_BUILD=1), with the validator cache warm and off. Asserts nothing.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServe } from '../support/serve-process.ts';
import { until } from '../support/wait.ts';

const BIN = new URL('../../bin/convergit.js', import.meta.url).pathname;
const EXAMPLE = new URL('../../examples-repo', import.meta.url).pathname;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

export async function startupBench(runs = Number(process.env.STARTUP_RUNS ?? 3)) {
  const repo = mkdtempSync(path.join(tmpdir(), 'convergit-bench-example-'));
  cpSync(EXAMPLE, repo, { recursive: true });
  const git = (...a: string[]) => execFileSync('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@example.com', ...a], { cwd: repo, stdio: 'ignore' });
  git('init', '-q', '-b', 'main');
  git('add', '.');
  git('commit', '-qm', 'example');
  const variants: [string, NodeJS.ProcessEnv][] = [
    ['build/, validator cache warm', {}],
    ['build/, validator cache off', { CONVERGIT_VALIDATOR_CACHE: '' }],
    ['sources via tsx, cache off (as before)', { CONVERGIT_NO_BUILD: '1', CONVERGIT_VALIDATOR_CACHE: '' }],
  ];
  try {
    console.log('\nstart-up (medians; wall time, so a loaded machine shows):');
    for (const [name, extra] of variants) {
      const env = { ...process.env, ...extra };
      const timed = (args: string[]) => { const t = performance.now(); execFileSync(process.execPath, [BIN, ...args], { env, stdio: 'ignore' }); return performance.now() - t; };
      const version: number[] = [], validate: number[] = [], synced: number[] = [];
      timed(['validate', '--repo', repo]); // fills the cache when it is on
      for (let r = 0; r < runs; r++) {
        version.push(timed(['--version']));
        validate.push(timed(['validate', '--repo', repo]));
        const dataDir = mkdtempSync(path.join(tmpdir(), 'convergit-bench-'));
        const t = performance.now();
        const serve = await startServe(['--repo', repo, '--data-dir', dataDir, '--nodes', '0'], { env, listenTimeoutMs: 120_000 });
        try {
          await until(async () => (await serve.get('/status')).body.sync === 'Synced', 'first sync', 60_000);
          synced.push(performance.now() - t);
        } finally {
          await serve.shutdown();
          rmSync(dataDir, { recursive: true, force: true });
        }
      }
      console.log(`  ${name}: --version ${s(median(version))}, validate example ${s(median(validate))}, serve start → first Synced ${s(median(synced))}`);
    }
  } finally {
    rmSync(repo, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await startupBench();
