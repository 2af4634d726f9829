// `convergit plan | head`: once the reader of stdout or stderr has gone, a write fails with EPIPE, which node makes an
// uncaught 'error' (a stack trace and exit 1 in place of the command's own code). What is left to print is dropped
// instead, as it would have been read by no one: the command ends as it would have (its exit code; serve goes on).

/** Drops the rest of stdout's and stderr's output once their reader has gone; any other error of theirs still throws. */
export function dropOutputWhenReaderGoes(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
    });
  }
}
