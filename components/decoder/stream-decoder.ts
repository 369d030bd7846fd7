/**
 * The decoder stage of the pipeline: bytes of a file in, contiguous gapless PCM on the track's
 * timeline out, decoded progressively and only up to a horizon ahead of playback.
 *
 *   push(bytes) → format sniffer → container reader (frames) → frame queue ─(horizon)→ backend
 *   (WebCodecs AudioDecoder / PCM) → timeline trimmer (delay, padding) → onPcm
 *
 * Work happens only inside push/setHorizon/end and the backend's output callbacks, never on a
 * timer, so a background tab (timers throttled to 1/min) decodes as fast as a foreground one.
 * Memory: compressed bytes are held from arrival until decoded, then released; what remains per
 * track is a sparse seek index (one entry per second), so a long track costs what a short one does.
 */
import { PlayerError } from '../errors.js';
import type { PcmBlock, StreamInfo } from '../pcm.js';
import { concatBytes } from './byte-queue.js';
import { canBatch, canDecode, createBackend, knownDecodable, type DecodeBackend, type DecodedPcm } from './decode-backend.js';
import { sniffFormat, type ContainerFormat } from './format-sniffer.js';
import type { EncodedFrame, FrameSink, FrameSource, TrackInfo } from './frame-source.js';
import { createFrameSource } from './frame-sources.js';
import { HandoverBackend } from './handover-backend.js';
import { canUseMpg123, Mpg123Backend, prewarmMpg123Worker } from './mpg123-backend.js';
import { SegmentBackend, segmentPlan, type SegmentPlan } from './segment-backend.js';
import { TimelineTrimmer } from './timeline-trimmer.js';

export interface StreamDecoderOptions {
  /** From metadata; the bytes' magic numbers win if they disagree. */
  mimeType: string;
  /** Contiguous, timeline order, encoder delay/padding trimmed. */
  onPcm(block: PcmBlock): void;
  /** Once the format is known; again if duration becomes known. */
  onInfo(info: StreamInfo): void;
  /** Fatal only: UNSUPPORTED_FORMAT, DECODE_FAILED (3 consecutive). */
  onError(error: PlayerError): void;
  /** Garbage skipped by resync (non-fatal). */
  onDiscontinuity?(skippedBytes: number): void;
  /**
   * 'auto' (default): WebCodecs wherever the browser has the codec; MP3 without it goes to
   * mpg123 (WASM worker), anything else without it to decodeAudioData on frame-aligned segments.
   * WebCodecs comes first for MP3 too: no worker hop before the first samples (the mpg123 round
   * trip cost 50-100 ms of start-up). MP3, FLAC and Vorbis then hand over to decodeAudioData
   * segments after 0.4 s (see HANDOVER_CODECS).
   * 'webcodecs' keeps WebCodecs for the whole stream.
   * The others force one path (tests, comparisons): 'webcodecs', 'mpg123' (MP3 only), 'segments'.
   */
  decoder?: 'auto' | 'webcodecs' | 'mpg123' | 'segments';
}

/** One entry of the sparse seek index: the frame at `byteOffset` starts at timeline `frame`. */
export interface SeekPoint {
  byteOffset: number;
  frame: number;
}

export const DEFAULT_HORIZON_SECONDS = 30;
/**
 * Gets the MP3 decoder ready before the first track needs it: a no-op where WebCodecs decodes
 * MP3 natively, else the mpg123 worker is started now so the first frames do not wait for it.
 */
export function prewarmMp3Decoder(): void {
  void canDecode({ kind: 'webcodecs', config: { codec: 'mp3', sampleRate: 44100, numberOfChannels: 2 } }).then((native) => {
    if (!native) prewarmMpg123Worker();
  });
}
/** Frames in the decoder at once: enough to keep it busy, few enough to stop at the horizon. */
const MAX_PENDING_FRAMES = 48;
/** Most frames per chunk for codecs that allow batching; the first chunks are smaller (fast start). */
const MAX_BATCH = 16;
/** Most frames per decodeAudioData segment unless the codec's plan says (its per-call cost is high). */
const MAX_SEGMENT_BATCH = 48;
/**
 * Codecs that 'auto' decodes with WebCodecs only for their first LEAD_SECONDS (the first
 * samples come as fast as WebCodecs gives them) and then with decodeAudioData on frame-aligned
 * segments: their WebCodecs chunks cannot carry more than one frame (Chromium 156 rejects
 * multi-frame MP3 chunks, "mpa: invalid packet length", and crashes the renderer on multi-frame
 * FLAC ones; Vorbis packets carry no length), and one frame per chunk cost 1.6× (Vorbis: 2.5–3×)
 * the CPU of decodeAudioData. Segments of 48 frames (Vorbis: up to 1024 packets, re-muxed into
 * Ogg) cost about what one-shot decodeAudioData does.
 */
const HANDOVER_CODECS = new Set(['mpeg', 'flac', 'vorbis']);
const LEAD_SECONDS = 0.4;
/** Most frames per message to the mpg123 worker (~1.5 s of audio): messages cost more than frames. */
const MAX_MPG123_BATCH = 64;
/** Consecutive decode failures that end the stream. */
const MAX_CONSECUTIVE_FAILURES = 3;

interface QueuedFrame extends EncodedFrame {
  timelineStart: number;
}

export class StreamDecoder {
  readonly #options: StreamDecoderOptions;
  #head: Uint8Array[] = [];
  #headLength = 0;
  /** Head bytes the sniffer asked for before it can decide (past a leading ID3v2 tag). */
  #sniffBytes = 0;
  /** File bytes before the container reader's first byte (a tag the sniffer skipped). */
  #sourceOffset = 0;
  #source: FrameSource | undefined;
  #track: TrackInfo | undefined;
  #info: StreamInfo | undefined;
  #trimmer: TimelineTrimmer | undefined;
  #backend: DecodeBackend | undefined;
  #backendReady = false;
  #queue: QueuedFrame[] = [];
  #queueHead = 0;
  #queuedBytes = 0;
  #inFlight: QueuedFrame[] = [];
  #inFlightBytes = 0;
  /** Output samples not yet matched to an in-flight frame (outputs and frames need not be 1:1). */
  #outputCredit = 0;
  #batch = 1;
  #maxBatch = 1;
  #segmentPlan: SegmentPlan | undefined;
  /** Samples the current backend decodes with WebCodecs before segments take over (handover). */
  #leadSamples = 0;
  #leadBatch = 1;
  /** MP3 goes to mpg123 (no native MP3 decoder, or forced) until it fails to start (then WebCodecs takes over). */
  #useMpg123 = false;
  #outputs = 0;
  #firstFrame: QueuedFrame | undefined;
  /** Header samples of all frames parsed (decoder domain, before our trim). */
  #parsedSamples = 0;
  #horizonFrames: number | undefined;
  #horizonSeconds = DEFAULT_HORIZON_SECONDS;
  /** Largest lead of the horizon over the decoded audio seen so far, in frames (see #pump). */
  #horizonLead = 0;
  #failures = 0;
  #discontinuities = 0;
  #skippedBytes = 0;
  #ended = false;
  #flushing = false;
  #finished = false;
  #dead = false;
  #pumping = false;
  #endWaiters: (() => void)[] = [];
  #index: SeekPoint[] = [];
  #maxHeldBytes = 0;

  constructor(options: StreamDecoderOptions) {
    this.#options = options;
  }

  /** Exact seconds of audio in whole frames received so far (after trim, capped at the duration). */
  get receivedSeconds(): number {
    const track = this.#track;
    if (!track) return 0;
    let frames = this.#parsedSamples - (track.skip - track.skipAlreadyCounted);
    if (track.totalFrames !== undefined) frames = Math.min(frames, track.totalFrames);
    return Math.max(0, frames) / track.sampleRate;
  }

  /** Timeline end of the PCM emitted so far, in seconds. */
  get decodedSeconds(): number {
    return this.#track && this.#trimmer ? this.#trimmer.emitted / this.#track.sampleRate : 0;
  }

  get info(): StreamInfo | undefined {
    return this.#info;
  }

  get discontinuities(): number {
    return this.#discontinuities;
  }

  /** Bytes skipped by resynchronisation in total (sum of all onDiscontinuity arguments). */
  get skippedBytes(): number {
    return this.#skippedBytes;
  }

  /**
   * Compressed bytes held right now: received but not yet decoded (parser buffer, frame queue,
   * frames inside the codec). Released as soon as their PCM is out. For memory tests.
   */
  get heldBytes(): number {
    return this.#headLength + (this.#source?.bufferedBytes ?? 0) + this.#queuedBytes + this.#inFlightBytes;
  }

  /** Largest `heldBytes` seen so far. */
  get maxHeldBytes(): number {
    return this.#maxHeldBytes;
  }

  /** Codec frames parsed and waiting (for the horizon to move, or for room in the decoder). */
  get queuedFrames(): number {
    return this.#queue.length - this.#queueHead;
  }

  /** Sparse seek index (one point per second of timeline): where to resume for a later seek. */
  get seekPoints(): readonly SeekPoint[] {
    return this.#index;
  }

  push(bytes: Uint8Array): void {
    if (this.#dead || this.#ended || bytes.length === 0) return;
    if (!this.#source) {
      this.#head.push(bytes);
      this.#headLength += bytes.length;
      this.#trySniff(false);
    } else {
      this.#source.push(bytes);
    }
    this.#noteHeld();
    this.#pump();
  }

  /** No more bytes (complete or truncated): flush; resolves after the last onPcm (or a fatal error). */
  end(): Promise<void> {
    if (this.#dead || this.#finished) return Promise.resolve();
    const done = new Promise<void>((resolve) => this.#endWaiters.push(resolve));
    if (!this.#ended) {
      this.#ended = true;
      if (!this.#source) this.#trySniff(true);
      this.#source?.end();
      if (!this.#dead && !this.#track) {
        this.#fail('UNSUPPORTED_FORMAT', 'the stream ended before any audio frame was found');
      }
      this.#pump();
    }
    return done;
  }

  /** Decode ahead only up to this timeline second (default 30 until called). */
  setHorizon(seconds: number): void {
    this.#horizonSeconds = seconds;
    this.#horizonFrames = this.#track ? seconds * this.#track.sampleRate : undefined;
    this.#noteHorizonLead();
    this.#pump();
  }

  /**
   * The horizon's lead over the audio decoded so far, at its largest. Nothing plays before it
   * is decoded, so this never exceeds the horizon's lead over the play position, as long as the
   * owner keeps that lead (the player: 30 s) or only lets it grow. An infinite horizon stops
   * nothing and says nothing about it.
   */
  #noteHorizonLead(): void {
    if (this.#horizonFrames === undefined || !Number.isFinite(this.#horizonFrames) || !this.#trimmer) return;
    this.#horizonLead = Math.max(this.#horizonLead, this.#horizonFrames - this.#trimmer.emitted);
  }

  destroy(): void {
    if (this.#dead) return;
    this.#dead = true;
    this.#backend?.close();
    this.#backend = undefined;
    this.#queue = [];
    this.#inFlight = [];
    this.#head = [];
    this.#source = undefined;
    this.#release();
  }

  // -------------------------------------------------------------------------------------------

  #trySniff(final: boolean): void {
    if (!final && this.#headLength < this.#sniffBytes) return;
    const head = concatBytes(...this.#head);
    const result = sniffFormat(head, this.#options.mimeType, final);
    if (result.kind === 'need-more') {
      this.#sniffBytes = result.bytes ?? 0;
      return;
    }
    if (result.kind === 'unsupported') {
      this.#fail('UNSUPPORTED_FORMAT', `unsupported format: ${result.reason}`);
      return;
    }
    this.#head = [];
    this.#headLength = 0;
    this.#source = this.#makeSource(result.format);
    this.#sourceOffset = result.skip ?? 0;
    this.#source.push(head.subarray(this.#sourceOffset));
  }

  #makeSource(format: ContainerFormat): FrameSource {
    const sink: FrameSink = {
      track: (track) => this.#onTrack(track),
      frame: (frame) => this.#onFrame(frame),
      totalFrames: (frames) => this.#onTotal(frames),
      skipped: (bytes) => this.#onSkipped(bytes),
      unsupported: (reason) => this.#fail('UNSUPPORTED_FORMAT', `unsupported format: ${reason}`),
    };
    return createFrameSource(format, sink);
  }

  #onTrack(track: TrackInfo): void {
    if (this.#dead || this.#track) return;
    this.#track = track;
    this.#trimmer = new TimelineTrimmer(track.skip, track.totalFrames);
    this.#horizonFrames = this.#horizonSeconds * track.sampleRate;
    this.#noteHorizonLead();
    this.#publishInfo();
    const mode = this.#options.decoder ?? 'auto';
    const forceSegments = mode === 'segments' && track.decoding.kind === 'webcodecs';
    // Start-up: when the codec's support is already known (prewarmMp3Decoder asked at attach),
    // the backend is made right here, inside the push that found the track, and #onFrame feeds
    // it the first frame while the rest of the chunk is parsed (saves the parse of a whole chunk,
    // 2–5 ms, before the first decode).
    const known = forceSegments ? undefined : knownDecodable(track.decoding);
    if (known !== undefined) this.#chooseBackend(track, mode, known);
    else void (forceSegments ? Promise.resolve(false) : canDecode(track.decoding)).then((ok) => this.#chooseBackend(track, mode, ok));
  }

  #chooseBackend(track: TrackInfo, mode: NonNullable<StreamDecoderOptions['decoder']>, ok: boolean): void {
    if (this.#dead) return;
    this.#useMpg123 = track.codec === 'mpeg' && canUseMpg123() && (mode === 'mpg123' || (mode === 'auto' && !ok));
    if (!ok && !this.#useMpg123) {
      const description = track.decoding.kind === 'webcodecs' ? track.decoding.config.description : undefined;
      this.#segmentPlan = segmentPlan(track.codec, description instanceof Uint8Array ? description : undefined);
      if (!this.#segmentPlan || typeof OfflineAudioContext === 'undefined') {
        const name = track.decoding.kind === 'pcm' ? track.codec : track.decoding.config.codec;
        this.#fail('UNSUPPORTED_FORMAT', `this browser cannot decode ${name}`);
        return;
      }
    }
    if (ok && !this.#useMpg123 && mode === 'auto' && HANDOVER_CODECS.has(track.codec) && typeof OfflineAudioContext !== 'undefined') {
      const description = track.decoding.kind === 'webcodecs' ? track.decoding.config.description : undefined;
      this.#segmentPlan = segmentPlan(track.codec, description instanceof Uint8Array ? description : undefined);
      if (this.#segmentPlan) {
        this.#leadSamples = Math.round(LEAD_SECONDS * track.sampleRate);
        this.#leadBatch = canBatch(track.decoding) ? MAX_BATCH : 1;
      }
    }
    this.#maxBatch = this.#segmentPlan ? (this.#segmentPlan.maxFrames ?? MAX_SEGMENT_BATCH) : this.#useMpg123 ? MAX_MPG123_BATCH : canBatch(track.decoding) ? MAX_BATCH : 1;
    this.#newBackend();
    this.#pump();
  }

  #newBackend(): void {
    const track = this.#track!;
    const callbacks = {
      output: (pcm: DecodedPcm) => this.#onOutput(pcm),
      error: (error: unknown) => this.#onDecodeError(error),
    };
    if (this.#useMpg123) {
      try {
        this.#backend = new Mpg123Backend(track.channelCount, callbacks);
        this.#backendReady = true;
        return;
      } catch {
        // A page whose CSP forbids blob: workers: WebCodecs decodes MP3 instead.
        this.#useMpg123 = false;
        this.#maxBatch = canBatch(track.decoding) ? MAX_BATCH : 1;
      }
    }
    const plan = this.#segmentPlan;
    if (plan && this.#leadSamples > 0) {
      this.#backend = new HandoverBackend(
        this.#leadSamples,
        plan.warmupFrames,
        (first) => createBackend(track.decoding, track.channelCount, track.sampleRate, first),
        (history, second) => new SegmentBackend(plan, track.sampleRate, track.channelCount, second, history),
        callbacks,
      );
    } else {
      this.#backend = plan
        ? new SegmentBackend(plan, track.sampleRate, track.channelCount, callbacks)
        : createBackend(track.decoding, track.channelCount, track.sampleRate, callbacks);
    }
    this.#backendReady = true;
  }

  #publishInfo(): void {
    const track = this.#track!;
    const info: StreamInfo = { codec: track.codec, sampleRate: track.sampleRate, channelCount: track.channelCount };
    if (track.totalFrames !== undefined) info.duration = track.totalFrames / track.sampleRate;
    this.#info = info;
    this.#options.onInfo(info);
  }

  #onFrame(frame: EncodedFrame): void {
    if (this.#dead) return;
    const track = this.#track!;
    const timelineStart = this.#parsedSamples - (track.skip - track.skipAlreadyCounted);
    this.#parsedSamples += frame.samples;
    const second = Math.max(0, Math.ceil(timelineStart / track.sampleRate));
    if (this.#index.length <= second && timelineStart >= 0) this.#index.push({ byteOffset: this.#sourceOffset + frame.fileOffset, frame: timelineStart });
    const queued = { ...frame, timelineStart };
    this.#firstFrame ??= queued;
    this.#queue.push(queued);
    this.#queuedBytes += frame.data.length;
    // Start-up: an idle codec that has produced nothing yet gets this frame now rather than after
    // the whole chunk is parsed. Afterwards it is fed from push/outputs as usual; same frames,
    // same order either way.
    if (this.#outputs === 0 && this.#inFlight.length === 0 && this.#backendReady) this.#pump();
  }

  #onTotal(frames: number): void {
    const track = this.#track;
    if (!track || track.totalFrames === frames) return;
    track.totalFrames = frames;
    this.#trimmer?.setTotal(frames);
    this.#publishInfo();
  }

  #onSkipped(bytes: number): void {
    if (this.#dead) return;
    this.#discontinuities++;
    this.#skippedBytes += bytes;
    this.#options.onDiscontinuity?.(bytes);
  }

  /** Feeds the backend while frames are below the horizon; finishes the stream once all is out. */
  #pump(): void {
    if (this.#pumping || this.#dead) return;
    this.#pumping = true;
    try {
      const backend = this.#backend;
      if (!backend || !this.#backendReady) return;
      while (this.#queueHead < this.#queue.length && this.#inFlight.length < Math.max(MAX_PENDING_FRAMES, 2 * this.#maxBatch) && !this.#dead) {
        const batch: QueuedFrame[] = [];
        // While a handover backend is still on WebCodecs: WebCodecs' batch size and no minimum.
        const leading = backend instanceof HandoverBackend && backend.leading;
        const minFrames = leading ? 1 : (this.#segmentPlan?.minFrames ?? 1);
        const limit = Math.max(Math.min(this.#batch, leading ? this.#leadBatch : this.#maxBatch), minFrames);
        const busy = backend.decodingSegment === true;
        // The gather rule below, decided without walking (and putting back) the whole queue on
        // every push while a segment decodes: all that is queued is below the horizon (frames
        // are in timeline order) and still fits in one segment.
        const available = this.#queue.length - this.#queueHead;
        const lastQueued = this.#queue[this.#queue.length - 1];
        if (this.#segmentPlan && !leading && busy && !this.#ended && available < limit && lastQueued && lastQueued.timelineStart < (this.#horizonFrames ?? Infinity)) break;
        let atHorizon = false;
        let samples = 0;
        while (batch.length < limit && this.#queueHead < this.#queue.length) {
          const frame = this.#queue[this.#queueHead]!;
          if (frame.timelineStart >= (this.#horizonFrames ?? Infinity)) {
            atHorizon = true;
            break;
          }
          this.#queueHead++;
          this.#queuedBytes -= frame.data.length;
          this.#inFlight.push(frame);
          this.#inFlightBytes += frame.data.length;
          batch.push(frame);
          samples += frame.samples;
        }
        if (batch.length === 0) break;
        const drained = this.#queueHead >= this.#queue.length;
        // decodeAudioData costs ~3 ms a call whatever the segment's length, so segments wait to
        // be long: while one is decoding, frames gather for the next; and when the horizon (which
        // the player moves ~4 times a second) stops a segment short, it waits until the horizon
        // has moved on by a quarter of its lead over the decoded audio (the decoded audio
        // always stays at least ¾ of that lead ahead of playback).
        const segmenting = this.#segmentPlan !== undefined && !leading && batch.length < limit;
        const gather = segmenting && !atHorizon && drained && busy && !this.#ended;
        const waitHorizon = segmenting && atHorizon && samples < this.#horizonLead / 4;
        if (gather || waitHorizon || (batch.length < minFrames && !this.#ended && drained)) {
          // Too small a segment: wait for more frames (put them back).
          this.#queueHead -= batch.length;
          this.#inFlight.length -= batch.length;
          for (const frame of batch) (this.#queuedBytes += frame.data.length), (this.#inFlightBytes -= frame.data.length);
          break;
        }
        this.#batch = Math.min(this.#maxBatch, this.#batch * 2);
        try {
          backend.decode(batch);
        } catch (error) {
          this.#onDecodeError(error);
          return;
        }
      }
      if (this.#queueHead > 1024 && this.#queueHead * 2 > this.#queue.length) {
        this.#queue = this.#queue.slice(this.#queueHead);
        this.#queueHead = 0;
      }
      if (this.#ended && this.#queueHead >= this.#queue.length && !this.#flushing && this.#track) this.#flush(backend);
    } finally {
      this.#pumping = false;
    }
  }

  #flush(backend: DecodeBackend): void {
    this.#flushing = true;
    backend.flush().then(
      () => {
        if (this.#dead || backend !== this.#backend) return;
        this.#inFlight = [];
        this.#inFlightBytes = 0;
        this.#outputCredit = 0;
        this.#finished = true;
        this.#release();
      },
      (error: unknown) => {
        // A truncated last frame may fail to decode: the audio before it is out already.
        if (this.#dead || backend !== this.#backend) return;
        this.#flushing = false;
        this.#onDecodeError(error);
      },
    );
  }

  #onOutput(pcm: DecodedPcm): void {
    if (this.#dead) return;
    this.#failures = 0;
    const length = pcm.channels[0]?.length ?? 0;
    this.#outputs++;
    const uncertain = this.#track!.uncertainSkip;
    if (uncertain && this.#trimmer!.emitted === 0 && this.#outputCredit === 0 && this.#inFlight[0] === this.#firstFrame) {
      if (length === uncertain.firstFrameSamples + uncertain.samples) this.#trimmer!.addSkip(uncertain.samples);
    }
    this.#outputCredit += length;
    // One splice for all the frames this output completes (a segment completes hundreds).
    let done = 0;
    while (done < this.#inFlight.length && this.#outputCredit >= this.#inFlight[done]!.samples) {
      const frame = this.#inFlight[done++]!;
      this.#outputCredit -= frame.samples;
      this.#inFlightBytes -= frame.data.length;
    }
    if (done > 0) this.#inFlight.splice(0, done);
    const block = this.#trimmer!.place(pcm.channels, pcm.sampleRate);
    if (block && pcm.ownsBuffers) block.ownsBuffers = true;
    if (block) this.#options.onPcm(block);
    this.#pump();
  }

  /**
   * A WebCodecs decoder closes itself on error, losing the frames inside it. Their time is kept
   * as silence (so the timeline stays where the headers say), a new decoder takes the rest, and
   * only three failures in a row end the stream.
   */
  #onDecodeError(error: unknown): void {
    if (this.#dead) return;
    if (this.#useMpg123 && this.#outputs === 0) {
      // mpg123 never started (worker or WASM blocked, e.g. by a CSP): WebCodecs takes over,
      // from the first frame, and this does not count as a decode failure.
      this.#useMpg123 = false;
      this.#maxBatch = canBatch(this.#track!.decoding) ? MAX_BATCH : 1;
      this.#backend?.close();
      const retry = this.#inFlight;
      this.#inFlight = [];
      this.#inFlightBytes = 0;
      this.#queue.splice(this.#queueHead, 0, ...retry);
      for (const frame of retry) this.#queuedBytes += frame.data.length;
      this.#flushing = false;
      this.#newBackend();
      this.#pump();
      return;
    }
    this.#failures++;
    this.#backend?.close();
    this.#backend = undefined;
    this.#backendReady = false;
    const [lost, ...retry] = this.#inFlight;
    this.#inFlight = [];
    this.#inFlightBytes = 0;
    this.#outputCredit = 0;
    this.#batch = 1;
    if (this.#failures >= MAX_CONSECUTIVE_FAILURES) {
      this.#fail('DECODE_FAILED', `decoding failed ${this.#failures} times in a row`, error);
      return;
    }
    // The oldest frame without output is the likely culprit: its time becomes silence; the
    // frames after it go to the new decoder again.
    if (lost) {
      const track = this.#track!;
      const block = this.#trimmer!.place(
        Array.from({ length: track.channelCount }, () => new Float32Array(lost.samples)),
        track.sampleRate,
      );
      if (block) this.#options.onPcm(block);
    }
    this.#queue.splice(this.#queueHead, 0, ...retry);
    for (const frame of retry) this.#queuedBytes += frame.data.length;
    this.#flushing = false;
    this.#newBackend();
    this.#pump();
  }

  #fail(code: 'UNSUPPORTED_FORMAT' | 'DECODE_FAILED', message: string, cause?: unknown): void {
    if (this.#dead) return;
    const error = new PlayerError(code, message, { fatal: true, cause });
    this.destroy();
    this.#options.onError(error);
  }

  #noteHeld(): void {
    this.#maxHeldBytes = Math.max(this.#maxHeldBytes, this.heldBytes);
  }

  /** Resolves end() waiters: after the last onPcm, or because nothing more will come. */
  #release(): void {
    const waiters = this.#endWaiters;
    this.#endWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
