// gRPC probes, as the kubelet makes them: one call of the standard health-checking protocol
// (grpc.health.v1.Health/Check, https://github.com/grpc/grpc/blob/master/doc/health-checking.md) over plain
// HTTP/2 through @grpc/grpc-js, SERVING being the only success. The two messages are one field each, so they are
// encoded here rather than through a .proto loader. Where the pods' network is not serve's own (rootless podman),
// grpc-js, which dials by itself, dials a relay into it (netns/pod-network.ts podRelay), with the pod's host:port kept
// as the call's authority, as a direct dial would send.
import { credentials, Client, Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import { podRelay, type PodNetwork } from '../netns/pod-network.ts';

const STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];

/** HealthCheckRequest { string service = 1; }, the field written even when empty (grpc-js sends no empty message). */
function encodeRequest(service: string): Buffer {
  const s = Buffer.from(service, 'utf8');
  const len: number[] = [];
  for (let n = s.length; ; n >>>= 7) { if (n < 0x80) { len.push(n); break; } len.push((n & 0x7f) | 0x80); }
  return Buffer.concat([Buffer.from([0x0a, ...len]), s]);
}

/** HealthCheckResponse { ServingStatus status = 1; }: the enum's number, 0 when absent. */
function decodeResponse(buf: Buffer): number {
  for (let i = 0; i < buf.length;) {
    const tag = buf[i++];
    let v = 0, shift = 0, b: number;
    do { b = buf[i++]; v |= (b & 0x7f) << shift; shift += 7; } while (b & 0x80 && i < buf.length);
    if (tag === 0x08) return v;
    if ((tag & 7) === 2) i += v; // a length-delimited field we do not know
  }
  return 0;
}

export async function grpcProbe(host: string, port: number, service: string, timeoutMs: number, pods?: PodNetwork): Promise<{ ok: boolean; message?: string }> {
  const target = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const relay = pods ? await podRelay(pods, host, port, timeoutMs) : undefined;
  try {
    return await check(relay?.target ?? target, target, service, timeoutMs);
  } finally {
    relay?.close();
  }
}

function check(dial: string, target: string, service: string, timeoutMs: number): Promise<{ ok: boolean; message?: string }> {
  const client = new Client(dial, credentials.createInsecure(), { 'grpc.enable_retries': 0, 'grpc.user_agent': 'kube-probe/convergit', 'grpc.default_authority': target });
  return new Promise((resolve) => {
    client.makeUnaryRequest('/grpc.health.v1.Health/Check', () => encodeRequest(service), decodeResponse, {}, new Metadata(),
      { deadline: Date.now() + timeoutMs }, (err, value) => {
        client.close();
        if (err) {
          const why = err.code === GrpcStatus.DEADLINE_EXCEEDED ? `timeout: failed to connect service "${target}" within ${timeoutMs / 1000}s`
            : err.code === GrpcStatus.UNIMPLEMENTED ? `this server does not implement the grpc health protocol (grpc.health.v1.Health): ${err.details}`
              : `failed to connect service "${target}": ${err.details || err.message}`;
          resolve({ ok: false, message: why });
          return;
        }
        const s = value ?? 0;
        resolve(s === 1 ? { ok: true } : { ok: false, message: `service unhealthy (responded with "${STATUS[s] ?? s}")` });
      });
  });
}
