// JSON responses in Kubernetes' shapes: objects, lists and Status errors.
import type { ServerResponse } from 'node:http';

export function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const REASONS: Record<number, string> = {
  400: 'BadRequest', 404: 'NotFound', 405: 'MethodNotAllowed', 406: 'NotAcceptable', 410: 'Expired', 413: 'RequestEntityTooLarge',
  422: 'Invalid', 500: 'InternalError', 504: 'Timeout',
};

/** A Kubernetes `Status` failure body. */
export function statusBody(code: number, message: string, details?: Record<string, unknown>, reason?: string) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: reason ?? REASONS[code] ?? 'Unknown', ...(details ? { details } : {}), code };
}

/** A Kubernetes `Status` failure, which kubectl prints as `Error from server (Reason): message`. */
export function sendStatus(res: ServerResponse, code: number, message: string, details?: Record<string, unknown>, reason?: string): void {
  sendJson(res, code, statusBody(code, message, details, reason));
}
