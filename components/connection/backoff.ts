/**
 * Retry timing, as pure functions: how long to wait before reconnect attempt `n`, and how long a
 * server asked us to wait (`Retry-After`). The player controller owns the retry loop; this module
 * only answers "how long".
 */

export interface BackoffPolicy {
  /** Nominal delay of the first retry (attempt 0). */
  baseMs: number;
  /** No delay is ever longer than this. */
  capMs: number;
  /** How many retries the controller makes before giving up (not used by {@link backoffDelay}). */
  retries: number;
}

/** The design's policy: 500 ms → 1 s → 2 s → 4 s, four retries. */
export const DEFAULT_BACKOFF: Readonly<BackoffPolicy> = Object.freeze({ baseMs: 500, capMs: 4000, retries: 4 });

/**
 * Longest wait we honour from a `Retry-After` header. A server (or a proxy in front of it) that
 * asks for minutes would leave a listener looking at a frozen player; past this the controller
 * is better off retrying on its own schedule or reporting the error.
 */
export const MAX_RETRY_AFTER_MS = 60_000;

/**
 * Delay before retry `attempt` (0-based): nominal = min(capMs, baseMs · 2^attempt), then "equal
 * jitter" — half of the nominal fixed plus a random part up to the other half, i.e. a delay in
 * [nominal/2, nominal]. Why not full jitter (random(0, nominal)): a player retrying after a drop
 * wants the delays to keep growing so it does not hammer a struggling server, and full jitter can
 * pick ~0 ms on any attempt. With equal jitter the ranges of successive attempts do not overlap
 * (250–500, 500–1000, 1000–2000, 2000–4000 ms for the default policy), so delays never shrink,
 * while many clients that dropped at the same moment (a server restart) still spread out.
 *
 * `random` must return values in [0, 1), like `Math.random` (injectable for tests).
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const cap = Math.max(0, policy.capMs);
  // NaN and negatives count as the first attempt; 2 ** step may reach Infinity, min() caps it.
  const step = attempt > 0 ? Math.floor(Math.min(attempt, 1100)) : 0;
  const nominal = Math.min(cap, Math.max(0, policy.baseMs) * 2 ** step);
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.min(cap, Math.round(nominal / 2 + (nominal / 2) * r));
}

/**
 * Milliseconds to wait according to a `Retry-After` header (RFC 9110 §10.2.3): either
 * delta-seconds (`120`) or an HTTP-date (`Wed, 21 Oct 2015 07:28:00 GMT`, relative to `now`).
 * Returns undefined when there is no usable header; 0 for a date in the past; never more than
 * {@link MAX_RETRY_AFTER_MS}.
 */
export function retryAfterMs(header: string | null | undefined, now: number = Date.now()): number | undefined {
  if (header == null) return undefined;
  const value = header.trim();
  if (value === '') return undefined;
  // Digits only: delta-seconds. Checked first because Date.parse('5') is a date (year 2005).
  if (/^\d+$/.test(value)) return Math.min(Number(value) * 1000, MAX_RETRY_AFTER_MS);
  // Anything else that looks numeric (negative, fractional, exponent) is not valid delta-seconds,
  // and must not reach Date.parse either.
  if (/^[-+.\deE\s]+$/.test(value)) return undefined;
  const at = Date.parse(value);
  if (!Number.isFinite(at)) return undefined;
  return Math.min(Math.max(0, at - now), MAX_RETRY_AFTER_MS);
}
