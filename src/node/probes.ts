// One probe attempt, as the kubelet's prober makes it: httpGet, tcpSocket, exec or grpc, bounded by the probe's timeout.
import { request, type RequestOptions } from 'node:http';
import { connectToPod, podConnection, type PodNetwork } from '../netns/pod-network.ts';
import type { ContainerLaunch, Runtime } from './runtime/runtime.ts';
import { timerDelayMs } from './timer-delay.ts';

export interface HTTPHeader { name: string; value: string }

/** A container's probe as the Pod spec gives it (core/v1 Probe). */
export interface Probe {
  httpGet?: { path?: string; port: number | string; host?: string; scheme?: string; httpHeaders?: HTTPHeader[] };
  tcpSocket?: { port: number | string; host?: string };
  exec?: { command?: string[] };
  grpc?: { port: number; service?: string };
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  successThreshold?: number;
  failureThreshold?: number;
}

export interface ProbeContext {
  podIP: string;
  /** The container's declared ports, for named ports. */
  ports: { name?: string; containerPort: number }[];
  runtime: Runtime;
  launch: ContainerLaunch;
  /** Default: timeoutSeconds (1) × 1000. */
  timeoutMs?: number;
  /** Where the pods are, when not in this network namespace (rootless podman's): HTTP and TCP probes connect there. */
  podNetwork?: PodNetwork;
}

export interface ProbeResult { ok: boolean; message?: string }

/** Kubernetes' probes identify themselves so apps can tell them from users. */
const PROBE_USER_AGENT = 'kube-probe/convergit';
/** Body read of a failed HTTP probe, like the kubelet's 10 KiB. */
const MAX_BODY = 10 * 1024;

export async function probeOnce(probe: Probe, ctx: ProbeContext): Promise<ProbeResult> {
  // At most what a timer can wait: a preStop hook's time is the pod's grace, which may be a month.
  const timeoutMs = timerDelayMs(ctx.timeoutMs ?? (probe.timeoutSeconds ?? 1) * 1000);
  try {
    if (probe.exec) return await execProbe(probe.exec.command ?? [], ctx, timeoutMs);
    if (probe.httpGet) {
      const scheme = (probe.httpGet.scheme ?? 'HTTP').toUpperCase();
      if (scheme !== 'HTTP') return { ok: false, message: `scheme ${scheme} is not supported by convergit's prober (only HTTP)` };
      return await httpProbe(probe.httpGet, resolvePort(probe.httpGet.port, ctx), ctx, timeoutMs);
    }
    if (probe.tcpSocket) return await tcpProbe(probe.tcpSocket.host || ctx.podIP, resolvePort(probe.tcpSocket.port, ctx), timeoutMs, ctx.podNetwork);
    // Loaded on first use: every serve start loaded grpc-js (67 modules, ~4% of the import's samples) for the few pods with grpc probes.
    if (probe.grpc) return await (await import('./grpc-probe.ts')).grpcProbe(ctx.podIP, probe.grpc.port, probe.grpc.service ?? '', timeoutMs, ctx.podNetwork);
    return { ok: false, message: 'missing probe handler' };
  } catch (e) {
    return { ok: false, message: e instanceof Error ? e.message : String(e) };
  }
}

/** A port number, or the name of one of the container's ports (as kubelet's findPortByName). */
function resolvePort(port: number | string, ctx: ProbeContext): number {
  let n: number;
  if (typeof port === 'number' || /^\d+$/.test(port)) n = Number(port);
  else {
    const found = ctx.ports.find((p) => p.name === port);
    if (!found) throw new Error(`couldn't find port: ${port} in ${ctx.launch.id}`);
    n = found.containerPort;
  }
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`invalid port number: ${port}`);
  return n;
}

const hostPort = (host: string, port: number) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

/** Go's dial error text for a Node socket error: "dial tcp 127.1.0.5:8080: connect: connection refused". */
function dialError(addr: string, e: NodeJS.ErrnoException): string {
  const why: Record<string, string> = {
    ECONNREFUSED: 'connect: connection refused',
    EHOSTUNREACH: 'connect: no route to host',
    ENETUNREACH: 'connect: network is unreachable',
    EADDRNOTAVAIL: 'connect: cannot assign requested address',
    ECONNRESET: 'read: connection reset by peer',
  };
  return `dial tcp ${addr}: ${why[e.code ?? ''] ?? e.message}`;
}

function httpProbe(get: NonNullable<Probe['httpGet']>, port: number, ctx: ProbeContext, timeoutMs: number): Promise<ProbeResult> {
  const host = get.host || ctx.podIP;
  const path = get.path ? (get.path.startsWith('/') ? get.path : `/${get.path}`) : '/';
  const url = `http://${hostPort(host, port)}${path}`;
  const headers: Record<string, string> = { 'User-Agent': PROBE_USER_AGENT, Accept: '*/*' };
  for (const h of get.httpHeaders ?? []) headers[h.name] = h.value; // a Host header here is honoured too
  return new Promise((resolve) => {
    let connected = false;
    // Rootless podman: the connection is made in the pods' namespace (get.host, if given, is looked up there too).
    const via: RequestOptions = ctx.podNetwork ? { createConnection: podConnection(ctx.podNetwork, timeoutMs) as RequestOptions['createConnection'] } : { agent: false };
    const req = request({ host, port, path, method: 'GET', headers, ...via }, (res) => {
      const status = res.statusCode ?? 0;
      let read = 0;
      res.on('data', (b: Buffer) => {
        read += b.length;
        if (read > MAX_BODY) res.destroy(); // enough to decide; the status is what counts
      });
      const done = () => {
        clearTimeout(timer);
        resolve(status >= 200 && status < 400 ? { ok: true } : { ok: false, message: `HTTP probe failed with statuscode: ${status}` });
      };
      res.once('end', done);
      res.once('close', done);
    });
    const timer = setTimeout(() => {
      const phase = connected ? 'Client.Timeout exceeded while awaiting headers' : 'Client.Timeout exceeded while dialing';
      resolve({ ok: false, message: `Get ${JSON.stringify(url)}: context deadline exceeded (${phase})` });
      req.destroy();
    }, timeoutMs);
    req.once('socket', (s) => {
      if (ctx.podNetwork) connected = true; // handed over connected
      else s.once('connect', () => { connected = true; });
    });
    req.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ ok: false, message: `Get ${JSON.stringify(url)}: ${connected ? e.message : dialError(hostPort(host, port), e)}` });
    });
    req.end();
  });
}

function tcpProbe(host: string, port: number, timeoutMs: number, pods: PodNetwork | undefined): Promise<ProbeResult> {
  const addr = hostPort(host, port);
  return connectToPod(pods, host, port, timeoutMs).then((socket) => {
    socket.destroy(); // kubelet only checks that a connection opens
    return { ok: true };
  }, (e: NodeJS.ErrnoException) => ({ ok: false, message: e.code === 'ETIMEDOUT' ? `dial tcp ${addr}: i/o timeout` : dialError(addr, e) }));
}

async function execProbe(command: string[], ctx: ProbeContext, timeoutMs: number): Promise<ProbeResult> {
  const r = await ctx.runtime.exec(ctx.launch, command, timeoutMs);
  if (r.timedOut) return { ok: false, message: `command ${JSON.stringify(command.join(' '))} timed out` };
  if (r.exitCode === 0) return { ok: true };
  // The kubelet reports the command's output; without any, say how it ended.
  return { ok: false, message: r.output.trim() || `command ${JSON.stringify(command.join(' '))} exited with ${r.exitCode}` };
}
