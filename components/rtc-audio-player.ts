import { LitElement, html, nothing, type PropertyValues } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { PlayerError } from './errors.js';
import { PlayerController, type PlayerMemory, type PlayerStats, type PlayerTiming, type Preload } from './player-controller.js';
import type { PlayerState } from './player-state.js';
import { resumeOnFirstGesture } from './playback/audio-context.js';
import { playerStyles } from './rtc-audio-player.styles.js';
import { describeError, formatTime, statusText } from './rtc-audio-player.text.js';

export type { PlayerState } from './player-state.js';
export type { PlayerMemory, PlayerTiming, PlayerStats, Preload } from './player-controller.js';
export { PlayerError } from './errors.js';

const DEFAULT_BUFFER_SECONDS = 10;
const DEFAULT_MAX_RETRIES = 4;

const toPreload = (value: string | null): Preload =>
  value === 'none' || value === 'auto' ? value : value === '' ? 'auto' : 'metadata';

/**
 * `<rtc-audio-player>`: plays an audio file of the server's library, streamed over a WebRTC
 * DataChannel, decoded as it arrives. Its API follows `HTMLMediaElement`. This class is the view:
 * it renders the controller's state and forwards requests; the {@link PlayerController} decides.
 *
 * @attr src - Track path in the server's audio library (`GET /api/tracks` lists them). Changing it tears the old stream down.
 * @attr server - Signaling base URL (e.g. `https://audio.example.com`); default: this page's origin.
 * @attr buffer-seconds - Upper bound on start-up buffering, in seconds of audio (default 10). Playback starts earlier when the measured arrival rate shows the buffer cannot run dry (see start-rule.ts), at once for a complete short track.
 * @attr max-retries - Reconnect attempts in a row (backoff 0.5 → 1 → 2 → 4 s, jitter) before the error state (default 4).
 * @attr preload - `none` | `metadata` (default: connect and receive metadata when scrolled into view; play() then costs one message) | `auto` (also fill the start buffer). Idle pre-connections close after 60 s.
 * @attr autoplay - Boolean: play as soon as the element is connected (the browser's autoplay policy may hold the sound until a gesture: the gesture prompt shows).
 * @attr muted - Boolean, reflects the `muted` property.
 * @attr state - Read-only reflection of `state`, for styling (`:host([state=playing])`).
 *
 * @prop {string} src - See the attribute.
 * @prop {string} server - See the attribute.
 * @prop {number} bufferSeconds - See `buffer-seconds`.
 * @prop {number} maxRetries - See `max-retries`.
 * @prop {'none'|'metadata'|'auto'} preload - See the attribute.
 * @prop {boolean} autoplay - See the attribute.
 * @prop {number} volume - 0..1 (default 1); a value outside throws RangeError. Fires `volumechange`.
 * @prop {boolean} muted - Default false. Fires `volumechange`.
 * @prop {PlayerState} state - Read-only: idle | connecting | buffering | ready | playing | paused | waiting | stopped | ended | error.
 * @prop {boolean} paused - Read-only: like the media element, false from play() until pause/stop/end/error.
 * @prop {number} currentTime - Read-only: seconds of the track actually played (audio clock); never goes backwards within a stream.
 * @prop {number} duration - Read-only: seconds, exact from the file's headers; NaN until known.
 * @prop {number} bufferedSeconds - Read-only: timeline end of the audio received so far, in seconds.
 * @prop {number} bufferProgress - Read-only: 0..1 toward the start threshold (1 once playback may start).
 * @prop {PlayerError|null} error - Read-only: the error that put the player in `error` (code, fatal, status, detail, retryAfterMs, cause), else null.
 * @prop {PlayerTiming} timing - Read-only: `performance.now()` marks of the current load: playRequested, peerCreated, offerCreated, offerSent, answerReceived, iceConnected, channelOpen, metadata, startSent, firstChunk, streamChunk, firstDecoded, playing, complete.
 * @prop {PlayerStats} stats - Read-only: bytesReceived, reconnects, discontinuities, illegalTransitions.
 * @prop {PlayerMemory} memory - Read-only: audio held right now: compressedBytes (received, not yet decoded), pcmBytes (decoded, not yet played).
 *
 * @fires play - play() was called while paused.
 * @fires playing - Samples reach the output (after start, resume, or a refilled underrun).
 * @fires pause - Playback was paused (pause(), stop(), end or error while playing).
 * @fires waiting - The buffer ran dry while playing (slow network or reconnecting).
 * @fires progress - ProgressEvent, ~4 Hz while bytes arrive: `loaded` = next file byte, `total` = file size.
 * @fires ended - The last sample played.
 * @fires error - ErrorEvent whose `error` is the PlayerError (also in the `error` property).
 * @fires timeupdate - ~4 Hz while the position moves, and on pause/stop/end.
 * @fires durationchange - `duration` became known (or exact).
 * @fires volumechange - `volume` or `muted` changed.
 * @fires emptied - A new src (or removal) dropped the loaded stream.
 * @fires statechange - CustomEvent, `detail: { state, previous }`, on every state change.
 *
 * @csspart play-button - Play/pause toggle; its label says what it will do.
 * @csspart stop-button - Stop: releases the connection, position back to 0.
 * @csspart status - Live region with the state in words.
 * @csspart progress - `<progress>`: buffering toward the start threshold.
 * @csspart time - `current / duration` as m:ss.
 * @csspart error - Error message, shown in the error state.
 * @csspart retry-button - Inside `error`: continue from the position.
 * @csspart gesture-prompt - Shown while the browser's autoplay policy holds audio; any click or key resumes.
 *
 * @cssprop --rtc-player-accent - Buttons and progress (default #2563eb).
 * @cssprop --rtc-player-bg - Background (default #f8fafc).
 * @cssprop --rtc-player-fg - Text (default #0f172a).
 * @cssprop --rtc-player-muted-fg - Status text (default #475569).
 * @cssprop --rtc-player-error - Error text and retry button (default #b91c1c).
 * @cssprop --rtc-player-radius - Corner radius (default 10px).
 * @cssprop --rtc-player-font - Font family (default system-ui).
 * @cssprop --rtc-player-gap - Spacing between parts (default 0.5rem).
 */
@customElement('rtc-audio-player')
export class RtcAudioPlayer extends LitElement {
  static override styles = playerStyles;

  @property({ reflect: true }) src = '';
  @property() server = '';
  @property({ type: Number, attribute: 'buffer-seconds' }) bufferSeconds = DEFAULT_BUFFER_SECONDS;
  @property({ type: Number, attribute: 'max-retries' }) maxRetries = DEFAULT_MAX_RETRIES;
  @property({ converter: { fromAttribute: toPreload } }) preload: Preload = 'metadata';
  @property({ type: Boolean }) autoplay = false;

  /**
   * @internal The controller behind the view; tests use its `chunkObserver` hook. Not public API.
   */
  readonly controller = new PlayerController(this, () => ({
    src: this.src,
    server: this.server,
    bufferSeconds: Number.isFinite(this.bufferSeconds) && this.bufferSeconds >= 0 ? this.bufferSeconds : DEFAULT_BUFFER_SECONDS,
    maxRetries: Number.isInteger(this.maxRetries) && this.maxRetries >= 0 ? this.maxRetries : DEFAULT_MAX_RETRIES,
    preload: toPreload(this.preload),
  }));

  #applied: { src: string; server: string } | undefined;
  #awaitingGesture = false;

  @property({ type: Boolean, reflect: true })
  get muted(): boolean {
    return this.controller.muted;
  }
  set muted(value: boolean) {
    // Lit wraps this accessor: it reflects the attribute and schedules the render.
    this.controller.muted = Boolean(value);
  }

  get volume(): number {
    return this.controller.volume;
  }
  set volume(value: number) {
    this.controller.volume = value;
  }

  get state(): PlayerState {
    return this.controller.state;
  }
  get paused(): boolean {
    return this.controller.paused;
  }
  get currentTime(): number {
    return this.controller.currentTime;
  }
  get duration(): number {
    return this.controller.duration;
  }
  get bufferedSeconds(): number {
    return this.controller.bufferedSeconds;
  }
  get bufferProgress(): number {
    return this.controller.bufferProgress;
  }
  get error(): PlayerError | null {
    return this.controller.error;
  }
  get timing(): PlayerTiming {
    return this.controller.timing;
  }
  get stats(): PlayerStats {
    return this.controller.stats;
  }
  get memory(): PlayerMemory {
    return this.controller.memory;
  }

  /** Starts (or resumes) playback; resolves once samples flow, rejects on error, pause() or stop(). */
  play(): Promise<void> {
    return this.controller.play();
  }
  /** Pauses sample-accurately; the position, buffer and connection are kept. */
  pause(): void {
    this.controller.pause();
  }
  /** Stops: closes the connection, drops buffers and audio nodes, position back to 0. */
  stop(): void {
    this.controller.stop();
  }
  /** In `error`: reconnect and continue from the position. */
  retry(): Promise<void> {
    return this.controller.retry();
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('src') || changed.has('server')) {
      const previous = this.#applied;
      this.#applied = { src: this.src, server: this.server };
      if (previous !== undefined && (previous.src !== this.src || previous.server !== this.server)) {
        this.controller.sourceChanged();
        if (this.autoplay && this.src && this.isConnected) this.#autoplay();
      }
    }
  }

  override connectedCallback(): void {
    super.connectedCallback();
    if (this.autoplay && this.src) this.#autoplay();
  }

  protected override updated(): void {
    const state = this.controller.state;
    if (this.getAttribute('state') !== state) this.setAttribute('state', state);
    if (this.controller.needsGesture && !this.#awaitingGesture) {
      this.#awaitingGesture = true;
      void resumeOnFirstGesture().then(() => {
        this.#awaitingGesture = false;
        this.controller.gestureResolved();
      });
    }
  }

  #autoplay(): void {
    // Autoplay failures are reported through `error`/the gesture prompt, not as a rejection.
    this.play().catch(() => undefined);
  }

  readonly #onToggle = (): void => {
    if (this.controller.paused) this.#autoplay();
    else this.pause();
  };
  readonly #onStop = (): void => this.stop();
  readonly #onRetry = (): void => {
    this.retry().catch(() => undefined);
  };

  protected override render() {
    const c = this.controller;
    const state = c.state;
    const playing = !c.paused;
    const progress = Math.round(c.bufferProgress * 100);
    const error = c.error;
    const current = formatTime(c.currentTime);
    const total = formatTime(c.duration);
    return html`
      <div class="player">
        <button
          part="play-button"
          type="button"
          aria-label=${playing ? 'Pause' : 'Play'}
          aria-pressed=${playing ? 'true' : 'false'}
          ?disabled=${!this.src}
          @click=${this.#onToggle}
        >
          <span aria-hidden="true">${playing ? '❚❚' : '▶'}</span>
        </button>
        <button
          part="stop-button"
          type="button"
          aria-label="Stop"
          ?disabled=${state === 'idle' || state === 'stopped'}
          @click=${this.#onStop}
        >
          <span aria-hidden="true">■</span>
        </button>
        <div class="meta">
          <span part="status" role="status" aria-live="polite">${statusText(state, progress, c.reconnecting)}</span>
          <progress
            part="progress"
            max="100"
            .value=${progress}
            aria-label="Buffering"
            aria-valuetext=${`${progress}% of the start buffer`}
          ></progress>
        </div>
        <span part="time" aria-label=${`${current} of ${total}`}>${current} / ${total}</span>
        ${error
          ? html`<div part="error" role="alert">
              <span>${describeError(error)}</span>
              <button part="retry-button" type="button" @click=${this.#onRetry}>Retry</button>
            </div>`
          : nothing}
        ${c.needsGesture
          ? html`<button part="gesture-prompt" type="button">Audio is blocked by the browser: click or press a key to enable sound</button>`
          : nothing}
      </div>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rtc-audio-player': RtcAudioPlayer;
  }
}
