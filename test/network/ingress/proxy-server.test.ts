// The ingress proxy over real sockets: a request that cannot connect to one endpoint goes to the next when it is
// safe to send again (GET), not when it is not (POST: 502); a streamed request body reaches the backend whole.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import http from 'node:http';
import net from 'node:net';
import { createIngressServers, type Endpoint } from '../../../src/network/ingress/proxy-server.ts';

const listen = (s: net.Server) => new Promise<number>((r) => s.listen(0, '127.0.0.1', () => r((s.address() as net.AddressInfo).port)));

/** What the drain would count: each request's begin, its attempts' candidates, and its end. */
const counted: string[] = [];
const show = (eps: Endpoint[]) => eps.map((e) => (e === dead ? 'dead' : e === live ? 'live' : `${e.ip}:${e.port}`)).join(',');
const begin = (service: string, eps: Endpoint[]) => {
  counted.push(`begin ${service} ${show(eps)}`);
  return { to: (e: Endpoint[]) => void counted.push(`to ${show(e)}`), end: () => void counted.push('end') };
};

let backend: http.Server, ingress: ReturnType<typeof createIngressServers>, port = 0, dead: Endpoint, live: Endpoint;

test.before(async () => {
  backend = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c)).on('end', () => res.end(`${req.method} ${body.length}`));
  });
  live = { ip: '127.0.0.1', port: await listen(backend) };
  const closed = net.createServer();
  dead = { ip: '127.0.0.1', port: await listen(closed) };
  await new Promise((r) => closed.close(r)); // nothing listens there now: connections are refused
  ingress = createIngressServers({
    resolve: () => ({ endpoints: [dead, live], service: 'default/web' }),
    contextFor: () => undefined,
    begin,
    defaultCertificate: () => Promise.reject(new Error('not used')),
    log: () => {},
  });
  port = await listen(ingress.http);
});

test.after(async () => {
  ingress.destroyConnections();
  await Promise.all([ingress.http, backend].map((s) => new Promise((r) => s.close(r))));
});

function send(method: string, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: '/', agent: false }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c)).on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    if (body) for (const chunk of body.match(/.{1,1000}/gs) ?? []) req.write(chunk);
    req.end();
  });
}

test('GET: a refused endpoint is passed over for the next one; the request is counted until its answer is over', async () => {
  counted.length = 0;
  assert.equal(await send('GET'), { status: 200, text: 'GET 0' });
  // The drain sees the endpoints it may still go to narrow with each attempt, then its end.
  assert.equal(counted, ['begin default/web dead,live', 'to dead,live', 'to live', 'end']);
});

test('POST: not sent twice; 502 when its endpoint refuses', async () => {
  const r = await send('POST', 'x'.repeat(50_000));
  assert.is(r.status, 502);
  assert.match(r.text, 'bad gateway');
});

test('a kept-alive client connection to the ingress never pins a pod: each request gets a connection of its own upstream', async () => {
  let upstream = 0;
  const count = () => upstream++;
  backend.on('connection', count);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const clientSockets = new Set<unknown>();
  try {
    for (let i = 0; i < 3; i++) {
      await new Promise<void>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
          clientSockets.add(res.socket);
          res.resume().on('end', () => resolve());
        });
        req.on('error', reject).end();
      });
    }
  } finally {
    backend.off('connection', count);
    agent.destroy();
  }
  assert.is(clientSockets.size, 1, 'one kept-alive connection to the ingress');
  assert.is(upstream, 3, 'so nothing idle to a leaving pod is left for its drain to wait on');
});

test('a streamed body reaches the backend whole', async () => {
  const only = createIngressServers({ resolve: () => ({ endpoints: [live], service: 'default/web' }), contextFor: () => undefined, begin, defaultCertificate: () => Promise.reject(new Error('not used')), log: () => {} });
  const p = await listen(only.http);
  const r = await new Promise<string>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: p, method: 'PUT', path: '/', agent: false }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c)).on('end', () => resolve(text));
    });
    req.on('error', reject);
    for (let i = 0; i < 100; i++) req.write('y'.repeat(10_000));
    req.end();
  });
  only.destroyConnections();
  await new Promise((r) => only.http.close(r));
  assert.is(r, 'PUT 1000000');
});

test.run();
