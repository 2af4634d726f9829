// Who a commit that convergit writes is by, found as git finds it: environment, then config, else convergit itself.
import fs from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import git from 'isomorphic-git';

export interface Identity {
  name: string;
  email: string;
}

const CONVERGIT_IDENTITY: Identity = { name: 'convergit', email: 'convergit@localhost' };

/**
 * GIT_AUTHOR_NAME / GIT_AUTHOR_EMAIL (GIT_COMMITTER_* for the committer) first; then `author.name` (or
 * `committer.name`) and `user.name` from the repository's config over the global one (GIT_CONFIG_GLOBAL, else
 * ~/.config/git/config and ~/.gitconfig); else `convergit <convergit@localhost>`. Each field on its own, as git does.
 */
export async function identityOf(role: 'author' | 'committer', gitdir: string, env: NodeJS.ProcessEnv = process.env): Promise<Identity> {
  const global = await globalConfig(env);
  const config = async (key: string): Promise<string | undefined> => {
    const local = await git.getConfig({ fs, gitdir, path: key }).catch(() => undefined);
    return typeof local === 'string' ? local : global.get(key);
  };
  const upper = role.toUpperCase();
  const field = async (name: 'name' | 'email') =>
    env[`GIT_${upper}_${name.toUpperCase()}`] || (await config(`${role}.${name}`)) || (await config(`user.${name}`)) || CONVERGIT_IDENTITY[name];
  return { name: await field('name'), email: await field('email') };
}

/** `section.key` → value from the user's global config files (later files win, as in git). */
async function globalConfig(env: NodeJS.ProcessEnv): Promise<Map<string, string>> {
  const home = env.HOME || homedir();
  const files = env.GIT_CONFIG_GLOBAL
    ? [env.GIT_CONFIG_GLOBAL]
    : [join(env.XDG_CONFIG_HOME || join(home, '.config'), 'git', 'config'), join(home, '.gitconfig')];
  const out = new Map<string, string>();
  for (const file of files) {
    const text = await readFile(file, 'utf8').catch(() => '');
    for (const [k, v] of parseConfig(text)) out.set(k, v);
  }
  return out;
}

/** The `[section]` keys of a git config file: enough for user.name and user.email (no includes, no subsections). */
function parseConfig(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const header = line.match(/^\[\s*([A-Za-z0-9.-]+)\s*(?:"[^"]*"\s*)?\]/);
    if (header) {
      // A subsection ([remote "origin"]) never holds user.*: its keys are skipped.
      section = /"/.test(line.slice(0, line.indexOf(']'))) ? '' : header[1].toLowerCase();
      continue;
    }
    const entry = line.match(/^([A-Za-z][-A-Za-z0-9]*)\s*(?:=(.*))?$/);
    if (!section || !entry) continue;
    out.set(`${section}.${entry[1].toLowerCase()}`, entry[2] === undefined ? 'true' : configValue(entry[2]));
  }
  return out;
}

/** A value as git reads it: quotes removed, `#`/`;` comments outside quotes dropped, \" \\ \n \t unescaped, trimmed. */
function configValue(raw: string): string {
  let out = '';
  let end = 0; // unquoted trailing whitespace is not part of the value
  let quoted = false;
  for (let i = 0; i < raw.length; i++) {
    let c = raw[i];
    if (c === '"') {
      quoted = !quoted;
      end = out.length;
      continue;
    }
    if (!quoted && (c === '#' || c === ';')) break;
    if (c === '\\') c = ESCAPES[raw[++i]] ?? raw[i] ?? '';
    else if (!quoted && (c === ' ' || c === '\t')) {
      if (out) out += c;
      continue;
    }
    out += c;
    end = out.length;
  }
  return out.slice(0, end);
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', b: '\b' };
