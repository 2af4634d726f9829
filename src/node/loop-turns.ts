// Pod work that comes in bursts (1,000 pods of a deleted Deployment stopped at once) let through a few pods per turn
// of the event loop, so that requests and watches are served between them.

/** How long the work let through in one turn (and whatever else ran in it) may take before fewer go at a time. */
const TURN_MS = 5;
/** The most let through in one turn. */
const MOST = 64;

const waiting: (() => void)[] = [];
let head = 0;
let scheduled = false;
/** How many go in the next turn: doubled while turns stay short, halved when one was long. */
let allowance = 1;
let releasedAt = 0;

/**
 * Resolves in a later turn of the event loop, in order of asking. The number let through a turn adapts to what the
 * turns cost: each one's work (a status write, a store delete, the watch events they deliver, a SIGTERM) runs
 * right after it is let through, so the time from one release to the next is what they took.
 */
export function laterTurn(): Promise<void> {
  return new Promise((resolve) => {
    waiting.push(resolve);
    if (scheduled) return;
    scheduled = true;
    // A new burst starts small: what its work costs is not known yet.
    allowance = 1;
    releasedAt = performance.now();
    setImmediate(release);
  });
}

function release(): void {
  const took = performance.now() - releasedAt;
  allowance = took > TURN_MS ? Math.max(1, allowance >> 1) : Math.min(MOST, allowance * 2);
  for (let n = 0; n < allowance && head < waiting.length; n++) waiting[head++]();
  if (head === waiting.length) {
    waiting.length = 0;
    head = 0;
    scheduled = false;
  } else setImmediate(release);
  releasedAt = performance.now();
}
