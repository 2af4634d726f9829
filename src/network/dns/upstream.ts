// Names outside the cluster zone go to the host's resolvers (CoreDNS's `forward . /etc/resolv.conf`): the query's
// bytes as they came, over UDP, to each nameserver in turn until one answers. Undefined when none does: the server
// answers SERVFAIL. An unreachable network fails at once (ENETUNREACH), a silent server after its timeout.
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';

export interface Upstream {
  /** The reply to `query` (a whole DNS message) from the first nameserver that gives one. */
  forward(query: Buffer): Promise<Buffer | undefined>;
}

export interface Nameserver { host: string; port?: number }

export function upstream(nameservers: Nameserver[], timeoutMs = 2000): Upstream {
  return {
    async forward(query) {
      for (const ns of nameservers) {
        const reply = await ask(ns.host, ns.port ?? 53, query, timeoutMs);
        if (reply) return reply;
      }
      return undefined;
    },
  };
}

function ask(host: string, port: number, query: Buffer, timeoutMs: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket(isIPv6(host) ? 'udp6' : 'udp4');
    const done = (b?: Buffer) => {
      clearTimeout(timer);
      socket.close();
      resolve(b);
    };
    const timer = setTimeout(() => done(), timeoutMs);
    // Only the reply to this query (same id): a late answer to an earlier one is not it.
    socket.on('message', (msg) => { if (msg.length >= 2 && msg.readUInt16BE(0) === query.readUInt16BE(0)) done(msg); });
    socket.on('error', () => done());
    socket.send(query, port, host, (err) => { if (err) done(); });
  });
}
