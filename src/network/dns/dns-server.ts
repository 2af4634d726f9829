// A DNS server on one address and port, over UDP and TCP (RFC 1035 4.2; TCP messages carry a 2-byte length): the
// cluster zone answered from the objects, every other name forwarded. Messages are read and written with
// dns-packet; a message it cannot read gets FORMERR when its id can be read, else nothing.
import type dgram from 'node:dgram';
import net, { type Socket } from 'node:net';
import * as dns from 'dns-packet';
import { answerInZone, type ClusterView } from './cluster-zone.ts';
import type { Upstream } from './upstream.ts';
import { bindUdpForPods, listenForPods, type PodNetwork } from '../../netns/pod-network.ts';

export interface DnsServerOptions {
  address: string;
  /** 0: any free port (the same for UDP and TCP). */
  port: number;
  zone: string;
  view: ClusterView;
  upstream: Upstream;
  log?: (m: string) => void;
  /** Where the pods are, when not in this network namespace (rootless podman's): the server listens there. */
  podNetwork?: PodNetwork;
}

export interface DnsServer {
  address: string;
  port: number;
  close(): Promise<void>;
}

const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4 } as const;
/** The largest UDP reply without EDNS (RFC 1035 4.2.1); past it the reply is truncated and the client retries on TCP. */
const UDP_MAX = 512;

/** The reply to one query message, or undefined when nothing can be said (not even its id). */
export async function reply(query: Buffer, o: Pick<DnsServerOptions, 'zone' | 'view' | 'upstream'>, udp: boolean): Promise<Buffer | undefined> {
  let q: dns.DecodedPacket;
  try {
    q = dns.decode(query);
  } catch {
    return query.length >= 2 ? header(query.readUInt16BE(0), RCODE.FORMERR) : undefined;
  }
  const rd = (q.flags ?? 0) & dns.RECURSION_DESIRED;
  const base = { type: 'response' as const, id: q.id, questions: q.questions };
  const question = q.questions?.[0];
  if (q.type !== 'query' || q.questions?.length !== 1 || !question) {
    return dns.encode({ ...base, flags: rd | dns.RECURSION_AVAILABLE | RCODE.FORMERR });
  }
  const local = answerInZone(question, o.view, o.zone);
  if (!local) {
    const forwarded = await o.upstream.forward(query, !udp);
    return forwarded ?? dns.encode({ ...base, flags: rd | dns.RECURSION_AVAILABLE | RCODE.SERVFAIL });
  }
  // An ExternalName's CNAME is followed, as CoreDNS does: stub resolvers (glibc, musl) do not chase it themselves.
  const cname = local.answers.find((a): a is dns.StringAnswer => a.type === 'CNAME');
  if (cname && question.type !== 'CNAME') local.answers.push(...await follow(String(cname.data), question.type, o));
  const flags = dns.AUTHORITATIVE_ANSWER | rd | dns.RECURSION_AVAILABLE | RCODE[local.rcode];
  const full = { ...base, flags, answers: local.answers, authorities: local.authorities, additionals: local.additionals };
  const out = dns.encode(full);
  if (!udp || out.length <= UDP_MAX) return out;
  // Too big for UDP: as many answers as fit, flagged truncated.
  let answers = local.answers;
  let small: Buffer;
  do {
    answers = answers.slice(0, Math.max(0, answers.length - 1));
    small = dns.encode({ ...base, flags: flags | dns.TRUNCATED_RESPONSE, answers });
  } while (small.length > UDP_MAX && answers.length);
  return small;
}

/** The records of `name` (outside the zone) for `type`, from the upstream; none when it does not answer. */
async function follow(name: string, type: dns.RecordType, o: Pick<DnsServerOptions, 'zone' | 'view' | 'upstream'>): Promise<dns.Answer[]> {
  const inZone = answerInZone({ name, type }, o.view, o.zone);
  if (inZone) return inZone.answers.filter((a) => a.type !== 'CNAME');
  const query = dns.encode({ type: 'query', id: Math.floor(Math.random() * 65536), flags: dns.RECURSION_DESIRED, questions: [{ name, type }] });
  const r = await o.upstream.forward(query);
  if (!r) return [];
  try {
    return dns.decode(r).answers ?? [];
  } catch {
    return [];
  }
}

function header(id: number, rcode: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt16BE(id, 0);
  b.writeUInt16BE(0x8000 | rcode, 2);
  return b;
}

export async function startDnsServer(o: DnsServerOptions): Promise<DnsServer> {
  // Port 0: UDP picks a free port, TCP must then take the same number, which a TCP socket may already hold.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOn(o);
    } catch (e) {
      if (o.port !== 0 || (e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 20) throw e;
    }
  }
}

async function startOn(o: DnsServerOptions): Promise<DnsServer> {
  const log = o.log ?? (() => {});
  // Where pods reach it: here, or in rootless podman's network namespace (netns/pod-network.ts).
  const udp: dgram.Socket = await bindUdpForPods(o.podNetwork, o.address, o.port);
  const port = udp.address().port;
  udp.on('error', (e) => log(`udp ${o.address}:${port}: ${e.message}`));
  udp.on('message', (msg, from) => {
    reply(msg, o, true).then((r) => { if (r) udp.send(r, from.port, from.address); }, (e) => log(`answering: ${e?.message ?? e}`));
  });

  const sockets = new Set<Socket>();
  const tcp = net.createServer((s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    s.on('error', () => {});
    s.setTimeout(10_000, () => s.destroy()); // an idle client lets go of its slot
    let buf = Buffer.alloc(0);
    s.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      // Every whole message in the buffer; replies may go out of order, as RFC 7766 allows.
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + msg.length);
        reply(Buffer.from(msg), o, false).then((r) => {
          if (!r || s.destroyed) return;
          const len = Buffer.alloc(2);
          len.writeUInt16BE(r.length);
          s.write(Buffer.concat([len, r]));
        }, (e) => log(`answering: ${e?.message ?? e}`));
      }
    });
  });
  try {
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.once('listening', () => { tcp.off('error', reject); resolve(); });
      listenForPods(o.podNetwork, tcp, { host: o.address, port, exclusive: true });
    });
  } catch (e) {
    udp.close();
    throw e;
  }
  tcp.on('error', (e) => log(`tcp ${o.address}:${port}: ${e.message}`));
  return {
    address: o.address,
    port,
    async close() {
      for (const s of sockets) s.destroy();
      await Promise.all([new Promise<void>((r) => udp.close(() => r())), new Promise<void>((r) => tcp.close(() => r()))]);
    },
  };
}
