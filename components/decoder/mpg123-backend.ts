/**
 * MP3 through mpg123 compiled to WASM (npm `mpg123-decoder`, MIT), in a worker of its own.
 *
 * Why not WebCodecs for MP3: Chromium's AudioDecoder costs a task round trip per chunk, and MP3
 * frames cannot share a chunk (several frames in one chunk come out silent), which measured ~2×
 * the CPU of the browser's own decodeAudioData. mpg123 takes a batch of frames per message and
 * costs about what decodeAudioData does, off the main thread. Its output is the raw decoder
 * output (its own gapless trimming is off): LAME delay and padding are trimmed by the timeline
 * trimmer like every other codec, so both decoders produce the same samples, in the same place.
 *
 * The package's ES entry imports a CommonJS worker shim that a plain ESM dev server (the test
 * runner) cannot load, so the worker loads the package's self-contained UMD build with
 * importScripts; `new URL(…, import.meta.url)` makes Vite ship that file with the bundle.
 */
import type { BackendCallbacks, DecodeBackend } from './decode-backend.js';
import type { EncodedFrame } from './frame-source.js';

const MPG123_URL = new URL('../../node_modules/mpg123-decoder/dist/mpg123-decoder.min.js', import.meta.url).href;

const WORKER_SOURCE = `
let decoder;
let ready;
try {
  importScripts(${JSON.stringify(MPG123_URL)});
  decoder = new self['mpg123-decoder'].MPEGDecoder({ enableGapless: false });
  ready = decoder.ready;
} catch (error) {
  ready = Promise.reject(error);
}
self.onmessage = async ({ data }) => {
  try {
    await ready;
    const out = decoder.decodeFrames(data);
    self.postMessage({
      channels: out.channelData.map((c) => c.slice(0, out.samplesDecoded)),
      sampleRate: out.sampleRate,
      errors: out.errors ? out.errors.length : 0,
    });
  } catch (error) {
    self.postMessage({ failure: String(error && error.stack || error) });
  }
};
`;

interface WorkerReply {
  failure?: string;
  channels: Float32Array[];
  sampleRate: number;
  errors: number;
}

/** Whether this environment can run the mpg123 worker at all. */
export function canUseMpg123(): boolean {
  return typeof Worker === 'function' && typeof WebAssembly === 'object' && typeof Blob === 'function';
}

export class Mpg123Backend implements DecodeBackend {
  readonly #callbacks: BackendCallbacks;
  readonly #worker: Worker;
  readonly #scriptUrl: string;
  #pending = 0;
  #idle: (() => void)[] = [];
  #closed = false;

  readonly #channelCount: number;

  /** mpg123 always outputs two channels; a mono stream keeps the first. */
  constructor(channelCount: number, callbacks: BackendCallbacks) {
    this.#channelCount = channelCount;
    this.#callbacks = callbacks;
    this.#scriptUrl = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
    this.#worker = new Worker(this.#scriptUrl);
    this.#worker.onmessage = ({ data }: MessageEvent<WorkerReply>) => this.#reply(data);
    this.#worker.onerror = (event) => {
      event.preventDefault();
      this.#fail(new Error(`mpg123 worker: ${event.message || 'failed to load'}`));
    };
  }

  decode(frames: EncodedFrame[]): void {
    if (this.#closed || frames.length === 0) return;
    this.#pending++;
    this.#worker.postMessage(frames.map((f) => f.data));
  }

  flush(): Promise<void> {
    if (this.#pending === 0 || this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#worker.terminate();
    URL.revokeObjectURL(this.#scriptUrl);
    this.#settle();
  }

  #reply(reply: WorkerReply): void {
    if (this.#closed) return;
    if (reply.failure !== undefined) {
      this.#fail(new Error(`mpg123: ${reply.failure}`));
      return;
    }
    this.#pending--;
    const samples = reply.channels[0]?.length ?? 0;
    // mpg123 conceals damaged frames (counted in `errors`, samples still produced); only a batch
    // that yields nothing at all is a failed decode.
    if (samples === 0 && reply.errors > 0) {
      this.#fail(new Error(`mpg123 could not decode ${reply.errors} frame(s)`));
      return;
    }
    if (samples > 0) this.#callbacks.output({ channels: reply.channels.slice(0, this.#channelCount), sampleRate: reply.sampleRate });
    if (this.#pending === 0) this.#settle();
  }

  #settle(): void {
    const idle = this.#idle;
    this.#idle = [];
    for (const resolve of idle) resolve();
  }

  #fail(error: Error): void {
    if (this.#closed) return;
    this.close();
    this.#callbacks.error(error);
  }
}
