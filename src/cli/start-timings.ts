// Where serve's start went, wall and CPU time per step from the process's own start (module loading included):
// one log line, so a slow restart (issue 13: converged within 2 s of the new serve after `kill -9`) says why.
export interface StartTimings {
  /** Ends the step under way, named for what it did. */
  mark(step: string): void;
  /** `started in 2140 ms (CPU 900 ms): modules 1200/610, store 90/60, …` (each step's wall/CPU ms). */
  line(): string;
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** What bin/run-bundle.js made of V8's code cache (used, refused, none, off); nothing when run from build/ or src/. */
const codeCache = () => {
  const state = (globalThis as Record<symbol, unknown>)[Symbol.for('convergit.codeCacheState')];
  return typeof state === 'string' ? `; code cache ${state}` : '';
};

export function startTimings(): StartTimings {
  const steps: string[] = [];
  let wall = 0, cpu = 0; // performance.now() counts from the process's start, as cpuUsage does
  return {
    mark(step) {
      const [w, c] = [performance.now(), cpuMs()];
      steps.push(`${step} ${Math.round(w - wall)}/${Math.round(c - cpu)}`);
      [wall, cpu] = [w, c];
    },
    line: () => `started in ${Math.round(performance.now())} ms (CPU ${Math.round(cpuMs())} ms); wall/CPU ms by step: ${steps.join(', ')}${codeCache()}`,
  };
}
