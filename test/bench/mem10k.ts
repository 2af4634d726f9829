// `npm run bench -- mem10k`: serve's memory at 10,000 objects (issue 14's target: ≤ 250 MB resident), without the
// profiler, with the CPU it costs: the resident set and V8's heap spaces at the first Synced, SETTLE ms later and
// after COMMITS one-ConfigMap commits, beside serve's CPU seconds to Synced and per commit. VARIANTS runs serve more
// than once to compare V8 settings: `label=NODE ARGS` items split by `;`, where `env:NAME=VALUE` sets serve's
// environment instead of a node argument, commas in its value standing for spaces (e.g.
// `VARIANTS='default=;none=env:CONVERGIT_V8_FLAGS='`). RUNS=cold,cache
// picks the starts (cold: an empty data folder; cache: the last run's load cache kept). Asserts nothing.
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeRepo } from '../support/git-repo.ts';
import { startServe, type ServeProcess } from '../support/serve-process.ts';
import { cpuOf, load, peakOf, scaleRepoFiles } from './scale10k.ts';
import { memoryOf, memoryProbe, showMemory, showSpaces } from './serve-memory.ts';

const objects = Number(process.env.SCALE_OBJECTS ?? 10_000);
const commits = Number(process.env.COMMITS ?? 6);
const settle = Number(process.env.SETTLE ?? 3000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const cm = (i: number, v: number) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-${i}\n  labels:\n    app: app-${i}\ndata:\n  v: "${v}"\n  greeting: hello from ${i}\n`;

async function status(serve: ServeProcess): Promise<any> {
  return fetch(`${serve.url}/status?summary`).then((r) => r.json()).catch(() => ({}));
}
async function until(serve: ServeProcess, ok: (s: any) => boolean) {
  for (const t0 = Date.now(); Date.now() - t0 < 600_000; await sleep(25)) if (ok(await status(serve))) return;
  throw new Error('timed out');
}

function variants(): { label: string; nodeArgs: string[]; env: Record<string, string> }[] {
  return (process.env.VARIANTS ?? 'default=').split(';').filter(Boolean).map((v) => {
    const [label, rest = ''] = v.split(/=(.*)/s);
    const words = rest.split(/\s+/).filter(Boolean);
    const env = Object.fromEntries(words.filter((w) => w.startsWith('env:')).map((w) => w.slice(4).replaceAll(',', ' ').split(/=(.*)/s).slice(0, 2)));
    return { label, nodeArgs: words.filter((w) => !w.startsWith('env:')), env };
  });
}

/** Whether bin/convergit.js runs serve's bundle (what users run) rather than the sources through tsx, whose loader
 * threads and compiled modules are memory of their own. */
function bundleFresh(): boolean {
  const root = new URL('../../', import.meta.url);
  const mtime = (p: string) => { try { return statSync(new URL(p, root)).mtimeMs; } catch { return -1; } };
  const built = mtime('build/bundle/serve.cjs');
  return built > 0 && readdirSync(new URL('src/', root), { recursive: true }).every((f) => mtime(`src/${f}`) <= built);
}

export async function mem10kBench() {
  if (!bundleFresh()) console.log('\nmem10k: build/bundle/serve.cjs is older than src/: serve would run through tsx (npm run prepare first); skipped');
  if (!bundleFresh()) return;
  const repo = makeRepo(scaleRepoFiles(objects));
  const dir = mkdtempSync(path.join(tmpdir(), 'convergit-bench-mem10k-'));
  console.log(`\nmem10k: serve memory at ${objects} objects, no profiler; load average before: ${load()} (2 cores, shared)`);
  let round = 0;
  try {
    for (const variant of variants()) for (const kind of (process.env.RUNS ?? 'cold').split(',')) {
      if (kind === 'cold') rmSync(path.join(dir, 'data'), { recursive: true, force: true });
      if (kind === 'cache') for (const f of readdirSync(path.join(dir, 'data'))) if (f !== 'loads') rmSync(path.join(dir, 'data', f), { recursive: true, force: true });
      const probeFile = path.join(dir, 'memory.json'), probe = memoryProbe(probeFile);
      const t0 = performance.now();
      const serve = await startServe(['--repo', repo.dir, '--path', 'deploy', '--data-dir', path.join(dir, 'data')],
        { nodeArgs: [...variant.nodeArgs, ...probe.nodeArgs], env: { ...probe.env, ...variant.env }, listenTimeoutMs: 300_000 });
      const lines: string[] = [];
      try {
        await until(serve, (s) => s.sync === 'Synced');
        const wall = (performance.now() - t0) / 1000, cpu = cpuOf(serve.pid), peak = peakOf(serve.pid);
        await sleep(settle);
        const atSynced = await memoryOf(serve.pid, probeFile);
        lines.push(`at Synced: ${wall.toFixed(2)} s, serve CPU ${cpu.toFixed(2)} s, peak ${peak.toFixed(0)} MB; ${settle / 1000} s later ${showMemory(atSynced)}`, `  ${showSpaces(atSynced)}`);
        // Settle: the controllers' first pass and the first health assessment end (under a tenth of a core for 2 s).
        for (let c = cpuOf(serve.pid), s0 = Date.now(); Date.now() - s0 < 120_000;) {
          await sleep(2000);
          const now = cpuOf(serve.pid);
          if (now - c < 0.2) break;
          c = now;
        }
        const perCommit: number[] = [];
        for (let r = 1; r <= commits; r++) {
          const n = ((r + round * commits) * 37) % Math.floor(objects / 3);
          repo.write(`deploy/team-${(n * 3) % 100}/cm-${n}.yaml`, cm(n, r + round * commits));
          const c0 = cpuOf(serve.pid);
          const sha = repo.commit(`mem ${r}`);
          await until(serve, (s) => s.lastAppliedRevision === sha && s.sync === 'Synced');
          await sleep(500); // the health assessment that follows is part of the commit's CPU
          perCommit.push((cpuOf(serve.pid) - c0) * 1000);
        }
        const after = await memoryOf(serve.pid, probeFile);
        lines.push(`after ${commits} commits: serve CPU per commit ${median(perCommit).toFixed(0)} ms (median; incl. 0.5 s after), in all ${cpuOf(serve.pid).toFixed(1)} s; ${showMemory(after)}`, `  ${showSpaces(after)}`);
      } finally {
        await serve.shutdown();
      }
      round++;
      console.log(`${variant.label} (${kind}; ${[...variant.nodeArgs, ...Object.entries(variant.env).map(([k, v]) => `${k}=${v}`)].join(' ') || 'as is'}), load ${load()}:`);
      for (const l of lines) console.log(`  ${l}`);
    }
  } finally { repo.cleanup(); rmSync(dir, { recursive: true, force: true }); }
}

if (import.meta.url === `file://${process.argv[1]}`) await mem10kBench();
