// What a load read of a revision beyond its manifest files (kustomize bases and `.sourceignore` files outside
// `--path`, the trees of `git:` images), recorded so that the next revision can be asked the same questions: when
// its `--path` tree is the same and every answer is too, its load gives the very same result and is not run again.
import type { TreeLookup } from './desired.ts';
import type { SourceTree } from '../build/source-tree.ts';

/** One question asked of a revision and its answer. */
export interface Read { what: 'oid' | 'entry' | 'read'; path: string; answer: string | undefined }

/** Wraps `inner`, recording every question asked about any revision into `reads`. */
export function recording(inner: TreeLookup, reads: Read[]): TreeLookup {
  return {
    async treeOid(sha, dir) {
      const answer = await inner.treeOid(sha, dir);
      reads.push({ what: 'oid', path: dir, answer });
      return answer;
    },
    revisionTree(sha): SourceTree {
      const tree = inner.revisionTree(sha);
      const entry = async (path: string) => {
        const e = await tree.entry(path);
        reads.push({ what: 'entry', path, answer: e && `${e.type} ${e.oid}` });
        return e;
      };
      return {
        entry,
        async read(path) {
          const content = await tree.read(path);
          reads.push({ what: 'read', path, answer: content });
          return content;
        },
        async exportFolder(path, dest) {
          await entry(path); // what is exported is the folder's tree: its oid says it all
          return tree.exportFolder(path, dest);
        },
      };
    },
  };
}

/** Whether revision `sha` answers every recorded question as before (false at the first difference or failure). */
export async function sameAnswers(reads: readonly Read[], lookup: TreeLookup, sha: string): Promise<boolean> {
  const tree = lookup.revisionTree(sha);
  try {
    for (const r of reads) {
      const answer = r.what === 'oid' ? await lookup.treeOid(sha, r.path)
        : r.what === 'entry' ? await tree.entry(r.path).then((e) => e && `${e.type} ${e.oid}`)
        : await tree.read(r.path);
      if (answer !== r.answer) return false;
    }
    return true;
  } catch {
    return false;
  }
}
