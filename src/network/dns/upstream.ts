// Names outside the cluster zone go to the host's resolvers (CoreDNS's `forward . /etc/resolv.conf`): the query's
// bytes as they came, over the client's protocol (UDP, or TCP, where a client comes back after a truncated reply),
// to each nameserver in turn until one answers. Undefined when none does: the server
// answers SERVFAIL. An unreachable network fails at once (ENETUNREACH), a silent server after its timeout.
import dgram from 'node:dgram';
import net, { isIPv6 } from 'node:net';

export interface Upstream {
  /** The reply to `query` (a whole DNS message) from the first nameserver that gives one. */
  forward(query: Buffer, tcp?: boolean): Promise<Buffer | undefined>;
}

export interface Nameserver { host: string; port?: number }

export function upstream(nameservers: Nameserver[], timeoutMs = 2000): Upstream {
  return {
    async forward(query, tcp = false) {
      for (const ns of nameservers) {
        const reply = await (tcp ? askTcp : ask)(ns.host, ns.port ?? 53, query, timeoutMs);
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

function askTcp(host: string, port: number, query: Buffer, timeoutMs: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let buf = Buffer.alloc(0);
    const done = (b?: Buffer) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(b);
    };
    const timer = setTimeout(() => done(), timeoutMs);
    const len = Buffer.alloc(2);
    len.writeUInt16BE(query.length);
    socket.on('connect', () => socket.write(Buffer.concat([len, query])));
    socket.on('data', (c) => {
      buf = Buffer.concat([buf, c]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) done(buf.subarray(2, 2 + buf.readUInt16BE(0)));
    });
    socket.on('error', () => done());
    socket.on('close', () => done());
  });
}
