/**
 * Timers for delays that come from configuration (flush.ms, file.delete.delay.ms, …). Bun's and
 * Node's timers take a signed 32-bit delay: anything above 2^31-1 ms (about 24.8 days) fires after
 * 1 ms instead, with a TimeoutOverflowWarning. Kafka's long-typed configs allow far larger values,
 * and a user setting flush.ms to, say, 30 days must not get a flush after every append.
 */

/** The largest delay a timer honours. */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/** A delay a timer honours: negative and NaN become 0, larger ones are cut to MAX_TIMER_DELAY_MS. */
export function timerDelay(ms: number): number {
  if (!(ms > 0)) return 0;
  return Math.min(ms, MAX_TIMER_DELAY_MS);
}

export interface LongTimeout {
  cancel(): void;
}

/**
 * Runs `fn` once, `ms` from now, however large `ms` is (chained timers of at most
 * MAX_TIMER_DELAY_MS). Unreferenced: a pending one never keeps the process alive.
 */
export function setLongTimeout(fn: () => void, ms: number): LongTimeout {
  const due = Date.now() + Math.max(0, ms);
  let timer: ReturnType<typeof setTimeout>;
  const arm = (): void => {
    timer = setTimeout(() => {
      if (Date.now() < due) arm();
      else fn();
    }, timerDelay(due - Date.now()));
    timer.unref?.();
  };
  arm();
  return { cancel: () => clearTimeout(timer) };
}
