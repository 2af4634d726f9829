/**
 * A delay as long as it is asked, at most what a timer can wait (~24.8 days): node fires a longer one at once, so a
 * pod's terminationGracePeriodSeconds (or a preStop hook's sleep or timeout, which is that grace) of a month would have
 * been no wait at all.
 */
export const timerDelayMs = (ms: number): number => Math.min(Math.max(0, ms), 2 ** 31 - 1);
