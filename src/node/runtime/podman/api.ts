// libpod's REST API, served by a `podman system service` this runtime starts and owns on a unix socket in its state
// folder: one long-lived podman instead of a podman process per call (each costs tenths of a second of CPU to start
// and to open its database and storage). node's own http client (keep-alive sockets over the unix socket), no
// dependency. The service is started with the same environment (CONTAINERS_CONF) and working directory the CLI calls
// get, lives as long as this runtime (stopped by `close`; it gets SIGTERM when its parent dies, so a killed serve
// leaves none behind), and is started again when it has died. Where that cannot be arranged (no setpriv), one left
// behind (its pid and configuration in `podman-service.pid`) is used on by the next start when it answers and runs
// with the same containers.conf, else stopped and replaced.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request, type ClientRequest } from 'node:http';
import { createInterface } from 'node:readline';
import type { PodmanCli } from './cli.ts';

/** libpod's API version prefix: podman 4.0 and later serve it. */
const API = '/v4.0.0/libpod';

export interface ApiResult { status: number; body: any; text: string }

export interface PodmanApiOptions extends PodmanCli {
  /** The unix socket the service listens on. */
  socket: string;
  /** Where the service's pid is kept, to stop one a killed serve left running. */
  pidFile: string;
}

/** A connection-level failure: the service is not there (not started yet, or died). */
const gone = (e: NodeJS.ErrnoException) => e.code === 'ECONNREFUSED' || e.code === 'ENOENT' || e.code === 'ECONNRESET' || e.code === 'EPIPE';

export class PodmanApi {
  /** The pid of the service in use (started here, or left by a killed serve); undefined until one answers. */
  private pid?: number;
  private starting?: Promise<void>;
  private closed = false;
  /** Keep-alive connections: a request costs no connect. Enough for every pod worker of a node at once. */
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 64 });
  /** Requests made (by path's first word), for the bench. */
  readonly calls = new Map<string, number>();
  /** When set (the bench), each request's time in ms, by method, first and last word of its path (`POST containers/start`). */
  timings?: Map<string, number[]>;

  constructor(private readonly opts: PodmanApiOptions) {}

  /** `GET /containers/json` etc.: JSON in and out; never throws for an HTTP error status (callers read it). */
  async call(method: string, path: string, opts: { query?: Record<string, unknown>; body?: unknown; timeoutMs?: number } = {}): Promise<ApiResult> {
    const key = `${method} ${path.split('/')[1] ?? ''}`;
    this.calls.set(key, (this.calls.get(key) ?? 0) + 1);
    const url = `${API}${path}${query(opts.query)}`;
    for (let attempt = 0; ; attempt++) {
      await this.ensure();
      const t0 = this.timings && performance.now();
      try {
        const r = await this.once(method, url, opts.body, opts.timeoutMs ?? 300_000);
        if (this.timings && t0 !== undefined) {
          const words = path.split('/').filter(Boolean);
          const k = `${method} ${words[0]}/${words.length > 1 ? words[words.length - 1] : ''}`;
          this.timings.set(k, [...(this.timings.get(k) ?? []), performance.now() - t0]);
        }
        return r;
      } catch (e) {
        // The service died under us (or a kept-alive socket was closed as the request went out): once more, on a
        // service started again if need be. Creates are not retried blindly: the caller's name makes a repeat fail.
        if (attempt > 0 || !gone(e as NodeJS.ErrnoException) || this.closed) throw e;
        if (this.pid !== undefined && !isService(this.pid)) this.pid = undefined;
      }
    }
  }

  private once(method: string, url: string, body: unknown, timeoutMs: number): Promise<ApiResult> {
    return new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const req = request({
        socketPath: this.opts.socket, agent: this.agent, method, path: url, host: 'd',
        headers: data ? { 'content-type': 'application/json', 'content-length': data.length } : {},
        timeout: timeoutMs,
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (b: Buffer) => chunks.push(b));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch { /* not JSON: text says it */ }
          resolve({ status: res.statusCode ?? 0, body: json, text });
        });
      });
      req.on('timeout', () => req.destroy(Object.assign(new Error(`podman API ${method} ${url}: no answer in ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
      req.on('error', reject);
      req.end(data);
    });
  }

  /**
   * A stream of events (`GET /events?stream=true`), one JSON object each, until `close` of the returned handle or
   * the service going away (`onEnd`). Its own connection: it never holds one of the agent's.
   */
  events(filters: Record<string, string[]>, since: string, onEvent: (e: any) => void, onEnd: () => void): { close(): void } {
    let req: ClientRequest | undefined;
    let ended = false;
    const end = () => {
      if (!ended) {
        ended = true;
        onEnd();
      }
    };
    this.ensure().then(() => {
      if (ended) return;
      req = request({ socketPath: this.opts.socket, agent: false, method: 'GET', host: 'd', path: `${API}/events${query({ stream: true, since, filters })}` }, (res) => {
        createInterface({ input: res }).on('line', (line) => {
          try {
            onEvent(JSON.parse(line));
          } catch { /* not an event */ }
        }).on('error', end);
        res.on('close', end);
        res.on('error', end);
      });
      req.on('error', end);
      req.end();
    }, end);
    return { close: () => { ended = true; req?.destroy(); } };
  }

  /** Starts the service now, in the background: the first call then finds it (or its start under way). */
  warm(): void {
    this.ensure().catch(() => {});
  }

  /** The service answers, or is started (a dead one restarted; one a killed serve left, used on or replaced). */
  private ensure(): Promise<void> {
    if (this.starting) return this.starting;
    if (this.pid !== undefined) return Promise.resolve();
    if (this.closed) return Promise.reject(new Error('the podman runtime is closed'));
    this.starting = this.start().finally(() => { this.starting = undefined; });
    return this.starting;
  }

  private ping(): Promise<boolean> {
    return this.once('GET', `${API}/_ping`, undefined, 10_000).then((r) => r.status === 200, () => false);
  }

  private async start(): Promise<void> {
    const conf = confHash(this.opts.env.CONTAINERS_CONF);
    const left = readPidFile(this.opts.pidFile);
    if (left && isService(left.pid)) {
      if (left.conf === conf && await this.ping()) {
        this.pid = left.pid;
        return;
      }
      await stop(left.pid);
    }
    rmSync(this.opts.socket, { force: true });
    // Its own process group: a terminal's ^C to serve must not take it down before serve has finished with it. It
    // ends with serve all the same, even a killed one (setpriv's parent-death signal): none is left behind to find.
    const argv = [this.opts.bin, 'system', 'service', '--time=0', `unix://${this.opts.socket}`];
    const child = spawn(SETPRIV ?? argv[0], SETPRIV ? ['--pdeathsig', 'SIGTERM', '--', ...argv] : argv.slice(1), {
      env: this.opts.env, cwd: this.opts.cwd, stdio: ['ignore', 'ignore', 'pipe'], detached: true,
    });
    let stderr = '';
    child.stderr!.on('data', (b: Buffer) => { stderr = (stderr + b.toString('utf8')).slice(-2000); });
    child.unref();
    (child.stderr as unknown as { unref?: () => void }).unref?.();
    const exited = new Promise<never>((_, reject) => {
      child.once('error', (e) => reject(new Error(`podman system service: ${e.message}`)));
      child.once('exit', (code) => {
        if (this.pid === child.pid) this.pid = undefined; // the next call starts another
        reject(new Error(`podman system service exited (${code}): ${stderr.trim().split('\n').pop() ?? ''}`));
      });
    });
    exited.catch(() => {});
    if (child.pid) writeFileSync(this.opts.pidFile, `${child.pid}\n${conf}\n`);
    // Ready once it answers a ping: the socket file appears a little before it accepts.
    const deadline = Date.now() + 120_000;
    for (let wait = 20; ; wait = Math.min(wait * 2, 500)) {
      if (await Promise.race([this.ping(), exited])) {
        this.pid = child.pid;
        return;
      }
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`podman system service did not answer on ${this.opts.socket} within 120 s`);
      }
      await new Promise((r) => setTimeout(r, wait));
    }
  }

  /** Stops the service (containers run on under conmon: they never depended on it). */
  async close(): Promise<void> {
    this.closed = true;
    await this.starting?.catch(() => {});
    this.agent.destroy();
    const pid = this.pid;
    this.pid = undefined;
    if (pid === undefined) return;
    await stop(pid);
    if (readPidFile(this.opts.pidFile)?.pid === pid) rmSync(this.opts.pidFile, { force: true });
  }
}

/** util-linux's setpriv, for --pdeathsig (on every Debian system); without it a killed serve's service lingers until
 * the next serve on the folder or `convergit stop` replaces it. */
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));

const readPidFile = (file: string): { pid: number; conf: string } | undefined => {
  try {
    const [pid, conf] = readFileSync(file, 'utf8').split('\n');
    return Number(pid) > 0 ? { pid: Number(pid), conf: conf ?? '' } : undefined;
  } catch {
    return undefined;
  }
};

const confHash = (file: string | undefined): string => {
  try {
    return createHash('sha256').update(file ? readFileSync(file) : '').digest('hex').slice(0, 16);
  } catch {
    return '';
  }
};

/** Whether `pid` is (still) a podman service: the pid may have been reused since it was recorded. */
function isService(pid: number): boolean {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv.includes('system') && argv.includes('service');
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after 10 s; resolves once it is gone (on its way out it unlinks the socket's path). */
async function stop(pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  for (let i = 0; isService(pid); i++) {
    if (i === 200) process.kill(pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `?a=1&filters={…}`: objects as JSON, as libpod reads them. */
function query(q: Record<string, unknown> | undefined): string {
  if (!q) return '';
  const parts = Object.entries(q).filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${encodeURIComponent(typeof v === 'object' ? JSON.stringify(v) : String(v))}`);
  return parts.length ? `?${parts.join('&')}` : '';
}

/** libpod's error message of a failed call. */
export const apiError = (r: ApiResult): string =>
  (typeof r.body?.message === 'string' && r.body.message) || r.text.trim() || `podman API answered ${r.status}`;

/** A path segment: container, pod and network names and ids need no escaping; image references keep their slashes. */
export const seg = (s: string) => encodeURIComponent(s).replace(/%2F/g, '/').replace(/%3A/g, ':').replace(/%40/g, '@');
