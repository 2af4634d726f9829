// What the Git source hands to the rest of the pipeline: one commit, its metadata and its manifest files.
import type { FileProblem } from './decode-text.ts';
import type { Issue } from '../model/issue.ts';

export interface SourceFile {
  /** Path relative to the repository root, with forward slashes. */
  path: string;
  /** blob oid; files with the same oid have the same content. */
  oid: string;
  /** A symlink's content is its target; manifests refuses symlinks. */
  symlink: boolean;
  content: string;
  /** Why the file cannot be loaded (e.g. invalid UTF-8); `content` is then empty. */
  problem?: FileProblem;
  /** The content was not read ('' here): the reader was told the loader holds this blob loaded already (ReadOptions). */
  unread?: true;
}

export interface ReadOptions {
  /**
   * Blobs (not symlinks) that need not be read: the loader's cache holds them loaded (validate and plan, one-shot
   * processes). Their files come with `unread` and no content. Such a read is not the base of an incremental one.
   */
  unread?: (path: string, oid: string) => boolean;
  /**
   * Called with each file whose blob is read (not one the last read had: unchanged files are not read again): a cold
   * read hands its thousands of files to the loader's parse workers as it goes (manifests' Preload).
   */
  onRead?: (file: SourceFile) => void;
  /**
   * Called as the trees are listed, before any blob is read, with each blob (not a symlink's) that will be read: a
   * cold read's parse workers start while the rest is listed, and are ready when the first blobs come.
   */
  onListed?: (path: string, oid: string) => void;
}

export interface Revision {
  sha: string;
  /** oid of the tree at `--path` (the repository root tree when path is empty). */
  tree: string;
  message: string;
  author: { name: string; email: string };
  /** ISO-8601 commit time. */
  commitTime: string;
  /** `*.yaml` / `*.yml`, `Kustomization` and `.sourceignore` files under `--path`, sorted by path. */
  files: SourceFile[];
  /** What the source did not read but a user may expect to be (submodules, paths that differ only in case). */
  warnings?: Issue[];
}
