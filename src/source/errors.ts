// The one error type the source throws: a reason the caller can branch on, and a message naming what failed.

export type SourceErrorReason =
  | 'RepositoryNotFound'
  | 'BranchNotFound'
  | 'RefNotFound'
  | 'CorruptObject'
  | 'FetchFailed'
  | 'PathNotFound'
  | 'InvalidContent'
  | 'TooManyFiles';

export class SourceError extends Error {
  override name = 'SourceError';
  constructor(readonly reason: SourceErrorReason, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The underlying message of an unknown thrown value, for wrapping it in a SourceError. */
export function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** isomorphic-git's errors carry a `code` (e.g. 'NotFoundError'); fs errors too (e.g. 'ENOENT'). */
export function errorCode(e: unknown): string | undefined {
  return (e as { code?: unknown } | null)?.code as string | undefined;
}
