import { test } from 'uvu';
import * as assert from 'uvu/assert';
import net, { type AddressInfo } from 'node:net';
import { once } from 'node:events';
import { listenForPods, setPodNetwork, type PodNetwork } from '../../src/netns/pod-network.ts';

/**
 * A pod network whose sockets are made in this namespace (as rootless podman's helper makes them in its own), a
 * listener handed over only once the test releases it: the delay of the helper's round trip, made long.
 */
function gatedNetwork() {
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  let made!: (s: net.Server) => void;
  const listener = new Promise<net.Server>((r) => { made = r; });
  const network: PodNetwork = {
    async listen(host, port) {
      await gate;
      const s = net.createServer();
      await new Promise<void>((resolve, reject) => { s.once('error', reject); s.listen({ host, port }, resolve); });
      made(s);
      return s;
    },
    udp: () => Promise.reject(new Error('not used here')),
    connect: () => Promise.reject(new Error('not used here')),
  };
  return { network, release, listener };
}

const refused = (port: number) => new Promise<string>((resolve) => {
  const s = net.connect({ host: '127.0.0.1', port });
  s.once('connect', () => { s.destroy(); resolve('connected'); });
  s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
});

test.after.each(() => setPodNetwork(undefined));

test('a listener handed over from the pods\' namespace is taken over by the server', async () => {
  const g = gatedNetwork();
  setPodNetwork(g.network);
  const server = net.createServer((c) => c.end('hi'));
  listenForPods(server, { host: '127.0.0.1', port: 0 });
  g.release();
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const reply = await new Promise<string>((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port });
    let got = '';
    s.on('data', (d) => (got += d)).on('end', () => resolve(got)).on('error', reject);
  });
  assert.is(reply, 'hi');
  server.close();
  (await g.listener).close();
});

test('a server closed before its listener arrives does not listen on it (the port is let go)', async () => {
  const g = gatedNetwork();
  setPodNetwork(g.network);
  const server = net.createServer();
  let listened = false;
  server.on('listening', () => { listened = true; });
  listenForPods(server, { host: '127.0.0.1', port: 0 });
  server.close(); // the Service went away while its port was opening
  g.release();
  const taken = await g.listener;
  const port = (taken.address() as AddressInfo).port;
  // Either the handle is let go, or (the bug) the closed server takes it.
  if (taken.listening) await Promise.race([once(taken, 'close'), once(server, 'listening')]);
  const answer = await refused(port);
  server.close();
  taken.close();
  assert.is(listened, false, 'the closed server listened on the handle');
  assert.is(answer, 'ECONNREFUSED');
});

test.run();
