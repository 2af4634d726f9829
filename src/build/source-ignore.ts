// `.sourceignore`, as Flux's source-controller reads it: gitignore syntax, Flux's default exclusions (VCS files,
// CI configs, images and archives) below everything, then the repository root's file, then each folder's own
// file for the paths below that folder. A folder excluded is excluded whole, as the archive walk skips it.
import ignore, { type Ignore } from 'ignore';

export const SOURCEIGNORE = '.sourceignore';

/** fluxcd/pkg sourceignore: ExcludeVCS, ExcludeExt, ExcludeCI, ExcludeExtra. */
export const FLUX_DEFAULTS = [
  '.git/', '.gitignore', '.gitmodules', '.gitattributes',
  '*.jpg', '*.jpeg', '*.gif', '*.png', '*.wmv', '*.flv', '*.tar.gz', '*.zip',
  '.github/', '.circleci/', '.travis.yml', '.gitlab-ci.yml', 'appveyor.yml', '.drone.yml', 'cloudbuild.yaml', 'codeship-services.yml', 'codeship-steps.yml',
  '**/.goreleaser.yml', '**/.sops.yaml', '**/.flux.yaml',
];

/**
 * FLUX_DEFAULTS as a test of a name alone: each is a whole name (`.gitignore`, `.sops.yaml` at any depth), an extension
 * (`*.jpg`) or a folder's name (`.git/`), matched at any depth, without regard to case (as the `ignore` library
 * matches them). Where a folder has no rules but these, this decides a path: the library's per-path work was ~0.1 s of
 * a 10,000-file first sync. `test/build/sourceignore.test.ts` holds both equal.
 */
const DEFAULT_NAMES = new Set(FLUX_DEFAULTS.filter((p) => !p.endsWith('/') && !p.startsWith('*.')).map((p) => p.replace(/^\*\*\//, '')));
const DEFAULT_FOLDERS = new Set(FLUX_DEFAULTS.filter((p) => p.endsWith('/')).map((p) => p.slice(0, -1)));
const DEFAULT_EXTENSIONS = FLUX_DEFAULTS.filter((p) => p.startsWith('*.')).map((p) => p.slice(1));
function defaultExcluded(name: string, dir: boolean): boolean {
  const n = name.toLowerCase();
  return DEFAULT_NAMES.has(n) || (dir && DEFAULT_FOLDERS.has(n)) || DEFAULT_EXTENSIONS.some((e) => n.endsWith(e));
}

export interface IgnoreFile {
  /** Repository-relative path of the `.sourceignore` file. */
  path: string;
  content: string;
}

export class SourceIgnore {
  /** Folder ('' = root) → its rules (none: Flux's defaults alone, defaultExcluded); deepest folders first. */
  private domains: { dir: string; rules?: Ignore }[];

  constructor(files: IgnoreFile[]) {
    const byDir = new Map<string, string[]>([['', [...FLUX_DEFAULTS]]]);
    for (const f of files) {
      const dir = f.path.includes('/') ? f.path.slice(0, f.path.lastIndexOf('/')) : '';
      byDir.set(dir, [...(byDir.get(dir) ?? []), f.content]);
    }
    this.domains = [...byDir].map(([dir, texts]) => ({
      dir, rules: dir === '' && texts.length === FLUX_DEFAULTS.length ? undefined : texts.reduce((ig, t) => ig.add(t), ignore()),
    })).sort((a, b) => b.dir.length - a.dir.length);
  }

  /** Folders decided, with the folders above them: 10,000 files in 100 folders ask about each folder 100 times. */
  private folders = new Map<string, boolean>();

  /** Whether the file (or, with `dir`, the folder) at repository path `path` is excluded. */
  ignores(path: string, dir = false): boolean {
    // A tree's paths have no empty segments: split only the odd one.
    if (path.startsWith('/') || path.endsWith('/') || path.includes('//')) path = path.split('/').filter(Boolean).join('/');
    if (!path) return false;
    const up = path.lastIndexOf('/');
    return (up > 0 && this.folderIgnored(path.slice(0, up))) || this.decide(path, dir);
  }

  /** Whether folder `path` or one above it is excluded. */
  private folderIgnored(path: string): boolean {
    let v = this.folders.get(path);
    if (v === undefined) {
      const up = path.lastIndexOf('/');
      this.folders.set(path, (v = (up > 0 && this.folderIgnored(path.slice(0, up))) || this.decide(path, true)));
    }
    return v;
  }

  /** The deepest folder whose rules say something about `path` decides. */
  private decide(path: string, dir: boolean): boolean {
    for (const d of this.domains) {
      if (d.dir && !path.startsWith(d.dir + '/')) continue;
      const rel = d.dir ? path.slice(d.dir.length + 1) : path;
      // Each name on the way, as the library's rules match a path's folders too (a deeper rule that let a folder in
      // does not let the root's defaults pass what is below it).
      if (!d.rules) return rel.split('/').some((name, i, names) => defaultExcluded(name, dir || i < names.length - 1));
      const r = d.rules.test(dir ? `${rel}/` : rel);
      if (r.ignored) return true;
      if (r.unignored) return false;
    }
    return false;
  }
}
