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
// Messages are handled strictly one after the other (a reset is asynchronous).
let chain = ready;
self.onmessage = ({ data }) => {
  chain = chain.then(() => handle(data)).catch((error) => {
    self.postMessage({ failure: String((error && error.stack) || error) });
  });
};
async function handle(data) {
  if (data.reset) return decoder.reset();
  // The batch's frames back to back: mpg123 reads them as the stream they are.
  const out = decoder.decode(data.bytes);
  const channels = out.channelData.map((c) => c.slice(0, out.samplesDecoded));
  self.postMessage(
    { channels, sampleRate: out.sampleRate, errors: out.errors ? out.errors.length : 0 },
    channels.map((c) => c.buffer),
  );
}
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
  #pending = 0;
  #idle: (() => void)[] = [];
  #closed = false;
  #broken = false;

  readonly #channelCount: number;

  /** mpg123 always outputs two channels; a mono stream keeps the first. */
  constructor(channelCount: number, callbacks: BackendCallbacks) {
    this.#channelCount = channelCount;
    this.#callbacks = callbacks;
    this.#worker = acquireWorker();
    this.#worker.onmessage = ({ data }: MessageEvent<WorkerReply>) => this.#reply(data);
    this.#worker.onerror = (event) => {
      event.preventDefault();
      this.#fail(new Error(`mpg123 worker: ${event.message || 'failed to load'}`));
    };
  }

  decode(frames: EncodedFrame[]): void {
    if (this.#closed || frames.length === 0) return;
    this.#pending++;
    // Frames are views into the parser's larger buffers: posting them would copy those whole
    // buffers. One compact buffer, transferred, costs one copy of the frames themselves.
    const bytes = new Uint8Array(frames.reduce((n, f) => n + f.data.length, 0));
    let at = 0;
    for (const frame of frames) bytes.set(frame.data, at), (at += frame.data.length);
    this.#worker.postMessage({ bytes }, [bytes.buffer]);
  }

  flush(): Promise<void> {
    if (this.#pending === 0 || this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#worker.onmessage = null;
    this.#worker.onerror = null;
    releaseWorker(this.#worker, this.#pending === 0 && !this.#broken);
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
    this.#broken = true;
    this.close();
    this.#callbacks.error(error);
  }
}

/**
 * One idle worker is kept per page: starting one (loading the script, compiling the WASM) takes
 * ~50–100 ms, which would otherwise delay the first PCM of every track. `prewarmMp3Decoder()`
 * lets a page pay it before the user presses play.
 */
let idleWorker: Worker | undefined;
let scriptUrl: string | undefined;

function acquireWorker(): Worker {
  const worker = idleWorker ?? new Worker((scriptUrl ??= URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }))));
  idleWorker = undefined;
  return worker;
}

function releaseWorker(worker: Worker, reusable: boolean): void {
  if (!reusable || idleWorker) {
    worker.terminate();
    return;
  }
  worker.postMessage({ reset: true });
  idleWorker = worker;
}

/** Starts the mpg123 worker now so that the first track does not wait for it. */
export function prewarmMpg123Worker(): void {
  if (canUseMpg123() && !idleWorker) idleWorker = acquireWorker();
}
