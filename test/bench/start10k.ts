// Focused: serve start → first Synced at N objects (cold: fresh data dir; warm: same data dir, load cache kept).
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeRepo } from '../support/git-repo.ts';
import { startServe } from '../support/serve-process.ts';
import { scaleRepoFiles } from './scale10k.ts';
import { profileSummary } from './profile-summary.ts';

const objects = Number(process.env.SCALE_OBJECTS ?? 10_000);
const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const peakOf = (pid: number) => Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
const cpuOf = (pid: number) => { const s = readFileSync(`/proc/${pid}/stat`, 'utf8'); const f = s.slice(s.lastIndexOf(')') + 2).split(' '); return (Number(f[11]) + Number(f[12])) / 100; };
const repo = makeRepo(scaleRepoFiles(objects));
const dir = mkdtempSync(path.join(tmpdir(), 'sync10k-start-'));
try {
  for (const kind of (process.env.RUNS ?? 'cold,cache,restart').split(',')) {
    // cold: an empty data folder; cache: the load cache of the last run kept, the store's state not (a first sync
    // with the files' parses cached); restart: everything kept (the objects are there, nothing to apply).
    if (kind === 'cold') rmSync(path.join(dir, 'data'), { recursive: true, force: true });
    if (kind === 'cache') for (const f of readdirSync(path.join(dir, 'data'))) if (f !== 'loads') rmSync(path.join(dir, 'data', f), { recursive: true, force: true });
    const prof = path.join(dir, 'prof-' + kind);
    const t0 = performance.now(), fromUs = Number(process.hrtime.bigint() / 1000n);
    let timings: any;
    const serve = await startServe(['--repo', repo.dir, '--path', 'deploy', '--data-dir', path.join(dir, 'data')], { nodeArgs: process.env.NOPROF ? [] : ['--cpu-prof', `--cpu-prof-dir=${prof}`], listenTimeoutMs: 300_000 });
    for (;;) {
      const s: any = await fetch(`${serve.url}/status?summary`).then((r) => r.json()).catch(() => ({}));
      if (s.sync === 'Synced') { timings = s.timings; break; }
      await new Promise((r) => setTimeout(r, 25));
    }
    const wall = (performance.now() - t0) / 1000, toUs = Number(process.hrtime.bigint() / 1000n);
    const cpu = cpuOf(serve.pid), peak = peakOf(serve.pid);
    await new Promise((r) => setTimeout(r, Number(process.env.SETTLE ?? 3000)));
    const peak2 = peakOf(serve.pid);
    await serve.shutdown();
    console.log(`${kind}: start → Synced ${wall.toFixed(2)} s, CPU ${cpu.toFixed(2)} s, peak ${peak.toFixed(0)} MB (after settle ${peak2.toFixed(0)} MB); load ${load()}; steps ${JSON.stringify(timings)}`);
    if (!process.env.NOPROF) for (const f of readdirSync(prof)) {
      for (const l of profileSummary(path.join(prof, f), Number(process.env.TOP ?? 25), { window: { fromUs, toUs } })) console.log('   ' + l);
      console.log('  inclusive:');
      for (const l of profileSummary(path.join(prof, f), Number(process.env.TOPI ?? 40), { window: { fromUs, toUs }, inclusive: true, only: 'build/' })) console.log('   ' + l);
    }
  }
} finally { repo.cleanup(); rmSync(dir, { recursive: true, force: true }); }
