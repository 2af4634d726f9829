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

interface Reply { id?: number; ready?: boolean; error?: string; message?: string }

export class RootlessNetns implements PodNetwork {
  private child?: ChildProcess;
  private next = 1;
  private readonly waiting = new Map<number, (r: Reply, handle: unknown) => void>();
  private exited = false;

  constructor(private readonly cli: PodmanCli, private readonly instance: string, private readonly label: string, private readonly log: (m: string) => void) {}

  get anchorName(): string {
    return `convergit-${this.instance}-netns`;
  }

  /** Makes sure the anchor pod runs, then starts the helper in the namespace and waits for it. */
  async start(): Promise<void> {
    await this.ensureAnchor();
    const child = spawn(this.cli.bin, ['unshare', '--rootless-netns', process.execPath, '-e', HELPER], {
      env: this.cli.env, cwd: this.cli.cwd, stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    this.child = child;
    let stderr = '';
    child.stderr!.on('data', (d) => { stderr += d; });
    child.on('message', (m: Reply, handle: unknown) => {
      if (m.id === undefined) return;
      const w = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      w?.(m, handle);
    });
    await new Promise<void>((resolve, reject) => {
      const onReady = (m: Reply) => { if (m.ready) { child.off('message', onReady); resolve(); } };
      child.on('message', onReady);
      child.once('exit', (code) => reject(new Error(`the rootless network helper exited (${code}): ${stderr.trim().split('\n').pop() ?? ''}`)));
      child.once('error', reject);
    });
    child.once('exit', (code) => {
      this.exited = true;
      for (const w of this.waiting.values()) w({ error: 'EHELPER', message: 'the rootless network helper has exited' }, undefined);
      this.waiting.clear();
      if (this.child === child) this.log(`network: the helper in podman's rootless network namespace exited (${code}); pods can no longer be reached until serve restarts`);
    });
  }

  /** The anchor: a pod whose infra holds the rootless namespace, on a bridge of its own (podman picks the subnet). */
  private async ensureAnchor(): Promise<void> {
    const name = this.anchorName;
    const running = await podman(this.cli, ['pod', 'ps', '--filter', `name=^${name}$`, '--filter', 'status=running', '-q']);
    if (running.code === 0 && running.stdout.trim()) return;
    if ((await podman(this.cli, ['network', 'exists', name])).code !== 0) {
      const r = await podman(this.cli, ['network', 'create', '--disable-dns', '--label', this.label, name]);
      if (r.code !== 0 && (await podman(this.cli, ['network', 'exists', name])).code !== 0) throw new Error(`creating the anchor bridge: ${podmanError(r)}`);
    }
    const c = await podman(this.cli, ['pod', 'create', '--replace', '--name', name, '--label', this.label, '--network', name]);
    if (c.code !== 0) throw new Error(`creating the anchor pod: ${podmanError(c)}`);
    const s = await podman(this.cli, ['pod', 'start', name]);
    if (s.code !== 0) throw new Error(`starting the anchor pod: ${podmanError(s)}`);
  }

  private ask<T>(msg: Record<string, unknown>): Promise<T> {
    if (this.exited || !this.child) return Promise.reject(Object.assign(new Error('the rootless network helper is not running'), { code: 'EHELPER' }));
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, (r, handle) => {
        if (r.error) reject(Object.assign(new Error(r.message ?? r.error), { code: r.error }));
        else resolve(handle as T);
      });
      // With a callback a failed send (the helper died, its exit not seen yet: EPIPE) is this request's error, not
      // an 'error' event on the child, which nothing listens to after start and which would end serve.
      this.child!.send({ ...msg, id }, (err) => {
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

  async connect(host: string, port: number, timeoutMs: number): Promise<net.Socket> {
    const s = await this.ask<net.Socket>({ op: 'connect', host, port, timeoutMs });
    return s;
  }

  /** `ip route replace local <cidr> dev lo` in the namespace: every ClusterIP is then an address to listen on. */
  async localRoute(cidr: string): Promise<void> {
    await this.ask({ op: 'route', cidr });
  }

  /** Stops the helper (what it handed over stays open in serve); the anchor stays for the pods that coast. */
  close(): void {
    const child = this.child;
    this.child = undefined;
    // Not `exitCode === null`: a helper killed by a signal has none, and its channel is closed already.
    if (child?.connected) child.disconnect();
  }
}
