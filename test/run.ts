// `npm test`: the uvu test files in parallel shards, each shard (as root, with `unshare`) in a private network
// namespace of its own so their ports, routes and pod bridges never meet. Files that share machine-global state
// (podman's networks, containers and image store, the test registry's images) all run in one shard, one at a time.
// Usage: tsx test/run.ts [pattern…] [--shards N] [--record]
//   pattern   regexes (case-insensitive) on the path under test/; default every `*.test.ts`
//   --shards  how many at once (default: the CPU count, at least 2; TEST_SHARDS too); 1 runs them in sequence
//   --record  one uvu process per file, and the measured seconds written to test/durations.json, the weights
//             that order the queue (longest first) and batch the short files
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, relative } from 'node:path';

const ROOT = new URL('..', import.meta.url).pathname;
const TEST = join(ROOT, 'test');
const WEIGHTS = join(TEST, 'durations.json');
const UVU = join(ROOT, 'node_modules/uvu/bin.js');
/** Source that touches machine-global podman state or the registry whose images land in podman's store. */
const GLOBAL = /support\/podman\.ts|runtime\/podman\/podman\.ts|startRegistry\(|'--runtime', 'podman'/;
/** Files weighing less than this share one uvu process (up to BATCH seconds of them) to save its start-up. */
const LIGHT = 1.5;
const BATCH = 6;
const FILE_TIMEOUT_MS = 15 * 60_000;

const argv = process.argv.slice(2);
const record = argv.includes('--record');
const shardsAt = argv.indexOf('--shards');
const patterns = argv.filter((a, i) => !a.startsWith('--') && (shardsAt < 0 || i !== shardsAt + 1)).map((p) => new RegExp(p, 'i'));
const wanted = Number(shardsAt >= 0 ? argv[shardsAt + 1] : process.env.TEST_SHARDS) || Math.max(2, availableParallelism());

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [relative(TEST, join(dir, e.name))]);
}
const files = walk(TEST).filter((f) => /\.test\.ts$/.test(f) && (!patterns.length || patterns.some((p) => p.test(f)))).sort();
if (!files.length) {
  console.error(`no test files match ${patterns.join(' ')}`);
  process.exit(1);
}

const weights: Record<string, number> = existsSync(WEIGHTS) ? JSON.parse(readFileSync(WEIGHTS, 'utf8')) : {};
const known = Object.values(weights).sort((a, b) => a - b);
const weightOf = (f: string) => weights[f] ?? known[Math.floor(known.length / 2)] ?? LIGHT;

/** A unit of work: one uvu process over these files. */
interface Task { files: string[]; weight: number }
const isGlobal = (f: string) => GLOBAL.test(readFileSync(join(TEST, f), 'utf8'));
const byWeight = (a: string, b: string) => weightOf(b) - weightOf(a) || a.localeCompare(b);
const globalChain: Task[] = files.filter(isGlobal).sort(byWeight).map((f) => ({ files: [f], weight: weightOf(f) }));
const queue: Task[] = [];
let batch: Task | undefined;
for (const f of files.filter((f) => !isGlobal(f)).sort(byWeight)) {
  if (record || weightOf(f) >= LIGHT) { queue.push({ files: [f], weight: weightOf(f) }); continue; }
  if (!batch || batch.weight + weightOf(f) > BATCH) queue.push((batch = { files: [], weight: 0 }));
  batch.files.push(f);
  batch.weight += weightOf(f);
}

// A private network namespace per shard, held open by a sleeping process; its tasks enter it with nsenter.
const canIsolate = process.getuid?.() === 0 && spawnSync('unshare', ['-n', 'ip', 'link', 'set', 'lo', 'up']).status === 0
  && spawnSync('nsenter', ['--version']).status === 0;
const shards = canIsolate ? Math.max(1, Math.min(wanted, globalChain.length + queue.length)) : 1;
if (!canIsolate && wanted > 1) console.log('notice: not root or no unshare/nsenter: the test files run in sequence, in this network namespace');

interface Shard { holder?: ChildProcess; chain: Task[] }
const shardList: Shard[] = [];
for (let i = 0; i < shards; i++) {
  const holder = canIsolate ? spawn('unshare', ['-n', 'sh', '-c', 'ip link set lo up && echo up && exec sleep 2147483647'], { stdio: ['ignore', 'pipe', 'inherit'] }) : undefined;
  if (holder) await new Promise<void>((resolve, reject) => { holder.stdout!.once('data', () => resolve()); holder.once('exit', (c) => reject(new Error(`unshare exited ${c}`))); });
  shardList.push({ holder, chain: i === 0 ? globalChain : [] });
}
const stopHolders = () => { for (const s of shardList) if (s.holder?.exitCode === null) s.holder.kill('SIGKILL'); };
process.on('exit', stopHolders);
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => { stopHolders(); process.exit(130); });

interface Result { task: Task; code: number | null; out: string; seconds: number }
const escape = (f: string) => f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function runTask(shard: Shard, task: Task): Promise<Result> {
  const started = performance.now();
  const cmd = [process.execPath, '--import', 'tsx', UVU, 'test', `^(${task.files.map(escape).join('|')})$`];
  const child = shard.holder
    ? spawn('nsenter', [`--net=/proc/${shard.holder.pid}/ns/net`, '--', ...cmd], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    : spawn(cmd[0], cmd.slice(1), { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const timer = setTimeout(() => { out += `\n  killed: still running after ${FILE_TIMEOUT_MS / 60_000} min\n`; try { process.kill(-child.pid!, 'SIGKILL'); } catch {} }, FILE_TIMEOUT_MS);
  return new Promise((resolve) => child.once('exit', (code, signal) => {
    clearTimeout(timer);
    // Whatever the file left running may hold its pipes open: take what came, do not wait for them to close.
    setTimeout(() => {
      child.stdout!.destroy();
      child.stderr!.destroy();
      resolve({ task, code: code ?? (signal ? 1 : null), out, seconds: (performance.now() - started) / 1000 });
    }, 100);
  }));
}

const strip = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');
const count = (out: string, label: string) => Number(strip(out).match(new RegExp(`^\\s*${label}:\\s+(\\d+)`, 'm'))?.[1] ?? NaN);
let total = 0, passed = 0, skipped = 0;
const failed: string[] = [];
const timings: [string, number][] = [];
const started = performance.now();

function report(r: Result): void {
  // uvu's own summary lines are summed into one at the end (.ci/run reads the last Total/Passed/Skipped).
  const body = r.out.replace(/\n?[ \t]*(\x1b\[[0-9;]*m)*\s*Total:[\s\S]*?Duration:[^\n]*\n*/g, '\n').trimEnd();
  process.stdout.write(body.replace(/^\n+/, '') + '\n\n');
  const t = count(r.out, 'Total'), p = count(r.out, 'Passed'), s = count(r.out, 'Skipped');
  const summed = Number.isFinite(t) && Number.isFinite(p) && Number.isFinite(s);
  if (summed) { total += t; passed += p; skipped += s; }
  if (r.code !== 0 || !summed || t > p + s) {
    failed.push(r.task.files.join(', '));
    // A file that crashed, or failed outside a test, still counts as one failed test.
    if (!summed || t === p + s) total += 1;
    if (!summed || t === p + s) process.stdout.write(`\n  ✘ ${r.task.files.join(', ')}: exited ${r.code} outside its tests\n`);
  }
  if (r.task.files.length === 1) timings.push([r.task.files[0], r.seconds]);
}

async function drive(shard: Shard): Promise<void> {
  for (;;) {
    const task = shard.chain.shift() ?? queue.shift();
    if (!task) return;
    report(await runTask(shard, task));
  }
}
await Promise.all(shardList.map(drive));
stopHolders();

if (record) {
  const next: Record<string, number> = {};
  for (const [f, w] of Object.entries(weights)) if (existsSync(join(TEST, f))) next[f] = w;
  for (const [f, s] of timings) next[f] = Math.round(s * 10) / 10;
  writeFileSync(WEIGHTS, JSON.stringify(Object.fromEntries(Object.entries(next).sort(([a], [b]) => a.localeCompare(b))), null, 1) + '\n');
}
const slowest = timings.sort((a, b) => b[1] - a[1]).slice(0, 5).map(([f, s]) => `${f} ${s.toFixed(1)}s`).join(', ');
if (slowest) console.log(`\n  Slowest: ${slowest}`);
if (failed.length) console.log(`  Failed: ${failed.join('; ')}`);
console.log(`\n  Total:     ${total}\n  Passed:    ${passed}\n  Skipped:   ${skipped}\n  Duration:  ${((performance.now() - started) / 1000).toFixed(1)}s (${files.length} files, ${shards} shard${shards > 1 ? 's' : ''})\n`);
process.exitCode = failed.length ? 1 : 0;
