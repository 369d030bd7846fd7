/**
 * When the next reconnect runs: backoff with jitter (or longer when the server said Retry-After),
 * a budget of attempts in a row, and a way to run a pending attempt at once (network back, page
 * visible again). Holds one timer; `cancel()` leaves nothing behind. Which errors are retried is
 * not decided here (see recovery.ts); the controller is the only user.
 */
import { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from './connection/backoff.js';

export class RetrySchedule {
  readonly #retries: () => number;
  readonly #random: () => number;
  #attempt = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #run: (() => void) | undefined;

  /** `retries`: attempts allowed in a row (read at each failure, so the attribute may change). */
  constructor(retries: () => number, random: () => number = Math.random) {
    this.#retries = retries;
    this.#random = random;
  }

  /** Failed attempts since the last success. */
  get attempt(): number {
    return this.#attempt;
  }
  get pending(): boolean {
    return this.#run !== undefined;
  }

  /**
   * Schedules `run` after the next backoff (at least `minDelayMs`). Returns the delay, or
   * undefined when the budget is spent (nothing scheduled).
   */
  schedule(run: () => void, minDelayMs = 0): number | undefined {
    this.cancel();
    if (this.#attempt >= this.#retries()) return undefined;
    const policy: BackoffPolicy = { ...DEFAULT_BACKOFF, retries: this.#retries() };
    const delay = Math.max(backoffDelay(this.#attempt, policy, this.#random), minDelayMs);
    this.#attempt += 1;
    this.#run = run;
    this.#timer = setTimeout(() => this.wake(), delay);
    return delay;
  }

  /** Runs the pending attempt now (no-op when none is pending). */
  wake(): void {
    const run = this.#run;
    this.cancel();
    run?.();
  }

  /** Progress was made: the budget is for failures in a row. */
  succeeded(): void {
    this.#attempt = 0;
  }

  cancel(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#run = undefined;
  }
}

/** Calls `onNetworkBack` when the browser goes online or the page becomes visible; returns the unsubscribe. */
export function watchNetworkReturn(onNetworkBack: () => void): () => void {
  const onVisibility = (): void => {
    if (document.visibilityState === 'visible') onNetworkBack();
  };
  window.addEventListener('online', onNetworkBack);
  document.addEventListener('visibilitychange', onVisibility);
  return () => {
    window.removeEventListener('online', onNetworkBack);
    document.removeEventListener('visibilitychange', onVisibility);
  };
}
