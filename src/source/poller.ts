// Runs an async task every `ms`, never two at once; stop() waits for a running one to finish.

export function every(ms: number, task: () => Promise<void>): () => Promise<void> {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  const schedule = () => {
    timer = setTimeout(() => {
      running = task().catch(() => {}).finally(() => {
        running = undefined;
        if (!stopped) schedule();
      });
    }, ms);
  };
  schedule();
  return async () => {
    stopped = true;
    clearTimeout(timer);
    await running;
  };
}
