// Tests that need podman skip (with a notice) only where it is not installed; .ci/run installs it.
import { execFileSync } from 'node:child_process';

/** Why podman tests cannot run here, or undefined when they can. */
export function podmanMissing(): string | undefined {
  if (process.platform !== 'linux') return 'podman tests need Linux';
  if (process.getuid?.() !== 0) return 'podman tests run rootful podman (run them as root)';
  try {
    execFileSync('podman', ['--version'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'podman is not installed (apt-get install podman)';
  }
}
