// The podman runtime's record of when each image it pulled was last used (image GC's "least recently used").
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageUsage } from '../../src/node/runtime/podman/image-gc.ts';
import { until } from '../support/wait.ts';

const dir = mkdtempSync(join(tmpdir(), 'convergit-image-usage-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const saved = (file: string) => { try { return JSON.parse(readFileSync(file, 'utf8')); } catch { return undefined; } };

test('a pull is saved at once; a start within a second; flush writes what waits; a new reader sees it all, least recently used first', async () => {
  const file = join(dir, 'a.json');
  const usage = new ImageUsage(file);
  usage.touch('img-b', 2000);
  assert.equal(saved(file), { 'img-b': 2000 }, 'the pull is on disk at once');
  usage.touch('img-a', 1000);
  usage.touch('img-b', 3000, { soon: true });
  assert.equal(saved(file), { 'img-b': 2000, 'img-a': 1000 }, 'the start waits');
  await until(() => saved(file)?.['img-b'] === 3000, 'the start saved', 5000);
  usage.touch('img-a', 4000, { soon: true });
  usage.flush();
  assert.equal(saved(file), { 'img-b': 3000, 'img-a': 4000 }, 'flushed');
  const again = new ImageUsage(file);
  assert.ok(again.has('img-a') && !again.has('img-c'));
  assert.equal(again.entries(), [['img-b', 3000], ['img-a', 4000]]);
  again.forget('img-b');
  assert.equal(saved(file), { 'img-a': 4000 });
});

test('an unreadable file starts an empty record', () => {
  const usage = new ImageUsage(join(dir, 'missing', 'x.json'));
  assert.equal(usage.entries(), []);
  assert.not.ok(usage.has('img'));
});

test.run();
