/**
 * Turns encoded frames into planar float PCM, in order. WebCodecs `AudioDecoder` for codecs, a
 * direct conversion for WAV. Backends are driven by the stream decoder's push/output callbacks
 * (never by timers, which background tabs throttle); each reports outputs and errors to it.
 */
import { concatBytes } from './byte-queue.js';
import type { EncodedFrame, TrackDecoding } from './frame-source.js';
import { joinOpusPackets } from './opus-packets.js';
import { pcmToPlanar } from './wav-source.js';

export interface DecodedPcm {
  channels: Float32Array[];
  sampleRate: number;
  /** Nothing else uses the channels' ArrayBuffers (see PcmBlock.ownsBuffers). */
  ownsBuffers?: boolean;
}

export interface BackendCallbacks {
  output(pcm: DecodedPcm): void;
  /** The backend is broken (a WebCodecs decoder closes itself on error); make a new one. */
  error(error: unknown): void;
}

export interface DecodeBackend {
  /** Decodes frames in order; consecutive frames may go to the codec as one chunk. */
  decode(frames: EncodedFrame[]): void;
  /** Resolves after every output of the frames decoded so far has been delivered. */
  flush(): Promise<void>;
  close(): void;
  /** A decodeAudioData segment is being decoded (its output will come): frames may gather. */
  readonly decodingSegment?: boolean;
}

/**
 * Codecs whose frames carry their own length, so that several of them may travel in one
 * EncodedAudioChunk: Chromium's (ffmpeg) decoder then decodes them one after the other and
 * outputs each. Per-chunk overhead (task hops, IPC-like queues) dominates WebCodecs' cost for
 * small frames; batching brings streaming decode near one-shot decodeAudioData (see report).
 */
export function canBatch(decoding: TrackDecoding): boolean {
  if (decoding.kind !== 'webcodecs') return true;
  const { codec, description } = decoding.config;
  // Not MP3 (Chromium 156 rejects a multi-frame chunk: "mpa: invalid packet length"), not FLAC
  // (a multi-frame chunk crashed the renderer): those hand over to decodeAudioData segments.
  // Opus: joined into 120 ms packets, see opus-packets.ts; a multistream packet (surround,
  // OpusHead channel mapping family ≠ 0 with more than one stream) is several self-delimited
  // packets in one and cannot be joined that way.
  if (codec === 'opus') return opusStreamCount(description) === 1;
  return codec.startsWith('mp4a.') && description === undefined;
}

/** Opus streams per packet, from the OpusHead (mapping family 0: always one). */
function opusStreamCount(description: AllowSharedBufferSource | undefined): number {
  if (!(description instanceof Uint8Array) || description.length < 19 || description[18] === 0) return 1;
  return description[19] ?? 0;
}

/**
 * Answers of `isConfigSupported` per plain config (no codec description). The answer cannot
 * change within a page, and asking costs a task hop (1–3 ms, more on a busy machine) between the
 * first bytes and the first decode: prewarmMp3Decoder() asks at attach, so the first track's
 * question is answered from here.
 */
const supportAnswers = new Map<string, Promise<boolean>>();

/** Whether this browser can decode the track at all (WebCodecs `isConfigSupported`). */
export function canDecode(decoding: TrackDecoding): Promise<boolean> {
  if (decoding.kind === 'pcm') return Promise.resolve(true);
  if (typeof AudioDecoder === 'undefined') return Promise.resolve(false);
  const { config } = decoding;
  const key = config.description === undefined ? `${config.codec}/${config.sampleRate}/${config.numberOfChannels}` : undefined;
  const known = key === undefined ? undefined : supportAnswers.get(key);
  if (known) return known;
  const answer = AudioDecoder.isConfigSupported(config).then(
    ({ supported }) => supported === true,
    () => false,
  );
  if (key !== undefined) {
    supportAnswers.set(key, answer);
    void answer.then((supported) => settledAnswers.set(key, supported));
  }
  return answer;
}

const settledAnswers = new Map<string, boolean>();

/**
 * canDecode's answer if it is already known (asked before and settled), else undefined. Lets the
 * stream decoder create its codec inside the push that found the track, so the first frame is
 * decoding while the rest of that chunk is still being parsed.
 */
export function knownDecodable(decoding: TrackDecoding): boolean | undefined {
  if (decoding.kind !== 'webcodecs' || typeof AudioDecoder === 'undefined') return undefined;
  const { config } = decoding;
  if (config.description !== undefined) return undefined;
  return settledAnswers.get(`${config.codec}/${config.sampleRate}/${config.numberOfChannels}`);
}

export function createBackend(decoding: TrackDecoding, channelCount: number, sampleRate: number, callbacks: BackendCallbacks): DecodeBackend {
  switch (decoding.kind) {
    case 'pcm':
      return new PcmBackend(decoding, channelCount, sampleRate, callbacks);
    case 'webcodecs':
      return new WebCodecsBackend(decoding.config, callbacks);
  }
}

class WebCodecsBackend implements DecodeBackend {
  readonly #decoder: AudioDecoder;
  readonly #callbacks: BackendCallbacks;
  /** Input timestamps only label chunks; the stream decoder counts samples itself. */
  #timestamp = 0;
  #closed = false;
  /** Opus frames of a batch are joined into 120 ms packets rather than concatenated. */
  readonly #opus: boolean;

  constructor(config: AudioDecoderConfig, callbacks: BackendCallbacks) {
    this.#callbacks = callbacks;
    this.#opus = config.codec === 'opus';
    this.#decoder = new AudioDecoder({
      output: (data) => this.#output(data),
      error: (error) => {
        if (this.#closed) return;
        this.#closed = true;
        callbacks.error(error);
      },
    });
    this.#decoder.configure(config);
  }

  decode(frames: EncodedFrame[]): void {
    if (this.#closed || frames.length === 0) return;
    if (frames.length === 1) return this.#chunk(frames[0]!.data);
    if (this.#opus) for (const packet of joinOpusPackets(frames.map((frame) => frame.data))) this.#chunk(packet);
    else this.#chunk(concatBytes(...frames.map((frame) => frame.data)));
  }

  #chunk(data: Uint8Array): void {
    this.#decoder.decode(new EncodedAudioChunk({ type: 'key', timestamp: this.#timestamp++, data }));
  }

  async flush(): Promise<void> {
    if (this.#closed) return;
    await this.#decoder.flush();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#decoder.state !== 'closed') this.#decoder.close();
  }

  #output(data: AudioData): void {
    try {
      if (this.#closed) return;
      const frames = data.numberOfFrames;
      // Chromium hands out f32-planar, f32 or s16 depending on the codec: ask for planar float.
      const channels = Array.from({ length: data.numberOfChannels }, (_, planeIndex) => {
        const plane = new Float32Array(frames);
        data.copyTo(plane, { planeIndex, format: 'f32-planar' });
        return plane;
      });
      this.#callbacks.output({ channels, sampleRate: data.sampleRate });
    } finally {
      data.close();
    }
  }
}

class PcmBackend implements DecodeBackend {
  readonly #decoding: Extract<TrackDecoding, { kind: 'pcm' }>;
  readonly #channelCount: number;
  readonly #sampleRate: number;
  readonly #callbacks: BackendCallbacks;

  constructor(decoding: Extract<TrackDecoding, { kind: 'pcm' }>, channelCount: number, sampleRate: number, callbacks: BackendCallbacks) {
    this.#decoding = decoding;
    this.#channelCount = channelCount;
    this.#sampleRate = sampleRate;
    this.#callbacks = callbacks;
  }

  decode(frames: EncodedFrame[]): void {
    for (const frame of frames) {
      const channels = pcmToPlanar(frame.data, this.#channelCount, this.#decoding.sampleFormat, this.#decoding.bitsPerSample);
      this.#callbacks.output({ channels, sampleRate: this.#sampleRate });
    }
  }

  async flush(): Promise<void> {}

  close(): void {}
}
