// A `git:` image whose tree changes is the app's code changing: the reviewer wants the files, not two tree oids.
import type { KubeObject } from '../model/object.ts';
import type { ImageChange } from './report.ts';
import { containersOf } from './pod-templates.ts';

const PINNED = /^git:(.*)@([0-9a-f]{40})$/;

/** The containers (by name) whose `git:<dir>@<oid>` image moves to another tree of the same folder. */
export function gitImageMoves(live: KubeObject, desired: KubeObject): Omit<ImageChange, 'files'>[] {
  const before = new Map(containersOf(live).map(({ container }) => [container.name as string, String(container.image ?? '')]));
  return containersOf(desired).flatMap(({ container }) => {
    const to = PINNED.exec(String(container.image ?? ''));
    const from = PINNED.exec(before.get(container.name) ?? '');
    return to && from && to[1] === from[1] && to[2] !== from[2] ? [{ container: container.name as string, dir: to[1], from: from[2], to: to[2] }] : [];
  });
}

/** `modified apps/web/server.js`, at most `max` of them and a count of the rest. */
export function describeFiles(change: ImageChange, max = 20): string[] {
  const lines = change.files.slice(0, max).map((f) => `${f.change} ${f.path}`);
  if (change.files.length > max) lines.push(`… and ${change.files.length - max} more`);
  return lines;
}
