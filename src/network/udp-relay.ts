// One UDP Service port: datagrams from each client address go to one backend through a socket of their own (the
// client's "connection"), and that socket's replies go back to the client from the Service's address, as
// kube-proxy's userspace mode did (its ClientCache, closed after --udp-timeout of silence, 250ms by default). A
// client whose backend has left the endpoints is moved to a ready one on its next datagram (kube-proxy clears the
// stale conntrack entries for the same reason); the old socket stays open for late replies until it is idle.
import dgram from 'node:dgram';
import type { Backend } from './endpoint-picker.ts';

export interface UdpRelayOptions {
  /** kube-proxy's --udp-timeout. Default 250. */
  idleTimeoutMs?: number;
  /** Ready backends for a new client, the one to use first (UDP cannot tell a refusal, so only it is used). */
  pick(): Backend[];
  /** Whether a backend is still among the ready ones. */
  ready(b: Backend): boolean;
  /** A fresh socket where pods are reached (here, or in rootless podman's namespace). */
  upstream(): Promise<dgram.Socket>;
  /** A client's flow to a backend opened; the function returned is called when it closes (the drain counts them). */
  onFlow?(b: Backend): () => void;
  log(m: string): void;
  /** For log lines, e.g. `default/dns:dns`. */
  what: string;
}

interface Flow {
  /** The client, `ip:port`. */
  key: string;
  backend: Backend;
  socket?: dgram.Socket;
  /** Datagrams that came while the socket was being made. */
  queued: Buffer[];
  timer?: NodeJS.Timeout;
  closed: boolean;
  onClose?: () => void;
}

export interface UdpRelay {
  /** Client flows open now. */
  flows(): number;
  /** Closes every flow (the front socket is the caller's). */
  close(): void;
}

export function udpRelay(front: dgram.Socket, opts: UdpRelayOptions): UdpRelay {
  const idleMs = opts.idleTimeoutMs ?? 250;
  /** The current flow of each client (`ip:port`). */
  const current = new Map<string, Flow>();
  const all = new Set<Flow>();
  let closed = false;
  let warnedNone = false;

  const end = (f: Flow) => {
    if (f.closed) return;
    f.closed = true;
    clearTimeout(f.timer);
    try { f.socket?.close(); } catch { /* closed already */ }
    all.delete(f);
    f.onClose?.();
  };
  const touch = (f: Flow) => {
    clearTimeout(f.timer);
    f.timer = setTimeout(() => {
      if (current.get(f.key) === f) current.delete(f.key);
      end(f);
    }, idleMs);
  };

  front.on('message', (msg, client) => {
    if (closed) return;
    const key = `${client.address}:${client.port}`;
    let f = current.get(key);
    if (f && !opts.ready(f.backend)) {
      current.delete(key); // left service: replies still come back until it is quiet, new datagrams go elsewhere
      f = undefined;
    }
    if (!f) {
      const b = opts.pick()[0];
      if (!b) {
        if (!warnedNone) opts.log(`${opts.what}: no ready endpoints; dropping UDP datagrams`);
        warnedNone = true;
        return;
      }
      warnedNone = false;
      const flow: Flow = { key, backend: b, queued: [msg], closed: false };
      f = flow;
      current.set(key, flow);
      all.add(flow);
      flow.onClose = opts.onFlow?.(b);
      opts.upstream().then((s) => new Promise<dgram.Socket>((resolve, reject) => {
        s.once('error', reject);
        s.connect(b.port, b.ip, () => { s.off('error', reject); resolve(s); });
      }).catch((e) => { try { s.close(); } catch { /* gone */ } throw e; })).then((s) => {
        if (flow.closed || closed) return void s.close();
        flow.socket = s;
        // ICMP port unreachable comes back as ECONNREFUSED on a connected socket: the flow ends, the next datagram
        // picks again.
        s.on('error', (e) => {
          opts.log(`${opts.what}: endpoint ${b.ip}:${b.port}: ${e.message}`);
          if (current.get(key) === flow) current.delete(key);
          end(flow);
        });
        s.on('message', (reply) => {
          touch(flow);
          front.send(reply, client.port, client.address);
        });
        for (const m of flow.queued.splice(0)) s.send(m);
      }, (e: Error) => {
        opts.log(`${opts.what}: a socket to ${b.ip}:${b.port} failed: ${e.message}`);
        if (current.get(key) === flow) current.delete(key);
        end(flow);
      });
    } else if (f.socket) f.socket.send(msg);
    else f.queued.push(msg);
    touch(f);
  });

  return {
    flows: () => all.size,
    close() {
      closed = true;
      for (const f of [...all]) end(f);
      current.clear();
    },
  };
}

/** A UDP socket bound to address:port here (the host's namespace), as `server.listen` would bind a TCP one. */
export function bindUdp(address: string, port: number): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  return new Promise((resolve, reject) => {
    s.once('error', (e) => { s.close(); reject(e); });
    s.bind({ address, port, exclusive: true }, () => { s.removeAllListeners('error'); resolve(s); });
  });
}
