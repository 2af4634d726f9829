// node's promise fs for isomorphic-git, for one repository, answering what a read of it asks most without the
// round trips to libuv's pool that do not pay.
import { promises as fsp, readFileSync } from 'node:fs';
import type { PromiseFsClient } from 'isomorphic-git';

export type GitFs = PromiseFsClient & { absent: Set<string>; forgetPacks(): void };

/** A loose object's file below `objects/`. */
const LOOSE = /\/objects\/[0-9a-f]{2}\/[0-9a-f]{38}$/;

/**
 * node's promise fs for isomorphic-git, for one repository. Each of its calls tells a promise fs from a callback one
 * by calling `readFile()` without arguments, twice: node's answer is an error with a stack trace, a tenth of a blob
 * read's CPU. Answered here without one. Each call also stats `gitdir` (is it a folder, or a worktree's `.git`
 * file?): a cold read of 10,000 blobs spent a tenth of its time there, so that one answer is kept while it is a
 * folder. A blob is read by isomorphic-git only once our pack reader and readLooseBlob found none: its own try of that
 * file (a failed open and an error with a stack trace) is answered as missing at once (`absent`), and it lists
 * objects/pack for every object: that listing is kept until `forgetPacks()` (each read begins with it, and a read
 * that misses an object lists again). Trees are still read through it. Small files a read needs one by one, loose
 * objects (a commit's new trees and the commit itself) and refs, are read at once rather than in four round trips to
 * libuv's pool, each a wait on a busy loop (a one-file commit's read was ~10 ms of them). Every other call goes to node.
 */
export function gitFs(gitdir: string): GitFs {
  let folder: ReturnType<typeof fsp.stat> | undefined;
  const stat = ((...args: Parameters<typeof fsp.stat>) => {
    if (args[0] !== gitdir || args.length > 1) return fsp.stat(...args);
    return (folder ??= fsp.stat(gitdir).then((s) => { if (!s.isDirectory()) folder = undefined; return s; }, (e) => { folder = undefined; throw e; }));
  }) as typeof fsp.stat;
  const absent = new Set<string>();
  const looseDir = `${gitdir}/objects/`, refsDir = `${gitdir}/refs/`, packedRefs = `${gitdir}/packed-refs`;
  const packDir = `${gitdir}/objects/pack`;
  let packs: Promise<string[]> | undefined;
  const readdir = ((...args: Parameters<typeof fsp.readdir>) => {
    if (args[0] !== packDir || args.length > 1) return fsp.readdir(...args);
    return (packs ??= fsp.readdir(packDir).catch((e: unknown) => { packs = undefined; throw e; }));
  }) as typeof fsp.readdir;
  return {
    absent,
    forgetPacks: () => { packs = undefined; },
    promises: {
      ...fsp,
      stat,
      readdir,
      readFile: ((...args: Parameters<typeof fsp.readFile>) => {
        if (!args.length) return Promise.resolve(undefined);
        const [path, options] = args;
        if (typeof path === 'string' && absent.delete(path)) return Promise.resolve(undefined); // isomorphic-git: missing
        if (typeof path === 'string' && ((path.startsWith(looseDir) && LOOSE.test(path)) || path.startsWith(refsDir) || path === packedRefs)) {
          try {
            return Promise.resolve(readFileSync(path, options as Parameters<typeof readFileSync>[1]));
          } catch (e) {
            return Promise.reject(e);
          }
        }
        return fsp.readFile(...args);
      }) as typeof fsp.readFile,
    },
  };
}

