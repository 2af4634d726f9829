// What the build step reads of a revision beyond its manifest files: any path of the repository, so a
// kustomization may use bases outside `--path`, and real folders for kustomize to run in. A commit (git) and a
// working tree on disk (`validate --worktree`) both provide it.

export interface TreeEntry {
  type: 'tree' | 'blob' | 'symlink' | 'submodule';
  /** Content identity: the git oid (a folder's oid covers everything below it). */
  oid: string;
}

export interface SourceTree {
  /** What is at `path` (repository-relative, '' = the root), undefined when nothing is. */
  entry(path: string): Promise<TreeEntry | undefined>;
  /** The text of the file at `path`. */
  read(path: string): Promise<string>;
  /** Writes the folder at `path`, recursively, into `dest` (created if missing). */
  exportFolder(path: string, dest: string): Promise<void>;
}
