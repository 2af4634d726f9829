// A container's termination message, read as the kubelet reads it when the container has exited: the file the
// container wrote at its terminationMessagePath (its last 4096 bytes), or with terminationMessagePolicy
// FallbackToLogsOnError, for a failed run whose file is missing or empty, the last 80 lines / 2048 bytes of its log.
import { open, chmod } from 'node:fs/promises';
import { mkdir, writeFile } from './quick-fs.ts';
import { dirname } from 'node:path';
import { presentLog } from './logs.ts';

/** kubelet's MaxContainerTerminationMessageLength. */
export const MAX_MESSAGE_BYTES = 4096;
/** kubelet's MaxContainerTerminationMessageLogLines and MaxContainerTerminationMessageLogLength. */
export const MAX_LOG_LINES = 80;
export const MAX_LOG_BYTES = 2048;

/** The host file that stands for a container instance's terminationMessagePath, beside its log file. */
export const terminationLogOf = (logFile: string) => logFile.replace(/\.log$/, '') + '.termination-log';

/** Creates the (empty) file, writable by any user, for a runtime to mount at terminationMessagePath. */
export async function prepareTerminationLog(file: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, '');
  await chmod(file, 0o666);
}

/** The last `max` bytes of a file; undefined when it does not exist. */
async function tail(file: string, max: number): Promise<string | undefined> {
  let fh;
  try {
    fh = await open(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    const { size } = await fh.stat();
    const n = Math.min(size, max);
    const buf = Buffer.alloc(n);
    await fh.read(buf, 0, n, size - n);
    return buf.toString('utf8');
  } finally {
    await fh.close();
  }
}

/** The last MAX_LOG_LINES lines of the log, of which the last MAX_LOG_BYTES bytes, as the kubelet takes them. */
export async function logTail(logFile: string): Promise<string> {
  // Enough of the file for 80 lines of CRI-framed text; the framing is taken off before counting.
  const raw = (await tail(logFile, 64 * 1024).catch(() => undefined)) ?? '';
  const text = presentLog(raw, {});
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const last = lines.slice(-MAX_LOG_LINES).join('\n') + (lines.length ? '\n' : '');
  const bytes = Buffer.from(last);
  return bytes.length > MAX_LOG_BYTES ? bytes.subarray(bytes.length - MAX_LOG_BYTES).toString('utf8') : last;
}

/** The message for an exited instance: the file's, else the log's under `fallbackToLogs`. */
export async function terminationMessage(file: string, logFile: string, fallbackToLogs: boolean): Promise<string> {
  let text: string | undefined;
  try {
    text = await tail(file, MAX_MESSAGE_BYTES);
  } catch (e) {
    return `Error on reading termination log ${file}: ${(e as Error).message}`;
  }
  if (text) return text;
  return fallbackToLogs ? logTail(logFile) : '';
}
