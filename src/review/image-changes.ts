// A `git:` image whose tree changes is the app's code changing: the reviewer wants the files, not two tree oids.
import type { KubeObject } from '../model/object.ts';
import { parsePinnedGitImage } from '../model/git-image.ts';
import type { ImageChange } from './report.ts';
import { containersOf } from './pod-templates.ts';


/** The containers (by name) whose `git:<dir>@<oid>` image moves to another tree of the same folder. */
export function gitImageMoves(live: KubeObject, desired: KubeObject): Omit<ImageChange, 'files'>[] {
  const before = new Map(containersOf(live).map(({ container }) => [container.name as string, String(container.image ?? '')]));
  return containersOf(desired).flatMap(({ container }) => {
    const to = parsePinnedGitImage(container.image);
    const from = parsePinnedGitImage(before.get(container.name));
    return to && from && to.dir === from.dir && to.oid !== from.oid ? [{ container: container.name as string, dir: to.dir, from: from.oid, to: to.oid }] : [];
  });
}

/** `modified apps/web/server.js`, at most `max` of them and a count of the rest. */
export function describeFiles(change: ImageChange, max = 20): string[] {
  const lines = change.files.slice(0, max).map((f) => `${f.change} ${f.path}`);
  if (change.files.length > max) lines.push(`… and ${change.files.length - max} more`);
  return lines;
}
