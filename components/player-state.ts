/**
 * The player's state machine as one transition table. Pure: no DOM, no timers. The controller is
 * the only caller; the element renders whatever state it is in.
 *
 * - `idle`: nothing requested yet (a `preload="metadata"` pre-connection is invisible here).
 * - `connecting`: signaling / ICE / channel open for a stream the user (or `preload="auto"`) wants.
 * - `buffering`: bytes flow; not yet enough audio to start without a glitch.
 * - `ready`: enough is buffered; waiting for `play()`.
 * - `playing`: samples reach the output.
 * - `paused`: the user paused; position and buffer kept.
 * - `waiting`: the user wants sound but the buffer ran dry (slow network or reconnecting).
 * - `stopped`: `stop()`: resources released, position back to 0.
 * - `ended`: the last sample played.
 * - `error`: the stream failed and will not recover by itself (`retry()` continues from the position).
 */
export const PLAYER_STATES = [
  'idle',
  'connecting',
  'buffering',
  'ready',
  'playing',
  'paused',
  'waiting',
  'stopped',
  'ended',
  'error',
] as const;
export type PlayerState = (typeof PLAYER_STATES)[number];

/** What happened, as the controller reports it. */
export type PlayerEvent =
  | 'connect' // a stream was requested (play, preload="auto", retry)
  | 'stream' // the channel is open and bytes flow
  | 'buffered' // enough audio to start glitch-free (see start-rule.ts)
  | 'playing' // the engine reports samples flowing
  | 'pause' // the user paused while sound was wanted
  | 'underrun' // the engine's queue ran dry before the end
  | 'ended' // the engine played the last sample
  | 'stop' // stop(): everything released
  | 'fail' // an error the controller will not recover from by itself
  | 'reset'; // a new src (or removal from the DOM): back to the start

type Table = { readonly [S in PlayerState]: Partial<Readonly<Record<PlayerEvent, PlayerState>>> };

const TABLE: Table = {
  idle: { connect: 'connecting', fail: 'error', reset: 'idle' },
  connecting: { stream: 'buffering', fail: 'error', stop: 'stopped', reset: 'idle' },
  buffering: { buffered: 'ready', fail: 'error', stop: 'stopped', reset: 'idle' },
  ready: { playing: 'playing', fail: 'error', stop: 'stopped', reset: 'idle' },
  playing: { pause: 'paused', underrun: 'waiting', ended: 'ended', fail: 'error', stop: 'stopped', reset: 'idle' },
  paused: { playing: 'playing', ended: 'ended', fail: 'error', stop: 'stopped', reset: 'idle' },
  waiting: { playing: 'playing', pause: 'paused', ended: 'ended', fail: 'error', stop: 'stopped', reset: 'idle' },
  stopped: { connect: 'connecting', reset: 'idle' },
  ended: { connect: 'connecting', stop: 'stopped', reset: 'idle' },
  error: { connect: 'connecting', stop: 'stopped', reset: 'idle' },
};

export class IllegalTransitionError extends Error {
  override readonly name = 'IllegalTransitionError';
  constructor(
    readonly state: PlayerState,
    readonly event: PlayerEvent,
  ) {
    super(`illegal transition: "${event}" in state "${state}"`);
  }
}

/** The next state, or throws {@link IllegalTransitionError}. */
export function transition(state: PlayerState, event: PlayerEvent): PlayerState {
  const next = TABLE[state][event];
  if (next === undefined) throw new IllegalTransitionError(state, event);
  return next;
}

export function canTransition(state: PlayerState, event: PlayerEvent): boolean {
  return TABLE[state][event] !== undefined;
}

/** States in which the user wants sound and a stream is (or will be) flowing toward it. */
export function isActive(state: PlayerState): boolean {
  return state === 'connecting' || state === 'buffering' || state === 'ready' || state === 'playing'
    || state === 'paused' || state === 'waiting';
}

