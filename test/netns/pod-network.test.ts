import { test } from 'uvu';
import * as assert from 'uvu/assert';
import net, { type AddressInfo } from 'node:net';
import { once } from 'node:events';
import { connectToPod, listenForPods, type PodNetwork } from '../../src/netns/pod-network.ts';

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

test('a listener handed over from the pods\' namespace is taken over by the server', async () => {
  const g = gatedNetwork();
  const server = net.createServer((c) => c.end('hi'));
  listenForPods(g.network, server, { host: '127.0.0.1', port: 0 });
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
  const server = net.createServer();
  let listened = false;
  server.on('listening', () => { listened = true; });
  listenForPods(g.network, server, { host: '127.0.0.1', port: 0 });
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

test('the pod network is passed, not process-wide: one server through a pods\' namespace, another here, at once', async () => {
  // Two serves' engines in one process (as tests run them) each keep their own case; a connection made with none
  // given is a plain one from this namespace even while another user's network exists.
  const g = gatedNetwork();
  const viaPods = net.createServer((c) => c.end('pods'));
  listenForPods(g.network, viaPods, { host: '127.0.0.1', port: 0 });
  const here = net.createServer((c) => c.end('here'));
  listenForPods(undefined, here, { host: '127.0.0.1', port: 0 });
  await once(here, 'listening'); // at once, not held by the other's gate
  assert.is(viaPods.listening, false, 'still waiting for its handle from the pods\' namespace');
  const read = (s: net.Socket) => new Promise<string>((resolve, reject) => { let got = ''; s.on('data', (d) => (got += d)).on('end', () => resolve(got)).on('error', reject); });
  assert.is(await read(await connectToPod(undefined, '127.0.0.1', (here.address() as AddressInfo).port, 1000)), 'here');
  g.release();
  await once(viaPods, 'listening');
  assert.is(await read(await connectToPod(undefined, '127.0.0.1', (viaPods.address() as AddressInfo).port, 1000)), 'pods');
  here.close();
  viaPods.close();
  (await g.listener).close();
});

test.run();
