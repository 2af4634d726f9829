// A real OCI registry (Debian's docker-registry, the CNCF distribution) on 127.0.0.1 at a free port, optionally
// with htpasswd auth, and images built from busybox-static pushed into it. Stopped by pid.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { until } from './wait.ts';

export interface Registry {
  /** `127.0.0.1:<port>` */
  host: string;
  pid: number;
  stop(): Promise<void>;
}

/** Why registry tests cannot run here, or undefined. */
export function registryMissing(): string | undefined {
  for (const [bin, pkg] of [['docker-registry', 'docker-registry'], ['htpasswd', 'apache2-utils'], ['busybox', 'busybox-static']]) {
    try {
      execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    } catch {
      return `${bin} is not installed (apt-get install ${pkg})`;
    }
  }
  return undefined;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export async function startRegistry(auth?: { user: string; password: string }): Promise<Registry> {
  const dir = mkdtempSync(join(tmpdir(), 'convergit-registry-'));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  if (auth) execFileSync('htpasswd', ['-Bbc', join(dir, 'htpasswd'), auth.user, auth.password], { stdio: 'ignore' });
  writeFileSync(join(dir, 'config.yml'), [
    'version: 0.1',
    'log: { level: error }',
    `storage: { filesystem: { rootdirectory: ${join(dir, 'data')} }, delete: { enabled: true } }`,
    `http: { addr: "${host}", secret: convergit-test }`,
    ...(auth ? [`auth: { htpasswd: { realm: convergit-test, path: ${join(dir, 'htpasswd')} } }`] : []),
    '',
  ].join('\n'));
  const child: ChildProcess = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await until(async () => {
    if (child.exitCode !== null) throw new Error(`docker-registry exited: ${err}`);
    const res = await fetch(`http://${host}/v2/`).catch(() => undefined);
    return res && (res.status === 200 || res.status === 401);
  }, 'the registry to answer', 15_000);
  return {
    host,
    pid: child.pid!,
    async stop() {
      if (child.exitCode === null) process.kill(child.pid!, 'SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface ImageConfig {
  entrypoint?: string[]; cmd?: string[]; workdir?: string; env?: Record<string, string>; user?: string; labels?: Record<string, string>;
  /** Extra files by absolute path (scripts are made executable when they start with `#!`). */
  files?: Record<string, string>;
}

/**
 * Builds a busybox image (every applet linked in /bin) with the given config, pushes it to `ref` on a registry
 * over plain HTTP, and removes the local copy, so that a pull really pulls. Returns the pushed digest.
 */
export function pushBusyboxImage(ref: string, config: ImageConfig, creds?: { user: string; password: string }): string {
  const dir = mkdtempSync(join(tmpdir(), 'convergit-image-'));
  try {
    const root = join(dir, 'rootfs');
    mkdirSync(join(root, 'bin'), { recursive: true });
    for (const d of ['tmp', 'etc', 'www', 'data']) mkdirSync(join(root, d));
    chmodSync(join(root, 'tmp'), 0o1777);
    cpSync(execFileSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).trim(), join(root, 'bin', 'busybox'), { dereference: true });
    for (const applet of execFileSync(join(root, 'bin', 'busybox'), ['--list'], { encoding: 'utf8' }).split('\n')) {
      if (applet && applet !== 'busybox') symlinkSync('busybox', join(root, 'bin', applet));
    }
    writeFileSync(join(root, 'www', 'index.html'), 'hello from busybox httpd\n');
    writeFileSync(join(root, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n');
    writeFileSync(join(root, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');
    for (const [path, text] of Object.entries(config.files ?? {})) {
      mkdirSync(join(root, dirname(path)), { recursive: true });
      writeFileSync(join(root, path), text, { mode: text.startsWith('#!') ? 0o755 : 0o644 });
    }
    execFileSync('tar', ['-C', root, '-cf', join(dir, 'rootfs.tar'), '.']);
    const changes = [
      `ENV PATH=/bin`,
      ...Object.entries(config.env ?? {}).map(([k, v]) => `ENV ${k}=${v}`),
      ...(config.entrypoint ? [`ENTRYPOINT ${JSON.stringify(config.entrypoint)}`] : []),
      ...(config.cmd ? [`CMD ${JSON.stringify(config.cmd)}`] : []),
      ...(config.workdir ? [`WORKDIR ${config.workdir}`] : []),
      ...(config.user ? [`USER ${config.user}`] : []),
      ...Object.entries(config.labels ?? {}).map(([k, v]) => `LABEL ${k}=${v}`),
    ].flatMap((c) => ['--change', c]);
    const local = `localhost/convergit-test-build:${Date.now()}${Math.floor(Math.random() * 1000)}`;
    execFileSync('podman', ['import', '--quiet', ...changes, join(dir, 'rootfs.tar'), local], { stdio: 'ignore' });
    try {
      const digestFile = join(dir, 'digest');
      execFileSync('podman', ['push', '--quiet', '--tls-verify=false', '--digestfile', digestFile, ...(creds ? ['--creds', `${creds.user}:${creds.password}`] : []), local, ref], { stdio: ['ignore', 'ignore', 'pipe'] });
      return readdirSync(dir).includes('digest') ? execFileSync('cat', [digestFile], { encoding: 'utf8' }).trim() : '';
    } finally {
      execFileSync('podman', ['rmi', '-f', local], { stdio: 'ignore' });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Removes local images whose names start with `prefix` (what a test pulled). */
export function removeImages(prefix: string): void {
  const names = execFileSync('podman', ['images', '--format', '{{.Repository}}:{{.Tag}}'], { encoding: 'utf8' }).split('\n').filter((n) => n.startsWith(prefix));
  if (names.length) execFileSync('podman', ['rmi', '-f', ...names], { stdio: 'ignore' });
}
