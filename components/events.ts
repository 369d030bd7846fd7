/**
 * The events `<rtc-audio-player>` fires. Media-element names use the DOM's own event classes, so
 * the global event maps already type them (`error` is an `ErrorEvent` whose `error` is the
 * {@link PlayerError}; `progress` is a `ProgressEvent` in file bytes). The one event of our own,
 * `statechange`, is added to `HTMLElementEventMap` below. None bubble, like the media element's.
 */
import type { PlayerError } from './errors.js';
import type { PlayerState } from './player-state.js';

/** Media-element event names the player fires as plain `Event`s. */
export type MediaEventName =
  | 'play'
  | 'playing'
  | 'pause'
  | 'waiting'
  | 'ended'
  | 'timeupdate'
  | 'durationchange'
  | 'volumechange'
  | 'emptied';

export interface StateChangeDetail {
  state: PlayerState;
  previous: PlayerState;
}

/** Fired on every state change; `detail` says from where to where. */
export class StateChangeEvent extends CustomEvent<StateChangeDetail> {
  static readonly eventName = 'statechange';
  constructor(detail: StateChangeDetail) {
    super(StateChangeEvent.eventName, { detail });
  }
}

export function mediaEvent(name: MediaEventName): Event {
  return new Event(name);
}

export function errorEvent(error: PlayerError): ErrorEvent {
  return new ErrorEvent('error', { error, message: error.message });
}

/** `loaded`/`total` are bytes of the file; `total` is 0 and not computable until metadata arrives. */
export function progressEvent(loaded: number, total: number | undefined): ProgressEvent {
  return new ProgressEvent('progress', { loaded, total: total ?? 0, lengthComputable: total !== undefined });
}

declare global {
  interface HTMLElementEventMap {
    statechange: StateChangeEvent;
  }
}
