/**
 * The page's one AudioContext, shared by every player (browsers limit how many a page may open,
 * and one clock keeps players comparable). Created on first use, never closed while players live.
 */
let shared: AudioContext | undefined;
let liveEngines = 0;

/** The shared context if the page has one already (nothing is created). */
export function existingSharedAudioContext(): AudioContext | undefined {
  return shared && shared.state !== 'closed' ? shared : undefined;
}

export function sharedAudioContext(): AudioContext {
  if (!shared || shared.state === 'closed') {
    // 'interactive': the smallest output buffer that plays without glitches, for a fast start.
    shared = new AudioContext({ latencyHint: 'interactive' });
  }
  return shared;
}

/** The browser's autoplay policy holds the shared context suspended until a user gesture. */
export function audioContextNeedsGesture(): boolean {
  return sharedAudioContext().state === 'suspended';
}

const GESTURE_EVENTS = ['pointerdown', 'keydown', 'touchend', 'click'] as const;

/**
 * Resolves once the shared context is running: at once if it already is, otherwise after the first
 * click, key press or touch anywhere on the page (resume() must be called inside the gesture's own
 * event handler to count). Its listeners are removed once it resolves.
 */
export function resumeOnFirstGesture(): Promise<void> {
  const context = sharedAudioContext();
  if (context.state === 'running') return Promise.resolve();
  // Every player on the page waits on the same gesture: one set of listeners for all of them.
  if (waiting?.context !== context) waiting = { context, running: whenRunningAfterGesture(context) };
  return waiting.running;
}

let waiting: { context: AudioContext; running: Promise<void> } | undefined;

function whenRunningAfterGesture(context: AudioContext): Promise<void> {
  return new Promise<void>((resolve) => {
    const tryResume = (): void => {
      context.resume().then(check, () => undefined);
    };
    const check = (): void => {
      if (context.state !== 'running') return;
      for (const type of GESTURE_EVENTS) window.removeEventListener(type, tryResume, true);
      context.removeEventListener('statechange', check);
      waiting = undefined;
      resolve();
    };
    for (const type of GESTURE_EVENTS) window.addEventListener(type, tryResume, true);
    context.addEventListener('statechange', check);
    tryResume(); // succeeds without a gesture when the policy (or an earlier gesture) allows it
  });
}

/** How many PlaybackEngines hold the shared (or any) context right now; for tests and leak checks. */
export function liveEngineCount(): number {
  return liveEngines;
}

/** PlaybackEngine's bookkeeping: one call with +1 on create, one with -1 on destroy. */
export function countEngine(delta: 1 | -1): void {
  liveEngines += delta;
}
