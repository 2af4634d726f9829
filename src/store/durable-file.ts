// Writing a file so that a crash at any instant leaves either the old content or the new, never a mix, and a
// finished write survives a power cut: temporary file, fsync, rename over the old one, fsync of the folder (the
// rename lives in the folder's entries). Both the async form (state.json) and a sync one (small records) are here,
// and, for files a power cut may take back but nothing may see half written (caches, records made again at start,
// files other programs read: kubeconfig), the same without the fsyncs, which cost milliseconds each.
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { open, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** The temporary name: hidden, beside the file (a rename must not cross file systems), one per process. */
const tmpOf = (file: string) => join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);

export async function writeFileDurably(file: string, data: string | Uint8Array | Iterable<string>, mode = 0o600): Promise<void> {
  const tmp = tmpOf(file);
  const fh = await open(tmp, 'w', mode);
  try {
    if (typeof data === 'string' || data instanceof Uint8Array) await fh.writeFile(data);
    else {
      // Pieces made one at a time, the event loop turning between them: a big file does not stall it.
      for (const piece of data) {
        await fh.write(piece);
        await new Promise((r) => setImmediate(r));
      }
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
  const dir = await open(dirname(file), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

export function writeFileDurablySync(file: string, data: string, mode = 0o600): void {
  const tmp = tmpOf(file);
  const fd = openSync(tmp, 'w', mode);
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  const dir = openSync(dirname(file), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

/** Whole or not at all, without fsync (see above). The temporary file is removed if the write fails. */
export function writeFileWholeSync(file: string, data: string | Uint8Array, mode?: number): void {
  const tmp = tmpOf(file);
  try {
    writeFileSync(tmp, data, { mode });
    renameSync(tmp, file);
  } catch (e) {
    try { rmSync(tmp, { force: true }); } catch { /* the write's error is the one to tell */ }
    throw e;
  }
}

let writes = 0;

/** writeFileWholeSync off the event loop. */
export async function writeFileWhole(file: string, data: string | Uint8Array, mode?: number): Promise<void> {
  // Two writes of one file may overlap here: each its own temporary file.
  const tmp = `${tmpOf(file)}.${++writes}`;
  try {
    await writeFile(tmp, data, { mode });
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => {}); // the write's error is the one to tell
    throw e;
  }
}
