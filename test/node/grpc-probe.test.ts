// gRPC probes against a real gRPC server (grpc-js) speaking the standard health-checking protocol.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Server, ServerCredentials, status as GrpcStatus, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { probeOnce } from '../../src/node/probes.ts';
import { ProcessRuntime } from '../../src/node/runtime/process.ts';
import net from 'node:net';
import type { PodNetwork } from '../../src/netns/pod-network.ts';

/** The health service: `statuses` maps a service name to 1 (SERVING) or 2 (NOT_SERVING); others are NOT_FOUND. */
function healthService(statuses: Record<string, number>): [ServiceDefinition, UntypedServiceImplementation] {
  const definition: ServiceDefinition = {
    Check: {
      path: '/grpc.health.v1.Health/Check', requestStream: false, responseStream: false,
      requestSerialize: (x: Buffer) => x, requestDeserialize: (b: Buffer) => ({ service: b.length ? b.subarray(2, 2 + b[1]).toString() : '' }),
      responseSerialize: (s: number) => Buffer.from([0x08, s]), responseDeserialize: (b: Buffer) => b,
    },
  };
  const impl: UntypedServiceImplementation = {
    Check: ((call: { request: { service: string } }, cb: (err: unknown, v?: number) => void) => {
      const s = statuses[call.request.service];
      if (s === undefined) cb({ code: GrpcStatus.NOT_FOUND, details: 'unknown service' });
      else cb(null, s);
    }) as unknown as UntypedServiceImplementation[string],
  };
  return [definition, impl];
}

let server: Server;
let port: number;
test.before(async () => {
  server = new Server();
  server.addService(...healthService({ '': 1, payments: 2 }));
  port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
});
test.after(() => server.forceShutdown());

const ctx = { podIP: '127.0.0.1', ports: [], runtime: new ProcessRuntime(), launch: { id: 'x', argv: ['true'], env: {}, cwd: '/', logFile: '/dev/null' }, timeoutMs: 2000 };

test('SERVING succeeds; NOT_SERVING and unknown services fail, saying why', async () => {
  assert.equal(await probeOnce({ grpc: { port } }, ctx), { ok: true });
  assert.equal(await probeOnce({ grpc: { port, service: 'payments' } }, ctx), { ok: false, message: 'service unhealthy (responded with "NOT_SERVING")' });
  const unknown = await probeOnce({ grpc: { port, service: 'nope' } }, ctx);
  assert.is(unknown.ok, false);
  assert.match(unknown.message!, 'unknown service');
});

test('nothing listening fails within the timeout', async () => {
  const closed = await probeOnce({ grpc: { port: 1 } }, { ...ctx, timeoutMs: 1000 });
  assert.is(closed.ok, false);
  assert.match(closed.message!, /127\.0\.0\.1:1/);
});

test('where the pods\' network is elsewhere (rootless podman), the probe dials through it, not from here', async () => {
  // A pod address this test's namespace has no route to; the pod network (as rootless podman's helper would, in its
  // namespace) reaches it, here at the server's loopback address.
  const podIP = '10.244.77.5';
  const dialed: string[] = [];
  const podNetwork: PodNetwork = {
    listen: () => Promise.reject(new Error('not used here')),
    udp: () => Promise.reject(new Error('not used here')),
    connect: (host, p) => {
      dialed.push(`${host}:${p}`);
      return new Promise((resolve, reject) => {
        const s = net.connect({ host: '127.0.0.1', port: p });
        s.once('connect', () => resolve(s)).once('error', reject);
      });
    },
  };
  assert.equal(await probeOnce({ grpc: { port } }, { ...ctx, podIP, podNetwork }), { ok: true });
  assert.equal(await probeOnce({ grpc: { port, service: 'payments' } }, { ...ctx, podIP, podNetwork }), { ok: false, message: 'service unhealthy (responded with "NOT_SERVING")' });
  assert.equal(dialed, [`${podIP}:${port}`, `${podIP}:${port}`]);
  const closed = await probeOnce({ grpc: { port: 1 } }, { ...ctx, podIP, podNetwork, timeoutMs: 1000 });
  assert.is(closed.ok, false);
  assert.match(closed.message!, `${podIP}:1`);
});

test.run();
