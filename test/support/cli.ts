// The convergit command line as a child process (bin/convergit.js, as a user runs it): its exit code and output.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

export const BIN = new URL('../../bin/convergit.js', import.meta.url).pathname;

export interface CliResult { code: number; stdout: string; stderr: string }

/** Runs `convergit <args>`, with `env` on top of this process's environment. */
export async function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (e: any) {
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

export const cli = (...args: string[]): Promise<CliResult> => runCli(args);
