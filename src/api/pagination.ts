// `limit` and `continue`: chunked lists. The first page's full result is kept for a while (as etcd keeps old
// revisions until compaction), so every page of one list shows the same resourceVersion; once it is gone the token
// is expired (410 with an inconsistent continue token, as kube-apiserver answers). A token that is not ours is a 400.
import type { KubeObject } from '../model/object.ts';

interface Snapshot { items: KubeObject[]; resourceVersion: string; at: number }

interface Token { v: 'meta.k8s.io/v1'; rv: string; start: string; id?: string }

export class ContinueError extends Error {
  constructor(readonly code: 400 | 410, message: string, readonly continueToken?: string) {
    super(message);
  }
}

export const EXPIRED_MESSAGE = 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.';

const keyOf = (o: KubeObject) => JSON.stringify([o.metadata.namespace ?? '', o.metadata.name]);
/** The key `start` of a token, parsed once. */
const startKey = (start: string) => JSON.parse(start) as [string, string];
/** a before b in the lists' order: namespace, then name, by code unit (as etcd orders its keys). */
const before = (ns: string, name: string, [kns, kname]: [string, string]) => ns < kns || (ns === kns && name <= kname);
/**
 * Where the items after `key` begin in a sorted list: a binary search, so a page costs its own length, not a
 * filter over the whole list again (with a JSON.parse of the key per item).
 */
function firstAfter(items: KubeObject[], key: [string, string]): number {
  let lo = 0, hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (before(items[mid].metadata.namespace ?? '', items[mid].metadata.name, key)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
const encode = (t: Token) => Buffer.from(JSON.stringify(t)).toString('base64url');

function decode(text: string): Token {
  let t: any;
  try {
    t = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw new ContinueError(400, 'invalid continue token: not a token this server issued');
  }
  const start = (() => { try { return JSON.parse(t.start); } catch { return undefined; } })();
  if (!t || t.v !== 'meta.k8s.io/v1' || typeof t.rv !== 'string' || !Array.isArray(start) || start.length !== 2 || !start.every((x) => typeof x === 'string')) {
    throw new ContinueError(400, 'invalid continue token: not a token this server issued');
  }
  return t as Token;
}

export interface Page { items: KubeObject[]; resourceVersion: string; continue?: string; remainingItemCount?: number }

export class Paginator {
  private snapshots = new Map<string, Snapshot>();
  private next = 0;

  /** ttlMs: how long a list's later pages stay consistent (etcd's default compaction interval is 5 minutes). */
  constructor(private readonly ttlMs = 5 * 60_000, private readonly keep = 64, private readonly now = () => Date.now()) {}

  /**
   * One page. `read` gives the current, filtered list, sorted by namespace then name (by code unit), and its version; it is called for a first page or
   * an expired list's inconsistent continuation only.
   */
  async page(limit: number | undefined, token: string | undefined, read: () => Promise<{ items: KubeObject[]; resourceVersion: string }>): Promise<Page> {
    this.expire();
    let snap: Snapshot | undefined;
    let after = '';
    let id: string | undefined;
    if (token) {
      const t = decode(token);
      after = t.start;
      if (t.id !== undefined) {
        snap = this.snapshots.get(t.id);
        if (!snap) throw new ContinueError(410, EXPIRED_MESSAGE, encode({ v: 'meta.k8s.io/v1', rv: t.rv, start: t.start }));
        id = t.id;
      }
    }
    if (!snap) {
      const r = await read();
      snap = { ...r, at: this.now() };
    }
    const from = after ? firstAfter(snap.items, startKey(after)) : 0;
    const left = snap.items.length - from;
    if (!limit || left <= limit) return { items: from ? snap.items.slice(from) : snap.items, resourceVersion: snap.resourceVersion };
    const items = snap.items.slice(from, from + limit);
    // Only a consistent list keeps a snapshot; an inconsistent continuation goes on from the current state.
    if (id === undefined && !token) {
      id = String(++this.next);
      this.snapshots.set(id, snap);
    }
    const cont = encode({ v: 'meta.k8s.io/v1', rv: snap.resourceVersion, start: keyOf(items.at(-1)!), ...(id !== undefined ? { id } : {}) });
    return { items, resourceVersion: snap.resourceVersion, continue: cont, remainingItemCount: left - limit };
  }

  private expire(): void {
    const now = this.now();
    for (const [id, s] of this.snapshots) if (now - s.at > this.ttlMs) this.snapshots.delete(id);
    while (this.snapshots.size > this.keep) this.snapshots.delete(this.snapshots.keys().next().value!);
  }
}
