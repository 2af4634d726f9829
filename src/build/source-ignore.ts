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

export interface IgnoreFile {
  /** Repository-relative path of the `.sourceignore` file. */
  path: string;
  content: string;
}

export class SourceIgnore {
  /** Folder ('' = root) → its rules; deepest folders first. */
  private domains: { dir: string; rules: Ignore }[];

  constructor(files: IgnoreFile[]) {
    const byDir = new Map<string, string[]>([['', [...FLUX_DEFAULTS]]]);
    for (const f of files) {
      const dir = f.path.includes('/') ? f.path.slice(0, f.path.lastIndexOf('/')) : '';
      byDir.set(dir, [...(byDir.get(dir) ?? []), f.content]);
    }
    this.domains = [...byDir].map(([dir, texts]) => ({ dir, rules: texts.reduce((ig, t) => ig.add(t), ignore()) }))
      .sort((a, b) => b.dir.length - a.dir.length);
  }

  /** Folders decided, with the folders above them: 10,000 files in 100 folders ask about each folder 100 times. */
  private folders = new Map<string, boolean>();

  /** Whether the file (or, with `dir`, the folder) at repository path `path` is excluded. */
  ignores(path: string, dir = false): boolean {
    const segs = path.split('/').filter(Boolean);
    if (!segs.length) return false;
    return (segs.length > 1 && this.folderIgnored(segs.slice(0, -1).join('/'))) || this.decide(segs.join('/'), dir);
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
      const r = d.rules.test(dir ? `${rel}/` : rel);
      if (r.ignored) return true;
      if (r.unignored) return false;
    }
    return false;
  }
}
