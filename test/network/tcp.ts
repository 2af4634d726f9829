// Real TCP ends for the proxy tests: backends that say who they are, and a client that sends and half-closes.
import net, { type Server, type Socket } from 'node:net';

const rand = () => 1 + Math.floor(Math.random() * 253);
/** A loopback address in 127.<a>.x.y unlikely to be used by another test running at the same time. */
export const randomAddress = (a: number) => `127.${a}.${rand()}.${rand()}`;

export interface Backend { name: string; ip: string; port: number; server: Server; open: Set<Socket>; close(): Promise<void> }

/** Replies `<name>:<what the client sent>` once the client has finished sending, then ends: needs half-close. */
export async function backend(name: string, ip = randomAddress(1)): Promise<Backend> {
  const open = new Set<Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    open.add(s);
    s.on('close', () => open.delete(s));
    s.on('error', () => {});
    let got = '';
    s.on('data', (d) => { got += d; });
    s.on('end', () => s.end(`${name}:${got}`));
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, ip, () => resolve()));
  const { port } = server.address() as net.AddressInfo;
  return {
    name, ip, port, server, open,
    close: () => new Promise((resolve) => { for (const s of open) s.destroy(); server.close(() => resolve()); }),
  };
}

/** A port on `ip` that nothing listens on (it was free a moment ago). */
export async function deadPort(ip: string): Promise<number> {
  const b = await backend('dead', ip);
  await b.close();
  return b.port;
}

/** Sends `payload`, half-closes, and reads until the connection ends: the reply, or the error code. */
export function request(host: string, port: number, payload = 'hi'): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    let err = '';
    const s = net.connect({ host, port, allowHalfOpen: true }, () => s.end(payload));
    s.on('data', (d) => { got += d; });
    s.on('error', (e: NodeJS.ErrnoException) => { err = e.code ?? e.message; });
    s.on('close', () => resolve(err ? `error ${err}` : got || 'closed without a reply'));
  });
}

/** A connection left open: resolves once it is established, `closed` once the other side has closed it. */
export async function holdOpen(host: string, port: number): Promise<{ socket: Socket; closed: Promise<void> }> {
  const socket = net.connect({ host, port });
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  return { socket, closed };
}
