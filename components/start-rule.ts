/**
 * When may playback start (or resume after running dry) without a glitch? Pure, so the rule is
 * unit-tested and documented in one place.
 *
 * `buffer-seconds` is an upper bound on the wait, not a fixed one. Playback starts as soon as ONE
 * of these holds:
 *  1. the whole stream has arrived (a track shorter than `buffer-seconds` starts once complete);
 *  2. `bufferSeconds` of audio lie ahead of the play position;
 *  3. the measured arrival rate proves the buffer can never run dry: at least `minStartSeconds`
 *     lie ahead, and with the rate discounted by `safety` the rest of the track arrives before
 *     the audio already ahead is used up. With audio arriving at `r` seconds of audio per second
 *     (discounted: r' = r / safety), playing the remaining `R` seconds needs `R / r'` seconds of
 *     download while `ahead + R` seconds of playback remain; the buffer is lowest at the end
 *     when r' < 1, so the condition is `ahead ≥ R · (1/r' − 1)` (always true once r' ≥ 1).
 * The server bursts the first seconds at many times real time, so rule 3 usually fires on the
 * first chunk that carries more than `minStartSeconds` of audio.
 */
export interface StartInputs {
  /** Seconds of received (whole-frame) audio ahead of the play position. */
  aheadSeconds: number;
  /** The whole file has arrived. */
  complete: boolean;
  /** The `buffer-seconds` attribute. */
  bufferSeconds: number;
  /** Measured arrival rate: seconds of audio received per wall-clock second; undefined when unknown. */
  arrivalRate: number | undefined;
  /** Seconds of audio not yet received; undefined when unknown (treated as unbounded). */
  remainingSeconds: number | undefined;
}

/** Never start on less than this (bounded by `bufferSeconds`): decoder and output need a little slack. */
export const MIN_START_SECONDS = 1;
/** The rate measured on the first chunks is optimistic (burst); discount it by this factor. */
export const RATE_SAFETY = 2;

export function canStart(input: StartInputs): boolean {
  if (input.complete) return true;
  if (input.aheadSeconds >= input.bufferSeconds) return true;
  const floor = Math.min(MIN_START_SECONDS, input.bufferSeconds);
  if (input.aheadSeconds < floor || input.arrivalRate === undefined || !(input.arrivalRate > 0)) return false;
  const rate = input.arrivalRate / RATE_SAFETY;
  if (rate >= 1) return true;
  if (input.remainingSeconds === undefined) return false;
  return input.aheadSeconds >= input.remainingSeconds * (1 / rate - 1);
}

/** 0..1: progress toward the start threshold, for the buffering bar. */
export function startProgress(aheadSeconds: number, bufferSeconds: number, complete: boolean): number {
  if (complete || bufferSeconds <= 0) return 1;
  return Math.max(0, Math.min(1, aheadSeconds / bufferSeconds));
}
