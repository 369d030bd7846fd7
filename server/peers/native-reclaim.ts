/**
 * @roamhq/wrtc frees a closed peer's threads and sockets only when its JS wrapper is garbage
 * collected, and V8 sees only a few small JS objects, so after a burst of closed peers nothing
 * prompts a collection: threads and fds would stay up for minutes. This asks for one full GC
 * shortly after peers closed (debounced, at most every few seconds), which returns the process
 * to its baseline. Without access to `gc` it does nothing.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

function obtainGc(): (() => void) | undefined {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (typeof existing === 'function') return existing;
  try {
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('gc');
    return typeof gc === 'function' ? (gc as () => void) : undefined;
  } catch {
    return undefined;
  }
}

export class NativeReclaimer {
  private readonly gc = obtainGc();
  private timer: NodeJS.Timeout | undefined;
  private lastRun = 0;

  constructor(
    private readonly delayMs = 500,
    private readonly minIntervalMs = 3000,
  ) {}

  /** A peer was closed: collect soon (coalesced with other closes). */
  peerClosed(): void {
    if (this.gc === undefined || this.timer !== undefined) return;
    const wait = Math.max(this.delayMs, this.lastRun + this.minIntervalMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.lastRun = Date.now();
      this.gc?.();
      // Native objects are freed by the finalizers the first pass queued: a second pass
      // collects what those finalizers released.
      setTimeout(() => this.gc?.(), this.delayMs).unref();
    }, wait);
    this.timer.unref();
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
