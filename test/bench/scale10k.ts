// `npm run bench -- scale10k`: issue 14's targets for a repository of 10,000 objects (ConfigMaps, Deployments with
// 0 replicas and Services spread over 100 folders), each printed next to the issue's old figure: a one-file commit →
// applied, a commit outside the manifests → handled, serve start → first Synced, `validate` and `plan` as whole
// processes, and serve's peak memory. Wall times on a shared machine are noisy: CPU seconds of the process (and the
// load average) are printed beside them. Ends with the top self-time functions of the process behind the figure
// furthest from its target. NOPROF=1 runs serve without --cpu-prof (no profile then; its memory is serve's own).
// Asserts nothing.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeRepo } from '../support/git-repo.ts';
import { startServe, type ServeProcess } from '../support/serve-process.ts';
import { profileSummary } from './profile-summary.ts';
import { memoryOf, memoryProbe, showMemory } from './serve-memory.ts';

const BIN = new URL('../../bin/convergit.js', import.meta.url).pathname;
const ROOT = new URL('../..', import.meta.url).pathname;
const FOLDERS = 100;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
export const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Peak resident memory (MB) of a running process. */
export const peakOf = (pid: number) => Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
/** CPU seconds (user + system) of a running process. */
export const cpuOf = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
};

/**
 * Seconds from `t0` (Date.now() when serve was spawned) to the first Synced, as serve logged it (`HH:MM:SS.mmm
 * Synced: …`, UTC). serve names its URL only once its engine has started after that first sync (the controllers'
 * first pass over 10,000 objects): a /status poll sees Synced that much later. Undefined when no line says so.
 */
export function loggedSynced(output: string, t0: number): number | undefined {
  const m = /(\d\d):(\d\d):(\d\d\.\d{3}) Synced:/.exec(output);
  if (!m) return undefined;
  const day = new Date(t0);
  let at = Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), Number(m[1]), Number(m[2])) + Number(m[3]) * 1000;
  if (at < t0 - 1000) at += 86_400_000; // past midnight
  return (at - t0) / 1000;
}
/** serve's own line of where its start went: `started in … ms (CPU … ms); wall/CPU ms by step: …`. */
export const startLine = (output: string) => /started in [^\n]*/.exec(output)?.[0] ?? '(no start line)';

const cm = (i: number, v = 0) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-${i}\n  labels:\n    app: app-${i}\ndata:\n  v: "${v}"\n  greeting: hello from ${i}\n`;
const deploy = (i: number) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-${i}
  labels:
    app: app-${i}
spec:
  replicas: 0
  selector:
    matchLabels:
      app: app-${i}
  template:
    metadata:
      labels:
        app: app-${i}
    spec:
      containers:
        - name: main
          image: registry.example/app:1
          command: ["app", "--port", "8080"]
          ports:
            - containerPort: 8080
          env:
            - name: MODE
              value: bench
`;
const svc = (i: number) => `apiVersion: v1
kind: Service
metadata:
  name: svc-${i}
spec:
  selector:
    app: app-${i}
  ports:
    - port: 80
      targetPort: 8080
`;

/** `objects` manifests, one a file, in FOLDERS folders under deploy/: a third each of ConfigMaps, Deployments, Services. */
export function scaleRepoFiles(objects: number): Record<string, string> {
  const files: Record<string, string> = { 'README.md': 'scale bench\n' };
  for (let i = 0; i < objects; i++) {
    const dir = `deploy/team-${i % FOLDERS}`;
    const n = Math.floor(i / 3);
    if (i % 3 === 0) files[`${dir}/cm-${n}.yaml`] = cm(n);
    else if (i % 3 === 1) files[`${dir}/app-${n}.yaml`] = deploy(n);
    else files[`${dir}/svc-${n}.yaml`] = svc(n);
  }
  return files;
}

/** A whole `convergit` process: wall and CPU seconds, peak memory (GNU time). `cacheHome`: its XDG_CACHE_HOME. */
/** `codeCache`: CONVERGIT_CODE_CACHE (V8's code cache of bin's bundle; '' none at all); by default it is under `cacheHome`. */
function timedProcess(args: string[], nodeArgs: string[] = [], cacheHome?: string, codeCache?: string): { wall: number; cpu: number; peakMb: number; code: number } {
  const out = path.join(mkdtempSync(path.join(tmpdir(), 'convergit-bench-time-')), 'time');
  let code = 0;
  const env = { ...process.env, ...(cacheHome && { XDG_CACHE_HOME: cacheHome }), ...(codeCache !== undefined && { CONVERGIT_CODE_CACHE: codeCache }) };
  try {
    execFileSync('/usr/bin/time', ['-o', out, '-f', '%e %U %S %M', process.execPath, ...nodeArgs, BIN, ...args], { stdio: 'ignore', cwd: ROOT, env });
  } catch (e) {
    code = (e as { status?: number }).status ?? 1;
  }
  const [wall, user, sys, kb] = readFileSync(out, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  rmSync(path.dirname(out), { recursive: true, force: true });
  return { wall, cpu: user + sys, peakMb: kb / 1024, code };
}

/** Waits (at most 3 minutes) for the 1-minute load average to fall under 1, what serve's run left; returns it. */
async function quietMachine(): Promise<string> {
  for (const deadline = Date.now() + 180_000; Number(load().split(' ')[0]) >= 1 && Date.now() < deadline;) await sleep(2000);
  return load().split(' ')[0];
}

interface Figure { name: string; value: number; target: number; old: string; unit: 's' | 'ms' | 'MB'; note: string; profile?: string }

const show = (v: number, unit: Figure['unit']) => (unit === 's' ? `${v.toFixed(2)} s` : unit === 'ms' ? `${v.toFixed(0)} ms` : `${v.toFixed(0)} MB`);

async function statusOf(serve: ServeProcess): Promise<any> {
  return (await fetch(`${serve.url}/status?summary`).then((r) => r.json())) as any;
}

/**
 * Polls `probe` until `ok`, `everyMs` apart. /status?summary still walks every object's entry (a few ms of serve's
 * CPU at 10,000), so it is polled 25 ms apart; a single GET of the changed object costs nothing and is polled 5 ms apart.
 */
async function waitFor<T>(probe: () => Promise<T>, ok: (s: T) => boolean, what: string, timeoutMs: number, everyMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const s = await probe();
      if (ok(s)) return s;
    } catch { /* not answering yet */ }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}
const waitStatus = (serve: ServeProcess, ok: (s: any) => boolean, what: string, timeoutMs: number) => waitFor(() => statusOf(serve), ok, what, timeoutMs, 25);

export async function scale10kBench(objects = Number(process.env.SCALE_OBJECTS ?? 10_000), commits = Number(process.env.SCALE_COMMITS ?? 9)) {
  const fresh = existsSync(path.join(ROOT, 'build/cli/main.js'));
  console.log(`\nscale: ${objects} objects in ${FOLDERS} folders, packed (${fresh ? 'build/ present: bin runs it when fresh' : 'no build/: bin runs the sources through tsx; npm run prepare compiles'}); load average before: ${load()} (2 cores, shared)`);
  const repo = makeRepo(scaleRepoFiles(objects));
  // Packed, as a clone is (what CI and a new serve meet), and as git's own auto-gc packs 10,000 loose objects at the
  // next commit (the test repositories turn it off); the commits below add loose objects beside the pack. Figures
  // before 2026-12-06 15:10 were of loose objects.
  repo.git('gc', '--quiet');
  const dataDir = mkdtempSync(path.join(tmpdir(), 'convergit-bench-scale-'));
  const profDir = path.join(dataDir, 'prof');
  const figures: Figure[] = [];
  try {
    // validate and plan on a quiet machine (no serve running, the load average under 1: the loader's parse workers
    // are used only when cores are idle, never on 2 cores), with a cache folder of their own: cold (a fresh install's
    // first run: no load cache nor a code cache of the user's, only what `npm install` built: the validators and the code
    // cache of validate, plan and serve run on the example, scripts/train-code-cache.mjs; what CI meets), alternated with
    // other cases (for validate: cold but for the code cache an earlier run of this size wrote, bin/run-bundle.js, and
    // no code cache at all, CONVERGIT_CODE_CACHE empty; for plan: no load cache anywhere, serve's taken away);
    // alternated, as the machine's pace drifts more than a cache's gain; the medians of COLD_RUNS; then once more under
    // the profiler for where the time goes (the profiler's own cost is not the figure's); then warm (the load cache a
    // cold run wrote: a pre-commit hook, a second plan).
    const cacheHome = path.join(dataDir, 'cache');
    const codeCache = path.join(dataDir, 'code-cache');
    const coldRuns = Number(process.env.COLD_RUNS ?? 3);
    const middleRun = (runs: ReturnType<typeof timedProcess>[]) => [...runs].sort((a, b) => a.wall - b.wall)[Math.floor(runs.length / 2)];
    /** A cold case beside the first: other arguments, another code cache folder ('' none); `profiled`: the one profiled. */
    interface Case { what: string; args?: string[]; codeCache?: string; profiled?: boolean }
    const cli = async (name: string, args: string[], what: string, others: Case[], old: string) => {
      const checked = (r: ReturnType<typeof timedProcess>) => {
        if (r.code && !(name === 'plan' && r.code === 2)) throw new Error(`${name} exited with ${r.code}`);
        return r;
      };
      const figure = (what: string, runs: ReturnType<typeof timedProcess>[], quiet: string, profile?: string) => {
        const r = middleRun(runs);
        figures.push({ name: `\`${name}\` (whole process${name === 'plan' ? ', against the data folder' : ''}; ${what})`,
          value: r.wall, target: 3, old, unit: 's', note: `${runs.length > 1 ? `runs ${runs.map((x) => x.wall.toFixed(2)).join(', ')} s; ` : ''}CPU ${r.cpu.toFixed(2)} s, peak ${r.peakMb.toFixed(0)} MB, load ${quiet} before`, profile });
      };
      const quiet = await quietMachine();
      // A fully cold run's code cache is under cacheHome, removed before each run (whatever the caller's environment says).
      const cold = (c: Case, nodeArgs: string[] = []) => {
        rmSync(cacheHome, { recursive: true, force: true });
        return checked(timedProcess(c.args ?? args, nodeArgs, cacheHome, c.codeCache ?? path.join(cacheHome, 'code')));
      };
      cold({ what, codeCache }); // writes the code cache of an earlier run (a case may use it)
      const cases: Case[] = [{ what }, ...others];
      // In turn first and last (ABC CBA…): a drift of the machine's pace weighs on all alike.
      const runs = Array.from({ length: coldRuns }, (_, i) => {
        const each = cases.map((c) => () => cold(c));
        return (i % 2 ? [...each].reverse().map((f) => f()).reverse() : each.map((f) => f()));
      });
      const profiled = cases.find((c) => c.profiled) ?? cases[0];
      cases.forEach((c, k) => figure(`${c.what}, median of ${coldRuns}${k ? ' alternated with those' : ''}`, runs.map((r) => r[k]), quiet, c === profiled ? name : undefined));
      cold(profiled, ['--cpu-prof', `--cpu-prof-dir=${path.join(profDir, name)}`]);
      // The load cache the profiled run wrote: warm (for plan, a cache of the user's holding every file: serve's is
      // not read).
      figure('warm load cache and code cache', [checked(timedProcess(args, [], cacheHome, codeCache))], await quietMachine());
    };
    const freshInstall = "a fresh install's first run (the validators and code cache npm install built)";
    const validateArgs = ['validate', '--repo', repo.dir, '--path', 'deploy'];
    await cli('validate', validateArgs, `cold: ${freshInstall}, no load cache`, [
      { what: 'cold but for the code cache of an earlier run of this size (from the second run on)', codeCache },
      { what: 'cold without any code cache (CONVERGIT_CODE_CACHE empty)', codeCache: '' },
    ], '5.5 s; 5.3 s on 2026-12-04');

    const cpu0 = 0;
    const t0 = performance.now(), t0Epoch = Date.now();
    const probeFile = path.join(dataDir, 'memory.json'), probe = memoryProbe(probeFile);
    const serve = await startServe(['--repo', repo.dir, '--path', 'deploy', '--data-dir', path.join(dataDir, 'data')],
      // A fresh install's first start: a cache folder of its own (so the code cache npm install built; under
      // --cpu-prof, a node flag, none: NOPROF=1 for the figure).
      { nodeArgs: [...(process.env.NOPROF ? [] : ['--cpu-prof', `--cpu-prof-dir=${path.join(profDir, 'serve')}`]), ...probe.nodeArgs], env: { ...probe.env, XDG_CACHE_HOME: path.join(dataDir, 'serve-cache') }, listenTimeoutMs: 300_000 });
    let serveCpuStart = 0;
    let commitsFromUs = 0, commitsToUs = 0;
    const applied: number[] = [], appliedCpu: number[] = [], appliedSeen: number[] = [];
    const outside: number[] = [], outsideCpu: number[] = [], outsideSeen: number[] = [];
    /** The same, from before the bench's `git add -A && git commit` (a 10,000-file working tree: git's own time, not serve's). */
    const appliedWithGit: number[] = [], outsideWithGit: number[] = [];
    /** How long the bench's own `git add -A` and `git commit` took (a 10,000-file working tree), inside the wall figures. */
    const gitMs: number[] = [];
    try {
      await waitStatus(serve, (s) => s.sync === 'Synced', 'first Synced', 600_000);
      const start = (performance.now() - t0) / 1000;
      serveCpuStart = cpuOf(serve.pid) - cpu0;
      const logged = loggedSynced(serve.output(), t0Epoch);
      figures.push({ name: `serve start → first Synced (${process.env.NOPROF ? "a fresh install's first start" : 'under --cpu-prof: no code cache'}, as serve logs it)`, value: logged ?? start, target: 3, old: '12.7 s', unit: 's', note: `serving (engine started) at ${start.toFixed(2)} s, serve CPU then ${serveCpuStart.toFixed(2)} s; ${startLine(serve.output())}`, profile: 'serve' });
      // Settle: the controllers' first pass over 10,000 objects (ReplicaSets, clusterIPs, endpoints) and the first
      // health assessment finish, so the commits' CPU is theirs: until serve uses under a tenth of a core for 2 s.
      const settle0 = performance.now();
      for (let c = cpuOf(serve.pid); performance.now() - settle0 < 300_000;) {
        await sleep(2000);
        const now = cpuOf(serve.pid);
        if (now - c < 0.2) break;
        c = now;
      }
      console.log(`  settled ${((performance.now() - settle0) / 1000).toFixed(0)} s after first Synced (serve CPU then ${cpuOf(serve.pid).toFixed(1)} s)`);
      /**
       * From the revision seen to applied, by serve's own clock (its history entry: no watcher or poll latency). Not
       * the step timings of /status: a second, spurious watch event runs a quick fetch that replaces them.
       */
      const seen = (s: any, sha: string) => {
        const h = (s.history ?? []).find((e: any) => e.sha === sha);
        return h?.appliedAt ? Date.parse(h.appliedAt) - Date.parse(h.detectedAt) : NaN;
      };
      commitsFromUs = Number(process.hrtime.bigint() / 1000n); // CLOCK_MONOTONIC, the profile's clock
      for (let r = 1; r <= commits; r++) {
        // One ConfigMap changed.
        const n = (r * 37) % Math.floor(objects / 3);
        repo.write(`deploy/team-${(n * 3) % FOLDERS}/cm-${n}.yaml`, cm(n, r));
        let c0 = cpuOf(serve.pid);
        let w0 = performance.now();
        let sha = repo.commit(`bench ${r}`);
        let w1 = performance.now();
        gitMs.push(w1 - w0);
        // Applied: the ConfigMap in the store says so (one GET); then the loop's own timings from /status.
        await waitFor(() => fetch(`${serve.url}/api/v1/namespaces/default/configmaps/cm-${n}`).then((x) => x.json()) as Promise<any>, (o) => o?.data?.v === String(r), 'applied', 120_000, 5);
        applied.push(performance.now() - w1);
        appliedWithGit.push(performance.now() - w0);
        let s = await waitStatus(serve, (x) => x.lastAppliedRevision === sha && x.sync === 'Synced', 'synced', 120_000);
        appliedSeen.push(seen(s, sha));
        await sleep(500); // the health assessment that follows is part of the commit's CPU
        appliedCpu.push((cpuOf(serve.pid) - c0) * 1000);
        // A commit outside --path.
        repo.write('README.md', `scale bench ${r}\n`);
        c0 = cpuOf(serve.pid);
        w0 = performance.now();
        sha = repo.commit(`readme ${r}`);
        w1 = performance.now();
        gitMs.push(w1 - w0);
        s = await waitStatus(serve, (x) => x.lastAppliedRevision === sha && x.sync === 'Synced', 'handled', 120_000);
        outside.push(performance.now() - w1);
        outsideWithGit.push(performance.now() - w0);
        outsideSeen.push(seen(s, sha));
        await sleep(500);
        outsideCpu.push((cpuOf(serve.pid) - c0) * 1000);
      }
      commitsToUs = Number(process.hrtime.bigint() / 1000n);
      figures.push({ name: 'one-file commit → applied (median, from `git commit` done to the object changed in the API)', value: median(applied), target: 100, old: '3.5 s', unit: 'ms',
        note: `${median(appliedWithGit).toFixed(0)} ms from before the bench's git add + commit (git's own ${median(gitMs).toFixed(0)} ms, a 10,000-file working tree); seen → applied ${median(appliedSeen).toFixed(0)} ms by serve's clock; serve CPU per commit ${median(appliedCpu).toFixed(0)} ms incl. what follows for 0.5 s`, profile: 'serve' });
      figures.push({ name: 'commit outside the manifests → handled (median, from `git commit` done to /status saying so, polled every 25 ms)', value: median(outside), target: 50, old: '3.7 s', unit: 'ms',
        note: `${median(outsideWithGit).toFixed(0)} ms from before git add + commit; seen → handled ${median(outsideSeen).toFixed(0)} ms; serve CPU per commit ${median(outsideCpu).toFixed(0)} ms incl. 0.5 s after`, profile: 'serve' });
      // The peak includes the profiler's own records (NOPROF=1 runs serve without it, as start10k and mem10k can);
      // what a full collection leaves is serve's.
      const memory = await memoryOf(serve.pid, probeFile);
      figures.push({ name: `serve memory after the commits (peak${process.env.NOPROF ? '' : ', under --cpu-prof'})`, value: memory.peak, target: 250, old: '741 MB', unit: 'MB', note: `serve CPU in all ${cpuOf(serve.pid).toFixed(1)} s; ${showMemory(memory)}`, profile: 'serve' });
    } finally {
      await serve.shutdown();
    }

    // plan of one more changed file against the live state serve left in its data folder.
    const n = 1;
    repo.write(`deploy/team-${(n * 3) % FOLDERS}/cm-${n}.yaml`, cm(n, 999));
    repo.commit('plan me');
    // Against serve's folder, a plan reads serve's load cache (what serve loaded it need not: since 2026-12-07 evening);
    // a copy of its state alone is the plan that loads everything.
    const planArgs = (data: string) => ['plan', '--repo', repo.dir, '--path', 'deploy', '--data-dir', data, '--ref', 'main'];
    const stateOnly = path.join(dataDir, 'state-only');
    mkdirSync(stateOnly);
    for (const f of readdirSync(path.join(dataDir, 'data'))) if (/^state\./.test(f)) copyFileSync(path.join(dataDir, 'data', f), path.join(stateOnly, f));
    await cli('plan', planArgs(path.join(dataDir, 'data')), `${freshInstall} on serve's machine: no load cache of the user's, serve's read`, [
      { what: `cold: ${freshInstall}, no load cache anywhere (the state alone, copied from serve's folder)`, args: planArgs(stateOnly), profiled: true },
      { what: 'cold without any code cache either (CONVERGIT_CODE_CACHE empty)', args: planArgs(stateOnly), codeCache: '' },
    ], '7.0 s; 3.6 s on 2026-12-04');

    console.log(`scale targets at ${objects} objects (load average after: ${load()}):`);
    for (const f of figures) {
      console.log(`  ${f.name}: ${show(f.value, f.unit)} (target ${show(f.target, f.unit)}, issue's old figure ${f.old}): ${f.value <= f.target ? 'met' : 'NOT met'}; ${f.note}`);
    }
    // The commits' window of serve's profile: where a warm commit's CPU goes (not the first sync's).
    const serveDir = path.join(profDir, 'serve');
    const serveProf = existsSync(serveDir) ? readdirSync(serveDir).filter((f) => f.endsWith('.cpuprofile')) : [];
    if (serveProf.length && commitsToUs) {
      const window = { fromUs: commitsFromUs, toUs: commitsToUs };
      console.log(`  top self time in serve during the ${commits} pairs of commits:`);
      for (const line of profileSummary(path.join(serveDir, serveProf[0]), 15, { window })) console.log(`    ${line}`);
      const own = fresh ? 'build/' : 'src/';
      console.log(`  inclusive (${own} only):`);
      for (const line of profileSummary(path.join(serveDir, serveProf[0]), 25, { window, inclusive: true, only: own })) console.log(`    ${line}`);
    }
    const worst = [...figures].filter((f) => f.profile).sort((a, b) => b.value / b.target - a.value / a.target)[0];
    const dir = path.join(profDir, worst.profile!);
    const prof = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort((a, b) => statSync(path.join(dir, b)).size - statSync(path.join(dir, a)).size) : [];
    if (prof.length) {
      console.log(`  top self time in ${worst.profile} (furthest from its target: ${worst.name}):`);
      for (const line of profileSummary(path.join(dir, prof[0]))) console.log(`    ${line}`);
    }
  } finally {
    repo.cleanup();
    if (!process.env.SCALE_KEEP) rmSync(dataDir, { recursive: true, force: true });
    else console.log(`  kept ${dataDir}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await scale10kBench();
