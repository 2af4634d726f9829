// Runs `convergit serve` as a real child process on a free port; stops it by process id.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { GaveUp, until } from './wait.ts';

export interface ServeProcess {
  url: string;
  pid: number;
  output: () => string;
  /** The address blocks serve printed it reserved (another serve on the machine may hold the defaults). */
  blocks(): { clusterCIDR: string; serviceCIDR: string };
  get(path: string, headers?: Record<string, string>): Promise<{ status: number; body: any; text: string }>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /**
   * `convergit stop --data-dir … --grace-period 1`: serve exits and so do the pods' containers it would leave running,
   * each given 1 s after SIGTERM (a test's clean-up, where a PID 1 ignoring SIGTERM would take its pod's 30 s; the
   * pods' own grace at a stop is e2e/restart's and e2e/podman-stop's to test).
   */
  shutdown(): Promise<void>;
}

const BIN = new URL('../../bin/convergit.js', import.meta.url).pathname;

/**
 * Runs pods as host processes unless `args` choose a runtime (or `defaultRuntime` leaves the choice to serve): tests
 * written for the process runtime keep it, whether or not this machine has podman.
 * `nodeArgs` go to node itself (e.g. --cpu-prof for a bench); `listenTimeoutMs` (default 20 s) for big starts;
 * `env` replaces serve's environment.
 */
export async function startServe(args: string[], opts: { nodeArgs?: string[]; listenTimeoutMs?: number; defaultRuntime?: boolean; env?: NodeJS.ProcessEnv; wrap?: string[] } = {}): Promise<ServeProcess> {
  const chosen = opts.defaultRuntime || args.some((a) => a === '--runtime' || a.startsWith('--runtime=') || a === '--hollow');
  const runtime = chosen ? [] : ['--runtime', 'process'];
  // `wrap`: a command that execs the rest (setpriv as another user), so the pid is still serve's.
  const [cmd, ...pre] = [...(opts.wrap ?? []), process.execPath];
  const child: ChildProcess = spawn(cmd, [...pre, ...(opts.nodeArgs ?? []), BIN, 'serve', '--port', '0', ...runtime, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await until(() => {
    if (child.exitCode !== null) throw new GaveUp(`serve exited with ${child.exitCode}:\n${out}`);
    return out.match(/serving (http:\/\/[\d.]+:\d+)/)?.[1];
  }, 'serve to listen', opts.listenTimeoutMs ?? 20_000).catch((e) => { child.kill('SIGKILL'); throw e; });
  return {
    url,
    pid: child.pid!,
    output: () => out,
    blocks() {
      const m = /addresses: pods from (\S+), Services from (\S+)/.exec(out);
      if (!m) throw new Error(`serve printed no address blocks:\n${out}`);
      return { clusterCIDR: m[1], serviceCIDR: m[2] };
    },
    async get(path, headers) {
      // Once more on a connection that failed: a test that blocked its own loop (execFileSync of a slow podman exec)
      // past serve's 5 s keep-alive can pick the socket serve has just closed ("fetch failed", seen in CI), as a
      // client-go GET is retried on a reset connection. The retry is said (a run shows how often it happens), and a
      // second failure says why and whether serve is gone.
      const once = () => fetch(url + path, { headers });
      const failed = (e: any) => `GET ${path} failed (${e.cause?.code ?? e.cause?.message ?? e.message}${child.exitCode !== null ? `; serve exited with ${child.exitCode}` : ''})`;
      const res = await once()
        .catch((e) => { console.log(`notice: ${failed(e)}, tried once more`); return once(); })
        .catch((e) => { throw new Error(`${failed(e)}${child.exitCode !== null ? `:\n${out.slice(-4000)}` : ''}`); });
      const text = await res.text();
      let body: any;
      try { body = JSON.parse(text); } catch { body = undefined; }
      return { status: res.status, body, text };
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null) process.kill(child.pid!, signal);
      return exited;
    },
    async shutdown() {
      const at = args.indexOf('--data-dir');
      const dataDir = at >= 0 ? args[at + 1] : '.convergit';
      // What stop printed is in the error: it exits 1 when podman refused to remove something, and says what.
      await promisify(execFile)(cmd, [...pre, BIN, 'stop', '--data-dir', dataDir, '--grace-period', '1'], { env: opts.env })
        .catch((e) => { throw new Error(`convergit stop --data-dir ${dataDir} failed (${e.code}): ${e.stdout}${e.stderr}`); });
      if (child.exitCode === null) process.kill(child.pid!, 'SIGTERM'); // did not own the folder after all
      await exited;
    },
  };
}
