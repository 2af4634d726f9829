// A container's lifecycle hook (postStart, preStop), run as the kubelet's handler runner does: exec in the container,
// httpGet against the pod's address (or the handler's host), or sleep. The probe's own exec and HTTP code does the work.
import { setTimeout as delay } from 'node:timers/promises';
import { probeOnce, type ProbeContext, type Probe } from './probes.ts';
import { timerDelayMs } from './timer-delay.ts';

/** core/v1 LifecycleHandler. */
export interface LifecycleHandler {
  exec?: Probe['exec'];
  httpGet?: Probe['httpGet'];
  tcpSocket?: Probe['tcpSocket']; // deprecated, not acted on by the kubelet either
  sleep?: { seconds: number };
}

export interface HookResult { ok: boolean; message?: string }

/**
 * Runs `handler` within timeoutMs (a sleep lasts `seconds × msPerSecond`, cut short by the timeout, and an `abort`
 * ends it at once). Never throws.
 */
export async function runHook(handler: LifecycleHandler, ctx: ProbeContext & { timeoutMs: number; msPerSecond: number; signal?: AbortSignal }): Promise<HookResult> {
  if (handler.sleep) {
    const ms = timerDelayMs(Math.min(ctx.timeoutMs, handler.sleep.seconds * ctx.msPerSecond));
    await delay(ms, undefined, ctx.signal ? { signal: ctx.signal } : {}).catch(() => {});
    return { ok: true };
  }
  if (handler.exec || handler.httpGet) {
    const r = await probeOnce(handler.exec ? { exec: handler.exec } : { httpGet: handler.httpGet! }, ctx);
    if (r.ok) return r;
    const what = handler.exec ? `Exec lifecycle hook (${JSON.stringify(handler.exec.command ?? [])})` : 'HTTP lifecycle hook';
    return { ok: false, message: `${what} for Container ${JSON.stringify(ctx.launch.id.split('/').at(-1))} failed: ${r.message ?? ''}` };
  }
  // tcpSocket is kept for compatibility and does nothing, as in the kubelet.
  return { ok: true };
}
