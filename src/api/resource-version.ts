// resourceVersion as a list or watch parameter: malformed is a 400; newer than the store is waited for briefly
// and then refused as kube-apiserver's watch cache does ("Too large resource version", 504, retry after 1 s).
import type { Store } from '../store/store.ts';

export class ApiError extends Error {
  constructor(readonly code: number, message: string, readonly reason?: string, readonly details?: Record<string, unknown>, readonly retryAfter?: number) {
    super(message);
  }
}

/** undefined for unset; a number otherwise. Throws a 400 ApiError on anything but digits. */
export function parseResourceVersion(v: string | null): number | undefined {
  if (v === null || v === '') return undefined;
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v))) throw new ApiError(400, `invalid resource version: ${JSON.stringify(v.slice(0, 100))}: must be a non-negative integer`, 'BadRequest');
  return Number(v);
}

/** Waits up to `ms` for the store to reach `rv`; then throws kube-apiserver's 504 "Too large resource version". */
export async function waitForResourceVersion(store: Store, rv: number, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const current = Number(await store.resourceVersion());
    if (current >= rv) return;
    if (Date.now() >= deadline) {
      throw new ApiError(504, `Too large resource version: ${rv}, current: ${current}`, 'Timeout',
        { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1 }, 1);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
