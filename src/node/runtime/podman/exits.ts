// Container exits, from one `podman events` stream for all of this runtime's containers (one process, not a
// `podman wait` per container). A container that died before it was watched is found by the inspect that
// follows every watch, so no exit is missed either way.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { podman, type PodmanCli } from './cli.ts';

export class ExitWatcher {
  private child?: ChildProcess;
  private readonly waiters = new Map<string, () => void>();
  private closed = false;
  private poll?: NodeJS.Timeout;

  constructor(private readonly cli: PodmanCli, private readonly label: string) {}

  /** Calls `onDied` once when the container (by name) has died; `check` is asked at once too, for an early death. */
  watch(name: string, onDied: () => void): void {
    this.ensure();
    let fired = false;
    this.waiters.set(name, () => {
      if (fired) return;
      fired = true;
      this.waiters.delete(name);
      onDied();
    });
    if (this.early.delete(name)) this.died(name);
  }

  /** Fires the waiter of `name` (a death seen another way). */
  died(name: string): void {
    this.waiters.get(name)?.();
  }

  /** A death on the stream of a container not watched (yet): its start has not returned. Kept a minute. */
  private readonly early = new Map<string, number>();

  private diedEvent(name: string): void {
    if (this.waiters.has(name)) return this.died(name);
    const now = Date.now();
    for (const [n, at] of this.early) if (now - at > 60_000) this.early.delete(n);
    this.early.set(name, now);
  }

  private ensure(): void {
    if (this.closed) return;
    // A slow safety net under the stream: one listing of exited containers, while any is watched.
    this.poll ??= setInterval(() => void this.sweep(), 3000);
    if (this.child) return;
    // --since covers the moment between spawning the stream and its reading the events file.
    const since = new Date(Date.now() - 5000).toISOString();
    const child = spawn(this.cli.bin, ['events', '--format', 'json', '--since', since, '--filter', 'type=container', '--filter', 'event=died', '--filter', `label=${this.label}`], {
      env: this.cli.env, cwd: this.cli.cwd, stdio: ['ignore', 'pipe', 'ignore'],
    });
    this.child = child;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const e = JSON.parse(line) as { Name?: string };
        if (e.Name) this.diedEvent(e.Name);
      } catch { /* not an event */ }
    });
    child.once('close', () => {
      this.child = undefined;
      // The stream ended (podman upgraded, killed): a new one is started for the next watch; current ones are
      // re-checked by their owners' polls.
      if (!this.closed && this.waiters.size) this.ensure();
    });
  }

  /** Exited containers, and watched ones that are gone altogether (removed from outside, their event missed). */
  private async sweep(): Promise<void> {
    if (!this.waiters.size) return;
    const watched = [...this.waiters.keys()];
    const r = await podman(this.cli, ['ps', '-a', '--filter', `label=${this.label}`, '--format', 'json']);
    if (r.code !== 0) return;
    const states = new Map((JSON.parse(r.stdout || '[]') as { Names: string[]; State: string }[]).flatMap((c) => c.Names.map((n) => [n, c.State] as const)));
    for (const name of watched) {
      const state = states.get(name);
      if (state === undefined || state === 'exited' || state === 'stopped') this.died(name);
    }
  }

  close(): void {
    this.closed = true;
    clearInterval(this.poll);
    this.child?.kill('SIGTERM');
    this.child = undefined;
  }
}
