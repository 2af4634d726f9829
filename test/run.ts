// `npm test`: the uvu test files in parallel shards. Each shard is one long-lived uvu process (the modules load once,
// as under uvu's own CLI) that takes its next file from a queue, longest first by test/durations.json; as root, with
// `unshare`, each shard has a private network namespace so ports, routes and pod bridges never meet. The files that
// share machine-global state (podman's networks, containers and image store, where the test registry's images
// land) all run in the first shard, one after another; a file that takes heap snapshots of its own process, in a
// worker of its own. Each file's output is printed whole once it is done.
// Usage: tsx test/run.ts [pattern…] [--shards N] [--record]
//   pattern   regexes (case-insensitive) on the path under test/; default every `*.test.ts`
//   --shards  how many at once (default: the CPU count, at least 2; or TEST_SHARDS); 1 runs them in sequence
//   --record  writes each file's measured seconds into test/durations.json (the queue's order)
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { blocksDir, machineDir } from '../src/cli/address-blocks.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const TEST = join(ROOT, 'test');
const WEIGHTS = join(TEST, 'durations.json');
/** Source that touches machine-global podman state, or the registry whose images land in podman's store. */
const GLOBAL = /support\/(podman|corpus-serve)\.ts|runtime\/podman\/podman\.ts|startRegistry\(|'--runtime', 'podman'/;
/**
 * Source that takes heap snapshots of its own process (support/heap-strings.ts): run in a worker of its own, whose heap
 * holds that file's modules only (in a shard's worker, after a hundred files, one snapshot took ~30 s instead of 1).
 */
const OWN_WORKER = /support\/heap-strings\.ts/;
const FILE_TIMEOUT_MS = 15 * 60_000;
/** Ends a file's output on the worker's stdout: `<mark> <exit code>`. */
const MARK = '\u0000convergit-test-file-done';

if (process.argv[2] === '--worker') await worker();
else await main();

/** One shard: reads test files (paths under test/) from stdin, runs each with uvu, marks the end of each. */
async function worker(): Promise<void> {
  // A shard's network namespace is new (`unshare -n`): reservations found in its folder were left by an older
  // namespace that had the same inode number, and hold nothing.
  if (process.env.CONVERGIT_TEST_SHARD_NETNS === '1') for (const r of reservations()) rmSync(r, { force: true });
  (globalThis as any).UVU_DEFER = 1;
  const uvu = await import('uvu');
  // uvu's runner returns from a `finally`, which drops what a `test.before` threw: its file showed "(0 / N)" and
  // nothing else. Each file's hooks on the shared default suite are wrapped to print it first.
  const before = uvu.test.before;
  uvu.test.before = Object.assign((fn: Parameters<typeof before>[0]) => before(async (state) => {
    try {
      await fn(state);
    } catch (e: any) {
      console.log(`  ✘ test.before threw: ${e?.stack ?? e}`);
      throw e;
    }
  }), { each: before.each });
  process.stdout.write(`${MARK} ready\n`); // the start-up is not the first file's time
  for await (const file of createInterface({ input: process.stdin })) {
    const reservedBefore = reservations();
    const podmanBefore = reservations(blocksDir('podman'));
    (globalThis as any).UVU_QUEUE = [[file]];
    (globalThis as any).UVU_INDEX = 0;
    let code = 0;
    try {
      await import(pathToFileURL(join(TEST, file)).href);
      await uvu.exec();
      code = process.exitCode ? 1 : 0;
    } catch (e: any) {
      console.log(`${file}\n  ✘ failed to load: ${e?.stack ?? e}`);
      code = 2;
    }
    process.exitCode = 0;
    freeReservations(file, reservedBefore);
    noticePodmanReservations(file, podmanBefore);
    process.stdout.write(`${MARK} ${code}\n`);
  }
  // What a file left behind (a timer, a socket) must not hold the shard open.
  process.exit(0);
}

/** The address-block reservations of this shard's network namespace (src/cli/address-blocks.ts), or of `dir`. */
function reservations(dir = machineDir()): Set<string> {
  return new Set(existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith('.json')).map((n) => join(dir, n)) : []);
}

/**
 * Frees the reservations a file made: a data folder it left behind would otherwise hold the default blocks, and the
 * next file's serve would get others than its assertions expect. A folder still there is named: a leak to fix.
 */
function freeReservations(file: string, before: Set<string>): void {
  for (const r of reservations()) {
    if (before.has(r)) continue;
    try {
      const { dataDir } = JSON.parse(readFileSync(r, 'utf8'));
      if (dataDir && existsSync(dataDir)) console.log(`notice: ${file} left its data folder ${dataDir}, which held address blocks (freed now)`);
    } catch { /* half written: freed all the same */ }
    rmSync(r, { force: true });
  }
}

/**
 * Names the podman reservations a file made whose data folder it left behind. Podman's are machine-wide (other runs
 * on the machine reserve there too), so they are not freed here: the folder holds its blocks until it is removed.
 */
function noticePodmanReservations(file: string, before: Set<string>): void {
  for (const r of reservations(blocksDir('podman'))) {
    if (before.has(r)) continue;
    try {
      const { dataDir } = JSON.parse(readFileSync(r, 'utf8'));
      if (dataDir && existsSync(dataDir)) console.log(`notice: ${file} left its data folder ${dataDir}, which holds podman address blocks until it is removed`);
    } catch { /* half written, or removed meanwhile */ }
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const record = argv.includes('--record');
  const shardsAt = argv.indexOf('--shards');
  const patterns = argv.filter((a, i) => !a.startsWith('--') && (shardsAt < 0 || i !== shardsAt + 1)).map((p) => new RegExp(p, 'i'));
  const wanted = Number(shardsAt >= 0 ? argv[shardsAt + 1] : process.env.TEST_SHARDS) || Math.max(2, availableParallelism());

  const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [relative(TEST, join(dir, e.name))]);
  const files = walk(TEST).filter((f) => /\.test\.ts$/.test(f) && (!patterns.length || patterns.some((p) => p.test(f)))).sort();
  if (!files.length) {
    console.error(`no test files match ${patterns.join(' ')}`);
    process.exit(1);
  }

  const weights: Record<string, number> = existsSync(WEIGHTS) ? JSON.parse(readFileSync(WEIGHTS, 'utf8')) : {};
  const known = Object.values(weights).sort((a, b) => a - b);
  const weightOf = (f: string) => weights[f] ?? known[Math.floor(known.length / 2)] ?? 1;
  const byWeight = (a: string, b: string) => weightOf(b) - weightOf(a) || a.localeCompare(b);
  const source = new Map(files.map((f) => [f, readFileSync(join(TEST, f), 'utf8')]));
  const isGlobal = (f: string) => GLOBAL.test(source.get(f)!);
  const globalChain = files.filter(isGlobal).sort(byWeight);
  const ownWorker = new Set(files.filter((f) => OWN_WORKER.test(source.get(f)!)));
  const queue = files.filter((f) => !isGlobal(f)).sort(byWeight);

  const canIsolate = process.getuid?.() === 0 && spawnSync('unshare', ['-n', 'ip', 'link', 'set', 'lo', 'up']).status === 0;
  const shards = canIsolate ? Math.max(1, Math.min(wanted, queue.length + (globalChain.length ? 1 : 0))) : 1;
  if (!canIsolate && wanted > 1) console.log('notice: not root or no unshare: the test files run in sequence, in this network namespace\n');

  interface Worker { child: ChildProcess; lines: AsyncIterator<string> }
  const workers = new Set<ChildProcess>();
  function startWorker(): Worker {
    const node = [process.execPath, '--import', 'tsx', join(TEST, 'run.ts'), '--worker'].map((a) => `'${a}'`).join(' ');
    const sh = `${canIsolate ? 'ip link set lo up && export CONVERGIT_TEST_SHARD_NETNS=1 && ' : ''}exec ${node} 2>&1`;
    const child = spawn(canIsolate ? 'unshare' : 'sh', canIsolate ? ['-n', 'sh', '-c', sh] : ['-c', sh], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'], detached: true });
    workers.add(child);
    child.once('exit', () => workers.delete(child));
    return { child, lines: createInterface({ input: child.stdout! })[Symbol.asyncIterator]() };
  }
  const kill = (child: ChildProcess) => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } };
  process.on('exit', () => workers.forEach(kill));
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(130));

  /** Runs `file` on the shard's worker: its output, exit code (null: the worker died or was killed) and seconds. */
  async function runFile(w: Worker, file: string): Promise<{ out: string; code: number | null; seconds: number }> {
    const started = performance.now();
    w.child.stdin!.write(file + '\n');
    let out = '';
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; kill(w.child); }, FILE_TIMEOUT_MS);
    try {
      for (;;) {
        const { value, done } = await w.lines.next();
        if (done) return { out: out + (timedOut ? `\n  ✘ killed: still running after ${FILE_TIMEOUT_MS / 60_000} min\n` : '\n  ✘ the test process died\n'), code: null, seconds: (performance.now() - started) / 1000 };
        if (value.startsWith(MARK)) return { out, code: Number(value.slice(MARK.length)), seconds: (performance.now() - started) / 1000 };
        out += value + '\n';
      }
    } finally {
      clearTimeout(timer);
    }
  }

  const strip = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');
  const count = (out: string, label: string) => Number(strip(out).match(new RegExp(`^\\s*${label}:\\s+(\\d+)`, 'm'))?.[1] ?? NaN);
  let total = 0, passed = 0, skipped = 0;
  const failed: string[] = [];
  const timings: Record<string, number> = {};
  const started = performance.now();

  function report(file: string, r: { out: string; code: number | null; seconds: number }): void {
    // uvu's own summary is summed into one at the end (.ci/run reads the last Total/Passed/Skipped).
    const body = r.out.replace(/\n?[ \t]*(\x1b\[[0-9;]*m)*\s*Total:[\s\S]*?Duration:[^\n]*\n*/g, '\n').replace(/^\n+/, '').trimEnd();
    const t = count(r.out, 'Total'), p = count(r.out, 'Passed'), s = count(r.out, 'Skipped');
    const summed = Number.isFinite(t) && Number.isFinite(p) && Number.isFinite(s);
    if (summed) { total += t; passed += p; skipped += s; }
    let note = '';
    if (r.code !== 0 || !summed || t > p + s) {
      failed.push(file);
      // A file that failed to load, crashed, or failed outside its tests still counts as one failed test.
      if (!summed || t === p + s) { total += 1; note = `\n  ✘ ${file}: failed outside its tests`; }
    }
    // The file's seconds after its name (uvu's first line).
    process.stdout.write(body.replace(/\n|$/, `  ${r.seconds.toFixed(1)}s$&`) + note + '\n\n');
    timings[file] = r.seconds;
  }

  async function readyWorker(): Promise<Worker> {
    const w = startWorker();
    const first = await w.lines.next(); // the ready mark, or the worker could not start
    if (first.done || !first.value.startsWith(MARK)) throw new Error(`the test worker did not start: ${first.value ?? 'no output'}`);
    return w;
  }
  const endWorker = async (w: Worker) => { w.child.stdin!.end(); await new Promise((r) => w.child.exitCode !== null ? r(null) : w.child.once('exit', r)); };

  async function drive(chain: string[]): Promise<void> {
    let w: Worker | undefined;
    for (;;) {
      const file = chain.shift() ?? queue.shift();
      if (!file) break;
      if (ownWorker.has(file)) {
        const own = await readyWorker();
        const r = await runFile(own, file);
        report(file, r);
        if (r.code === null) kill(own.child);
        else await endWorker(own);
        continue;
      }
      w ??= await readyWorker();
      const r = await runFile(w, file);
      report(file, r);
      if (r.code === null) { kill(w.child); w = undefined; } // a fresh process for what is left
    }
    if (w) await endWorker(w);
  }
  await Promise.all(Array.from({ length: shards }, (_, i) => drive(i === 0 ? globalChain : [])));

  if (record) {
    const next: Record<string, number> = {};
    for (const [f, w] of Object.entries(weights)) if (existsSync(join(TEST, f))) next[f] = w;
    for (const [f, s] of Object.entries(timings)) next[f] = Math.round(s * 10) / 10;
    writeFileSync(WEIGHTS, JSON.stringify(Object.fromEntries(Object.entries(next).sort(([a], [b]) => a.localeCompare(b))), null, 1) + '\n');
  }
  const slowest = Object.entries(timings).sort((a, b) => b[1] - a[1]).slice(0, 5).map(([f, s]) => `${f} ${s.toFixed(1)}s`).join(', ');
  console.log(`  Slowest: ${slowest}`);
  if (failed.length) console.log(`  Failed: ${failed.join(', ')}`);
  console.log(`\n  Total:     ${total}\n  Passed:    ${passed}\n  Skipped:   ${skipped}\n  Duration:  ${((performance.now() - started) / 1000).toFixed(1)}s (${files.length} files, ${shards} shard${shards > 1 ? 's' : ''})\n`);
  process.exitCode = failed.length ? 1 : 0;
}
