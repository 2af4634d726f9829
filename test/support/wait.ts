// Waiting for a condition with a deadline: how tests observe asynchronous work without fixed sleeps.

/** Thrown by a probe when waiting longer cannot help (the process it waits on exited): `until` rethrows it at once. */
export class GaveUp extends Error {}

export async function until<T>(probe: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (e) {
      if (e instanceof GaveUp) throw e;
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${last})` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
