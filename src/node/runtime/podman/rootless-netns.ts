// Rootless podman's pods sit on bridges inside podman's "rootless network namespace" (one per user, reached through
// slirp4netns), which the host cannot route to. Serve stays in the host's namespace (its API, NodePorts, Ingress,
// git and registries are there) and gets its sockets on the pods' side from a helper: a small node process that
// `podman unshare --rootless-netns` starts inside that namespace, connected to serve by node's IPC channel, which
// carries real sockets (SCM_RIGHTS). The helper makes a listener, a UDP socket or a connection there and hands it
// over; serve then uses it as its own, with no copy through the helper. The helper is also root of podman's user
// namespace, so it can make the service CIDR local there (`ip route add local`), as serve does on the host when
// rootful. An anchor pod (no containers, on a bridge of its own) keeps the namespace alive while no pod runs:
// podman removes it with its last user, and the helper's listeners would then be in a namespace no new pod joins.
import { spawn, type ChildProcess } from 'node:child_process';
import type dgram from 'node:dgram';
import type net from 'node:net';
import { podman, podmanError, type PodmanCli } from './cli.ts';
import type { PodNetwork } from '../../../netns/pod-network.ts';

/** The helper, run with `node -e` (no loader, no file): one request → one reply, with the socket as its handle. */
const HELPER = String.raw`
const net = require('node:net'), dgram = require('node:dgram'), { execFile } = require('node:child_process');
const reply = (id, err, handle) => process.send(err ? { id, error: err.code || 'ERROR', message: err.message } : { id }, handle, () => {
  if (handle && handle.close && !(handle instanceof net.Socket)) handle.close(); // serve has its own copy now
});
process.on('disconnect', () => process.exit(0));
process.on('message', (m) => {
  if (m.op === 'listen') {
    const s = net.createServer();
    s.once('error', (e) => reply(m.id, e));
    s.listen({ host: m.host, port: m.port, exclusive: true }, () => reply(m.id, null, s));
  } else if (m.op === 'udp') {
    const s = dgram.createSocket('udp4');
    s.once('error', (e) => reply(m.id, e));
    s.bind({ address: m.host, port: m.port, exclusive: true }, () => reply(m.id, null, s));
  } else if (m.op === 'connect') {
    const s = net.connect({ host: m.host, port: m.port });
    s.pause(); // nothing is read here: every byte is serve's
    const t = setTimeout(() => s.destroy(Object.assign(new Error('connect timeout after ' + m.timeoutMs + ' ms'), { code: 'ETIMEDOUT' })), m.timeoutMs);
    s.once('connect', () => { clearTimeout(t); reply(m.id, null, s); });
    s.once('error', (e) => { clearTimeout(t); reply(m.id, e); });
  } else if (m.op === 'route') {
    execFile('ip', ['route', 'replace', 'local', m.cidr, 'dev', 'lo'], (e, _o, err) => reply(m.id, e && Object.assign(new Error(String(err).trim() || e.message), { code: 'EROUTE' })));
  }
});
process.send({ ready: true });
`;

/** In the helper's argv (after the script, so node ignores it): how `ps`, and the tests, tell it. */
export const HELPER_MARK = 'convergit-rootless-netns';

interface Reply { id?: number; ready?: boolean; error?: string; message?: string }

const BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 30_000;
/** A helper that ran this long before it died starts again at once (the back-off is reset). */
const RESET_AFTER_MS = 60_000;
/** How long a request other than a connect (which has its own timeout) waits for a helper started again. */
const WAIT_MS = 60_000;

export class RootlessNetns implements PodNetwork {
  private child?: ChildProcess;
  private next = 1;
  private readonly waiting = new Map<number, (r: Reply, handle: unknown) => void>();
  private closed = false;
  /** Resolved when a helper is up; replaced by a pending one while it is being started again. */
  private up: Promise<void> = Promise.resolve();
  private markUp: () => void = () => {};
  private backoffMs = BACKOFF_MS;
  private restartTimer?: NodeJS.Timeout;
  /** Routes asked for, put back in the namespace by a helper started again (a new namespace has none). */
  private readonly routes = new Set<string>();
  /** Each helper's exit. */
  private readonly exits = new WeakMap<ChildProcess, Promise<void>>();
  /** Helpers started so far (the first included). */
  starts = 0;

  constructor(private readonly cli: PodmanCli, private readonly instance: string, private readonly labels: string[], private readonly log: (m: string) => void) {}

  get anchorName(): string {
    return `convergit-${this.instance}-netns`;
  }

  /** The pid of the helper's `podman unshare` (node runs under it), for tests; undefined while none runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Makes sure the anchor pod runs, then starts the helper in the namespace and waits for it. */
  async start(): Promise<void> {
    await this.launch();
  }

  private async launch(): Promise<void> {
    await this.ensureAnchor();
    const child = spawn(this.cli.bin, ['unshare', '--rootless-netns', process.execPath, '-e', HELPER, HELPER_MARK, this.instance], {
      env: this.cli.env, cwd: this.cli.cwd, stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    child.stderr!.on('data', (d) => { stderr = (stderr + d).slice(-2000); });
    child.on('message', (m: Reply, handle: unknown) => {
      if (m.id === undefined) return;
      const w = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      w?.(m, handle);
    });
    // Without a listener a failed send (EPIPE, the helper gone) would be an uncaught 'error' that ends serve.
    child.on('error', () => {});
    await new Promise<void>((resolve, reject) => {
      const onReady = (m: Reply) => { if (m.ready) { child.off('message', onReady); resolve(); } };
      child.on('message', onReady);
      child.once('exit', (code, signal) => reject(new Error(`the rootless network helper exited (${code ?? signal}): ${stderr.trim().split('\n').pop() ?? ''}`)));
      child.once('error', reject);
    });
    const startedAt = Date.now();
    this.exits.set(child, new Promise((r) => child.once('exit', () => r())));
    this.child = child;
    this.starts++;
    child.once('exit', (code, signal) => {
      // Requests sent to it get no answer now: they fail here, and `ask` asks them again of the next helper.
      for (const w of this.waiting.values()) w({ error: 'EHELPER', message: 'the rootless network helper has exited' }, undefined);
      this.waiting.clear();
      if (this.child !== child || this.closed) return;
      this.child = undefined;
      if (Date.now() - startedAt >= RESET_AFTER_MS) this.backoffMs = BACKOFF_MS;
      this.up = new Promise((r) => { this.markUp = r; });
      this.log(`network: the helper in podman's rootless network namespace exited (${code ?? signal}); starting it again in ${this.backoffMs / 1000} s (new connections to pods wait for it)`);
      this.restartLater();
    });
  }

  /** Starts the helper again after the back-off, and again (longer) if that fails. */
  private restartLater(): void {
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
    this.restartTimer = setTimeout(() => {
      void (async () => {
        if (this.closed) return;
        try {
          await this.launch();
          for (const cidr of this.routes) await this.send({ op: 'route', cidr });
        } catch (e) {
          if (this.closed) return;
          // Started but the route failed: that helper goes too (its exit is not a new one to supervise).
          const started = this.child;
          this.child = undefined;
          if (started?.connected) started.disconnect();
          this.log(`network: starting the rootless network helper again failed (${(e as Error).message}); next try in ${this.backoffMs / 1000} s`);
          this.restartLater();
          return;
        }
        if (this.closed) return this.close();
        this.log(`network: the rootless network helper runs again (pid ${this.child?.pid}); pods are reachable`);
        this.markUp();
      })();
    }, delay);
    this.restartTimer.unref();
  }

  /** The anchor: a pod whose infra holds the rootless namespace, on a bridge of its own (podman picks the subnet). */
  private async ensureAnchor(): Promise<void> {
    const name = this.anchorName;
    // An anchor that exists is never replaced: removing it can make podman drop the rootless namespace the running
    // pods are in, and the helper would start in a new, empty one (the pods unreachable after a restart of serve).
    const state = await podman(this.cli, ['pod', 'inspect', '--format', '{{.State}}', name]);
    if (state.code === 0) {
      if (state.stdout.trim() === 'Running') return;
      const started = await podman(this.cli, ['pod', 'start', name]);
      if (started.code === 0) return;
      throw new Error(`starting the anchor pod: ${podmanError(started)}`);
    }
    if (!/no such pod/i.test(state.stderr)) throw new Error(`inspecting the anchor pod: ${podmanError(state)}`);
    if ((await podman(this.cli, ['network', 'exists', name])).code !== 0) {
      const r = await podman(this.cli, ['network', 'create', '--disable-dns', ...this.labels.flatMap((l) => ['--label', l]), name]);
      if (r.code !== 0 && (await podman(this.cli, ['network', 'exists', name])).code !== 0) throw new Error(`creating the anchor bridge: ${podmanError(r)}`);
    }
    const c = await podman(this.cli, ['pod', 'create', '--replace', '--name', name, ...this.labels.flatMap((l) => ['--label', l]), '--network', name]);
    if (c.code !== 0) throw new Error(`creating the anchor pod: ${podmanError(c)}`);
    const s = await podman(this.cli, ['pod', 'start', name]);
    if (s.code !== 0) throw new Error(`starting the anchor pod: ${podmanError(s)}`);
  }

  /**
   * A request to the helper. One that dies under it (the request lost, or its answer) is asked again of the helper
   * started after it, as is one made while none runs: both wait for it, until `waitMs` has passed.
   */
  private async ask<T>(msg: Record<string, unknown> | ((leftMs: number) => Record<string, unknown>), waitMs = WAIT_MS): Promise<T> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      if (!this.child && !this.closed) await this.until(this.up, deadline);
      const child = this.child;
      try {
        return await this.send<T>(typeof msg === 'function' ? msg(Math.max(1, deadline - Date.now())) : msg);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EHELPER' || this.closed || !child || Date.now() >= deadline) throw e;
        // Its exit is seen on a later turn: until then it is still the current helper.
        await this.until(this.exits.get(child) ?? Promise.resolve(), deadline);
        if (this.child === child) throw e;
      }
    }
  }

  /** Resolves when `p` does or at `deadline`, whichever is first. */
  private async until(p: Promise<unknown>, deadline: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([p, new Promise((r) => { timer = setTimeout(r, Math.max(0, deadline - Date.now())); })]);
    clearTimeout(timer);
  }

  private send<T>(msg: Record<string, unknown>): Promise<T> {
    const child = this.child;
    if (!child || this.closed) return Promise.reject(Object.assign(new Error('the rootless network helper is not running'), { code: 'EHELPER' }));
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, (r, handle) => {
        if (r.error) reject(Object.assign(new Error(r.message ?? r.error), { code: r.error }));
        else resolve(handle as T);
      });
      // With a callback a failed send (the helper died, its exit not seen yet: EPIPE) is this request's error.
      child.send({ ...msg, id }, (err) => {
        if (!err || !this.waiting.delete(id)) return;
        reject(Object.assign(new Error(`the rootless network helper is gone: ${err.message}`), { code: 'EHELPER' }));
      });
    });
  }

  listen(host: string, port: number): Promise<net.Server> {
    return this.ask({ op: 'listen', host, port });
  }

  udp(host: string, port: number): Promise<dgram.Socket> {
    return this.ask({ op: 'udp', host, port });
  }

  /** A connection made in the namespace; waiting for a helper started again counts in `timeoutMs`. */
  async connect(host: string, port: number, timeoutMs: number): Promise<net.Socket> {
    try {
      return await this.ask<net.Socket>((leftMs) => ({ op: 'connect', host, port, timeoutMs: leftMs }), timeoutMs);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EHELPER' || this.closed) throw e;
      throw Object.assign(new Error(`connect timeout after ${timeoutMs} ms: the rootless network helper is starting again`), { code: 'ETIMEDOUT' });
    }
  }

  /** `ip route replace local <cidr> dev lo` in the namespace: every ClusterIP is then an address to listen on. */
  async localRoute(cidr: string): Promise<void> {
    await this.ask({ op: 'route', cidr });
    this.routes.add(cidr);
  }

  /** Stops the helper (what it handed over stays open in serve); the anchor stays for the pods that coast. */
  close(): void {
    this.closed = true;
    clearTimeout(this.restartTimer);
    this.markUp();
    const child = this.child;
    this.child = undefined;
    // Not `exitCode === null`: a helper killed by a signal has none, and its channel is closed already.
    if (child?.connected) child.disconnect();
  }
}
