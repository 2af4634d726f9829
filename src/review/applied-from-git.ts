// The live objects git applied (the inventory) as desired objects with no place in a file: what the live state
// wanted from git, so the reviewer checks that run over a revision can run over it too.
import { objectKey } from '../model/key.ts';
import { DocPositions, LineIndex } from '../manifests/positions.ts';
import type { DesiredObject } from '../manifests/types.ts';
import type { LiveState } from './live-state.ts';

/** Every field at line 0, column 0: a live object was written by no file. */
const NOWHERE = DocPositions.ofOffsets(new LineIndex(''), new Map(), { line: 0, column: 0 });

export function appliedFromGit(live: LiveState): DesiredObject[] {
  const owned = new Set(live.inventory);
  return live.objects
    .filter((o) => owned.has(objectKey(o)))
    .map((object) => ({ object, file: '', line: 0, column: 0, positions: NOWHERE }));
}
