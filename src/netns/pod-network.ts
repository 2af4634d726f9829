// Where sockets to and from the pods' network are made. Normally that is this process's own network namespace (the
// host's): pod addresses are routed from it. With rootless podman the pods' bridges live in podman's rootless
// network namespace, which the host cannot route to; there a helper process inside that namespace makes the sockets
// and hands them to serve (node/runtime/podman/rootless-netns.ts), and this module is how the proxy, the cluster
// DNS, the probes and the ingress ask for them without knowing which case they are in. Which case is passed in:
// serve's wiring (cli/engine.ts) gives each of them the `PodNetwork` in their options, undefined meaning here.
import dgram from 'node:dgram';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PodNetwork {
  /** A listening TCP server on host:port in the pods' namespace, to be taken over with `server.listen(handle)`. */
  listen(host: string, port: number): Promise<net.Server>;
  /** A UDP socket bound to host:port in the pods' namespace. */
  udp(host: string, port: number): Promise<dgram.Socket>;
  /** A TCP connection to host:port made in the pods' namespace; rejects with the connect error (its `code`). */
  connect(host: string, port: number, timeoutMs: number): Promise<net.Socket>;
}

/** `server.listen({host, port})`, in the pods' namespace when it is not this one; 'listening' or 'error' as ever. */
export function listenForPods(pods: PodNetwork | undefined, server: net.Server, opts: { host: string; port: number; exclusive?: boolean }): void {
  if (!pods) {
    server.listen(opts);
    return;
  }
  // The handle arrives later: a server closed meanwhile (a Service removed while its port was opening) must not
  // start listening on it then, or the port stays bound in the pods' namespace with nobody to close it.
  let closed = false;
  const onClose = () => { closed = true; };
  server.once('close', onClose);
  pods.listen(opts.host, opts.port).then((taken) => {
    server.off('close', onClose);
    if (closed) taken.close();
    else server.listen(taken);
  }, (e) => {
    server.off('close', onClose);
    if (!closed) server.emit('error', e);
  });
}

/** A UDP socket bound to host:port where pods reach it. */
export async function bindUdpForPods(pods: PodNetwork | undefined, host: string, port: number): Promise<dgram.Socket> {
  if (pods) return pods.udp(host, port);
  const udp = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    udp.once('error', (e) => { udp.close(); reject(e); });
    udp.bind({ address: host, port, exclusive: true }, () => { udp.removeAllListeners('error'); resolve(); });
  });
  return udp;
}

/** A connected socket to a pod's address; rejects as net.connect's 'error' would (or on the timeout). */
export function connectToPod(pods: PodNetwork | undefined, host: string, port: number, timeoutMs: number): Promise<net.Socket> {
  if (pods) return pods.connect(host, port, timeoutMs);
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port });
    const timer = setTimeout(() => s.destroy(Object.assign(new Error(`connect timeout after ${timeoutMs} ms`), { code: 'ETIMEDOUT' })), timeoutMs);
    s.once('connect', () => { clearTimeout(timer); resolve(s); });
    s.once('error', (e) => { clearTimeout(timer); reject(e); });
  });
}

/** For http.request's `createConnection` (probes, the ingress's agent): the socket comes from the pods' namespace. */
export function podConnection(pods: PodNetwork, timeoutMs: number) {
  return (opts: { host?: string; port?: number | string }, cb: (err: Error | null, s?: net.Socket) => void): undefined => {
    connectToPod(pods, String(opts.host ?? 'localhost'), Number(opts.port ?? 80), timeoutMs).then((s) => cb(null, s), (e) => cb(e));
    return undefined;
  };
}

/**
 * For a client that dials by itself and takes no socket (grpc-js): a unix socket, in a folder only this user can
 * enter, whose connections are relayed to host:port in the pods' namespace (`connectToPod`). `target` is what to dial
 * (`unix:<path>`); `close` removes it. Used only when the pods' network is elsewhere (rootless podman).
 */
export async function podRelay(pods: PodNetwork, host: string, port: number, timeoutMs: number): Promise<{ target: string; close(): void }> {
  const dir = await mkdtemp(join(tmpdir(), 'convergit-relay-'));
  const socketPath = join(dir, 's');
  const open = new Set<net.Socket>();
  const server = net.createServer((client) => {
    open.add(client);
    client.pause();
    client.on('error', () => {});
    connectToPod(pods, host, port, timeoutMs).then((upstream) => {
      open.add(upstream);
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
      client.pipe(upstream).pipe(client);
      client.resume();
      upstream.resume();
    }, () => client.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  return {
    target: `unix:${socketPath}`,
    close: () => {
      server.close();
      for (const s of open) s.destroy();
      void rm(dir, { recursive: true, force: true });
    },
  };
}
