// The most manifest files one revision may have, and the error when it has more.
import { SourceError } from './errors.ts';

/**
 * Most manifest files a revision may have (`--max-manifest-files`), as Argo CD's repo server bounds what one
 * application may generate: a commit of 100,000 tiny files would otherwise be read, parsed and applied (minutes and
 * gigabytes) before anything could refuse it. Counted from the trees, before their blobs are read.
 */
export const DEFAULT_MAX_MANIFEST_FILES = 50_000;

/** The refusal of a revision with more manifest files than the limit. */
export function tooManyFiles(dir: string, max: number): SourceError {
  return new SourceError('TooManyFiles', `more than ${max.toLocaleString('en-US')} manifest files (*.yaml, *.yml, Kustomization) under '${dir || '/'}', `
    + `the limit of --max-manifest-files: nothing of this revision is loaded or applied (raise the limit, or narrow --path)`);
}
