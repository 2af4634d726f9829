// One proxied connection: try backends in order until one accepts, then copy bytes both ways. Half-closes pass
// through (a client may finish sending and still read the reply); an error or reset on either side tears down
// both. The client socket arrives paused, so nothing it sends is lost while a backend is being chosen.
// A connection whose backend has left service is closed between two requests (`leaving`): a kept-alive HTTP/1
// connection right after an answer (its exchanges read from its bytes, http-exchanges.ts), any other once it is
// idle, so that the pod drains before its grace period is over.
import type { Socket } from 'node:net';
import type { Backend } from './endpoint-picker.ts';
import { connectToPod, type PodNetwork } from '../netns/pod-network.ts';
import { HttpExchanges } from './http-exchanges.ts';

export interface RelayOptions {
  connectTimeoutMs: number;
  /** Where the pods are, when not in this network namespace (rootless podman's). */
  podNetwork?: PodNetwork;
  /** Called for every socket this relay opens, so the proxy can destroy them all on stop. */
  track: (s: Socket) => void;
  log: (m: string) => void;
  /** For log lines, e.g. `default/web:http`. */
  what: string;
  /** The backend the connection went to, once connected (the proxy counts what still goes where). */
  onConnect?: (b: Backend) => void;
}

const noop = () => {};

export interface Relayed {
  /** The backend it reached, once connected. */
  backend?: Backend;
  /**
   * Its backend has left service: close both sides as soon as every HTTP/1 request on it is answered (at once if
   * none is owed), before the client sends another; a connection whose exchanges cannot be told (not HTTP/1, an
   * upgrade, an answer that ends with the connection) once no byte has passed either way for `idleMs` and the
   * backend spoke last (an answer is complete; a request still waiting for its answer is left alone).
   */
  leaving(idleMs: number): void;
}

export function relay(client: Socket, backends: Backend[], opts: RelayOptions): Relayed {
  const out: Relayed = { leaving: () => {} };
  client.on('error', noop); // every failure also ends in 'close', where the other side is dealt with
  let pendingDial: object | undefined;
  let clientGone = false;
  client.once('close', () => {
    clientGone = true;
    pendingDial = undefined; // a connection that arrives now is closed at once
  });

  const attempt = (i: number): void => {
    if (clientGone) return;
    if (i >= backends.length) {
      opts.log(`${opts.what}: ${backends.length ? 'no endpoint accepted the connection' : 'no ready endpoints'}; closing the client connection`);
      client.resetAndDestroy(); // the nearest a userspace proxy gets to iptables' REJECT
      return;
    }
    const b = backends[i];
    // Made where the pods are (connectToPod: here, or in rootless podman's namespace).
    const dial = connectToPod(opts.podNetwork, b.ip, b.port, opts.connectTimeoutMs);
    const token = {};
    pendingDial = token;
    dial.then((s) => {
      s.allowHalfOpen = true;
      opts.track(s);
      if (clientGone || pendingDial !== token) return void s.destroy();
      pendingDial = undefined;
      opts.onConnect?.(b);
      out.backend = b;
      out.leaving = splice(client, s, (how) => opts.log(`${opts.what}: closed ${how} kept-alive connection to ${b.ip}:${b.port}, which left service`));
    }, (err: Error) => {
      if (pendingDial !== token) return;
      pendingDial = undefined;
      opts.log(`${opts.what}: endpoint ${b.ip}:${b.port} failed: ${err.message}`);
      attempt(i + 1);
    });
  };
  attempt(0);
  return out;
}

/**
 * Copies both ways. A clean close of one side ends the other; an abrupt one (a reset, an error) resets the other,
 * since a plain destroy would send a FIN that a half-open peer could wait on forever.
 */
function splice(a: Socket, b: Socket, onLeaveClose: (how: string) => void): (idleMs: number) => void {
  a.on('error', noop);
  b.on('error', noop);
  a.pipe(b);
  b.pipe(a);
  const http = new HttpExchanges();
  let backendLast = false;
  let idle: NodeJS.Timeout | undefined;
  let idleMs = 0;
  const close = (how: string) => {
    clearTimeout(idle);
    onLeaveClose(how);
    // A request that crossed the FIN is dropped, the client's to send again (it may: none of it was answered); the
    // client side is still read (unpiping pauses it) so that its end is seen and the connection closes.
    a.unpipe(b);
    a.resume();
    a.end();
    b.end();
  };
  const arm = () => {
    clearTimeout(idle);
    idle = setTimeout(() => {
      if (!backendLast) return; // the backend owes an answer: the next byte re-arms
      close('an idle');
    }, idleMs);
  };
  // An answer done and nothing more asked: the moment to close a kept-alive connection to a leaving backend.
  const between = () => backendLast && http.between;
  a.on('data', (d: Buffer) => { backendLast = false; http.fromClient(d); if (idleMs) arm(); });
  b.on('data', (d: Buffer) => {
    backendLast = true;
    http.fromBackend(d);
    if (!idleMs) return;
    if (between()) close('a');
    else arm();
  });
  a.once('close', () => clearTimeout(idle));
  b.once('close', () => clearTimeout(idle));
  const follow = (other: Socket) => (hadError: boolean) => {
    if (other.destroyed) return;
    if (hadError) other.resetAndDestroy();
    else other.end();
  };
  a.once('close', follow(b));
  b.once('close', follow(a));
  a.resume();
  return (ms) => {
    if (idleMs || a.destroyed || b.destroyed) return;
    idleMs = ms;
    if (between()) close('a');
    else arm();
  };
}
