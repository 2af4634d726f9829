// `git:<dir>@<tree oid>`: an image pinned to a tree of the watched repository (sha-1 or sha-256 object ids).

export interface GitImage {
  /** The repository folder the image was taken from (informational: the oid alone names the content). */
  dir: string;
  /** The tree oid. */
  oid: string;
}

const PINNED = /^git:(.*)@([0-9a-f]{40}|[0-9a-f]{64})$/;

/** The parts of a pinned git image; undefined for any other image (unpinned `git:<dir>` included). */
export function parsePinnedGitImage(image: unknown): GitImage | undefined {
  const m = typeof image === 'string' ? PINNED.exec(image) : null;
  return m ? { dir: m[1], oid: m[2] } : undefined;
}
