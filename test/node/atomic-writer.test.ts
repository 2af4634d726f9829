// The kubelet's atomic writer: files behind a `..data` link swapped by one rename, user-visible names as links
// through it, stale names removed, nothing written when nothing changed, bad paths refused before any write.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeAtomically, type FileProjection } from '../../src/node/volumes/atomic-writer.ts';

let dir: string;
test.before.each(() => { dir = mkdtempSync(path.join(tmpdir(), 'convergit-atomic-')); });
test.after.each(() => rmSync(dir, { recursive: true, force: true }));

const files = (entries: Record<string, string>, mode = 0o644) =>
  new Map<string, FileProjection>(Object.entries(entries).map(([k, v]) => [k, { data: Buffer.from(v), mode }]));
const read = (p: string) => readFileSync(path.join(dir, p), 'utf8');
const stamped = () => readdirSync(dir).filter((n) => n.startsWith('..') && n !== '..data');

test('files sit in a timestamped folder behind ..data; the visible names are links through it, with their modes', async () => {
  assert.ok(await writeAtomically(dir, files({ greeting: 'hello', 'nested/deep.txt': 'x' }, 0o600)));
  assert.is(readlinkSync(path.join(dir, 'greeting')), '..data/greeting');
  assert.is(readlinkSync(path.join(dir, 'nested')), '..data/nested');
  assert.ok(lstatSync(path.join(dir, '..data')).isSymbolicLink());
  assert.is(stamped().length, 1);
  assert.is(read('greeting'), 'hello');
  assert.is(read('nested/deep.txt'), 'x');
  assert.is(statSync(path.join(dir, 'greeting')).mode & 0o777, 0o600);
});

test('an update swaps ..data to a new folder, removes the old one and names no longer in the payload', async () => {
  await writeAtomically(dir, files({ greeting: 'hello', old: 'gone soon' }));
  const before = readlinkSync(path.join(dir, '..data'));
  assert.ok(await writeAtomically(dir, files({ greeting: 'bonjour' })));
  const after = readlinkSync(path.join(dir, '..data'));
  assert.is.not(after, before);
  assert.is(read('greeting'), 'bonjour');
  assert.equal(readdirSync(dir).filter((n) => !n.startsWith('..')), ['greeting']);
  assert.equal(stamped(), [after]);
});

test('an unchanged payload writes nothing; a changed mode alone is a change', async () => {
  await writeAtomically(dir, files({ a: '1' }));
  const link = readlinkSync(path.join(dir, '..data'));
  assert.not.ok(await writeAtomically(dir, files({ a: '1' })));
  assert.is(readlinkSync(path.join(dir, '..data')), link);
  assert.ok(await writeAtomically(dir, files({ a: '1' }, 0o400)));
});

test('a reader following the links during updates sees a whole old or new file, never a mix or nothing', async () => {
  const big = (c: string) => c.repeat(200_000);
  await writeAtomically(dir, files({ f: big('a') }));
  let stop = false;
  const seen = new Set<string>();
  const reader = (async () => {
    while (!stop) {
      const text = readFileSync(path.join(dir, 'f'), 'utf8');
      seen.add(text.length === 200_000 && (text === big('a') || text === big('b')) ? text[0] : `torn:${text.length}`);
      await new Promise((r) => setImmediate(r));
    }
  })();
  for (let i = 0; i < 20; i++) await writeAtomically(dir, files({ f: big(i % 2 ? 'a' : 'b') }));
  stop = true;
  await reader;
  assert.equal([...seen].filter((s) => s.startsWith('torn')), []);
});

test('absolute paths and .. are refused before anything is written', async () => {
  for (const bad of ['/etc/passwd', '../up', 'a/../../b', '..hidden']) {
    const err = await writeAtomically(dir, files({ ok: '1', [bad]: 'x' })).then(() => undefined, (e: Error) => e);
    assert.match(String(err?.message), `invalid path ${JSON.stringify(bad)}`);
  }
  assert.equal(readdirSync(dir), []);
});

test.run();
