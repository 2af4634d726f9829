// --registry-mirror: `<registry>=<URL>` parsed as containerd's and CRI-O's mirror settings read, the registries.conf
// podman is pointed at, and a bad value refused by the CLI before serve starts anything.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { registryMirror } from '../../src/cli/options.ts';
import { parseRegistryMirror, registriesConf, writeRegistriesConf } from '../../src/node/runtime/podman/config.ts';

const BIN = new URL('../../bin/convergit.js', import.meta.url).pathname;

test('parse: registry host, http mirrors insecure, https ones not, a path kept as the mirror\'s namespace', () => {
  assert.equal(parseRegistryMirror('docker.io=http://127.0.0.1:5000'), { registry: 'docker.io', location: '127.0.0.1:5000', insecure: true });
  assert.equal(parseRegistryMirror('quay.io=https://mirror.example.com/quay/'), { registry: 'quay.io', location: 'mirror.example.com/quay', insecure: false });
  assert.equal(parseRegistryMirror('index.docker.io=https://m.example.com'), { registry: 'docker.io', location: 'm.example.com', insecure: false });
  assert.equal(parseRegistryMirror('localhost:5000=http://[::1]:5001'), { registry: 'localhost:5000', location: '[::1]:5001', insecure: true });
});

test('parse: bad values name what is wrong', () => {
  assert.throws(() => parseRegistryMirror('http://127.0.0.1:5000'), /is not <registry>=<mirror URL>, such as docker.io=http:\/\/127.0.0.1:5000/);
  assert.throws(() => parseRegistryMirror('=http://a.b'), /is not <registry>=<mirror URL>/);
  assert.throws(() => parseRegistryMirror('busybox=http://127.0.0.1:5000'), /"busybox" is not a registry host such as docker.io/);
  assert.throws(() => parseRegistryMirror('docker.io/library=http://127.0.0.1:5000'), /"docker.io\/library" is not a registry host/);
  assert.throws(() => parseRegistryMirror('docker.io=127.0.0.1:5000'), /the mirror must be an http:\/\/ or https:\/\/ URL, such as http:\/\/127.0.0.1:5000/);
  assert.throws(() => parseRegistryMirror("docker.io=http://exa mple"), /"http:\/\/exa mple" is not a URL/);
  assert.throws(() => parseRegistryMirror('docker.io=ftp://m.example.com'), /must be an http:\/\/ or https:\/\/ URL, not ftp:/);
  assert.throws(() => parseRegistryMirror('docker.io=https://u:p@m.example.com'), /credentials do not belong in the mirror URL/);
  assert.throws(() => parseRegistryMirror('docker.io=https://m.example.com/?x=1'), /may not have a query or a fragment/);
  assert.throws(() => parseRegistryMirror('docker.io=https://m.example.com/Upper'), /"\/Upper" is not a repository path/);
});

test('--registry-mirror is repeatable: mirrors kept in order, grouped per registry in registries.conf', () => {
  let acc = registryMirror('docker.io=http://127.0.0.1:5000');
  acc = registryMirror('quay.io=https://mirror.example.com/quay', acc);
  acc = registryMirror('docker.io=https://mirror.example.com/hub', acc);
  assert.equal(acc.map((m) => m.location), ['127.0.0.1:5000', 'mirror.example.com/quay', 'mirror.example.com/hub']);
  assert.is(registriesConf(acc), [
    '# Written by convergit for the podman it runs (CONTAINERS_REGISTRIES_CONF), from --registry-mirror.',
    '',
    '[[registry]]', 'prefix = "docker.io"', 'location = "docker.io"',
    '[[registry.mirror]]', 'location = "127.0.0.1:5000"', 'insecure = true',
    '[[registry.mirror]]', 'location = "mirror.example.com/hub"', 'insecure = false',
    '',
    '[[registry]]', 'prefix = "quay.io"', 'location = "quay.io"',
    '[[registry.mirror]]', 'location = "mirror.example.com/quay"', 'insecure = false',
    '',
  ].join('\n'));
  assert.throws(() => registryMirror('docker.io'), /is not <registry>=<mirror URL>/);
});

test('the file: written with mirrors, removed without (podman\'s own registries.conf applies again)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'convergit-mirrors-'));
  try {
    const file = await writeRegistriesConf(dir, [parseRegistryMirror('docker.io=http://127.0.0.1:5000')]);
    assert.is(file, join(dir, 'registries.conf'));
    assert.match(readFileSync(file!, 'utf8'), /location = "127.0.0.1:5000"\ninsecure = true/);
    assert.is(await writeRegistriesConf(dir, []), undefined);
    assert.not.ok(existsSync(join(dir, 'registries.conf')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('serve --registry-mirror with a bad value: exit 1 with the reason, nothing started', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'convergit-mirrors-'));
  try {
    const r = await promisify(execFile)(process.execPath, [BIN, 'serve', '--data-dir', join(dir, 'data'), '--port', '0', '--registry-mirror', 'docker.io=ftp://m.example.com'])
      .then(() => ({ code: 0, stderr: '' }), (e: any) => ({ code: e.code, stderr: String(e.stderr) }));
    assert.is(r.code, 1);
    assert.match(r.stderr, /option '--registry-mirror <registry=url>' argument 'docker.io=ftp:\/\/m.example.com' is invalid\. "docker.io=ftp:\/\/m.example.com": the mirror must be an http:\/\/ or https:\/\/ URL, not ftp:/);
    assert.not.ok(existsSync(join(dir, 'data')), 'serve made no data folder');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
