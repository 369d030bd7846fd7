/**
 * Hears what a node outputs, sample for sample: an AudioWorklet recorder on `source`, for tests and
 * for the benchmark (first audible sample of our player and of a native `<audio>` routed through
 * `createMediaElementSource`, measured the same way). Plus the signal comparisons the tests use.
 */
import { loadWorkletModule } from '../playback/worklet-module.js';

const RECORDER_PROCESSOR = 'rtc-output-tap';

declare const currentFrame: number;
declare class AudioWorkletProcessor {
  readonly port: MessagePort;
}
declare function registerProcessor(name: string, processor: new (options: AudioWorkletNodeOptions) => unknown): void;

interface TapChunk {
  type: 'chunk';
  /** Context frame of channels[*][0]. */
  startFrame: number;
  /** Context frames the graph skipped right before this chunk (it did not render them at all). */
  skipped: number;
  channels: Float32Array[];
}
type TapMessage = TapChunk | { type: 'flushed'; id: number };
type TapCommand = { type: 'flush'; id: number } | { type: 'close' };

/** Runs in the worklet scope (shipped as source text): records its input, outputs silence. */
function defineRecorder(name: string): void {
  class Recorder extends AudioWorkletProcessor {
    private readonly maxFrames: number;
    private recorded = 0;
    private chunk: Float32Array[] = [];
    private chunkStart = 0;
    private filled = 0;
    private closed = false;
    /** Context frame the next quantum should start at (-1 before the first). */
    private next = -1;
    private skipped = 0;

    constructor(options: AudioWorkletNodeOptions) {
      super();
      this.maxFrames = (options.processorOptions as { maxFrames: number }).maxFrames;
      this.port.onmessage = (event: MessageEvent<TapCommand>) => {
        this.send();
        if (event.data.type === 'flush') this.port.postMessage({ type: 'flushed', id: event.data.id });
        else this.closed = true;
      };
    }

    process(inputs: Float32Array[][]): boolean {
      if (this.closed) return false;
      // The frame counter can jump when an overloaded audio thread drops render quanta: nothing
      // was rendered in between, so nothing is recorded, and a new chunk keeps index ↔ frame exact.
      if (this.next >= 0 && currentFrame !== this.next) {
        this.send();
        this.skipped += currentFrame - this.next;
      }
      if (this.recorded < this.maxFrames) this.record(inputs[0] ?? [], currentFrame);
      this.next = currentFrame + 128;
      return true;
    }

    private record(input: Float32Array[], frame: number): void {
      if (this.filled === 0) {
        this.chunk = [new Float32Array(2048), new Float32Array(2048)];
        this.chunkStart = frame;
      }
      for (let ch = 0; ch < 2; ch++) {
        const from = input[ch] ?? input[0];
        if (from) this.chunk[ch]!.set(from, this.filled); // no input: silence (the chunk starts zeroed)
      }
      this.filled += 128;
      this.recorded += 128;
      if (this.filled === 2048 || this.recorded >= this.maxFrames) this.send();
    }

    private send(): void {
      if (this.filled === 0) return;
      const channels = this.chunk.map((c) => c.slice(0, this.filled));
      this.port.postMessage({ type: 'chunk', startFrame: this.chunkStart, skipped: this.skipped, channels }, channels.map((c) => c.buffer));
      this.filled = 0;
      this.skipped = 0;
    }
  }
  registerProcessor(name, Recorder);
}

// `__name`: see pcmPlayerWorkletSource (keepNames transforms call it inside function bodies).
const recorderSource = `var __name = (target) => target;\n(${String(defineRecorder)})(${JSON.stringify(RECORDER_PROCESSOR)});\n`;

export interface AudibleMoment {
  /** Context frame of the first sample above the threshold. */
  frame: number;
  /** Index of that sample in `samples()` (= frame − startFrame unless frames were skipped). */
  index: number;
  /** Page time (`performance.now()` domain) when it reaches the output device, per getOutputTimestamp(). */
  pageTime: number;
}

export interface OutputTapOptions {
  /** Stop recording after this many seconds (default 30). */
  maxSeconds?: number;
}

export interface OutputTap {
  readonly sampleRate: number;
  /** Context frame of the first recorded sample (undefined until the recorder has run). */
  readonly startFrame: number | undefined;
  /**
   * Context frames the audio thread skipped (dropped render quanta under overload) since the tap
   * started: not in `samples()`, which holds only what was rendered, back to back.
   */
  readonly skippedFrames: number;
  /** Everything recorded and delivered so far, one Float32Array per channel (stereo). */
  samples(): Float32Array[];
  /** Waits until the worklet has delivered everything it recorded up to now. */
  flush(): Promise<void>;
  firstAudible(threshold?: number): AudibleMoment | undefined;
  /** Resolves at the first audible sample; rejects after `timeoutMs` (default 10 s). */
  whenAudible(threshold?: number, timeoutMs?: number): Promise<AudibleMoment>;
  /** Page time at which context frame `frame` reaches the output device. */
  pageTimeOfFrame(frame: number): number;
  /** Disconnects the recorder and stops recording (what was recorded stays readable). */
  close(): void;
}

export async function createOutputTap(
  context: BaseAudioContext,
  source: AudioNode,
  options: OutputTapOptions = {},
): Promise<OutputTap> {
  await loadWorkletModule(context, recorderSource);
  const maxFrames = Math.ceil((options.maxSeconds ?? 30) * context.sampleRate);
  const node = new AudioWorkletNode(context, RECORDER_PROCESSOR, {
    numberOfInputs: 1,
    numberOfOutputs: 1,
    channelCount: 2,
    channelCountMode: 'explicit',
    channelInterpretation: 'speakers',
    outputChannelCount: [1],
    processorOptions: { maxFrames },
  });
  source.connect(node);
  // Chromium does not run a worklet whose inputs are all inactive (e.g. a source not started yet).
  // A started ConstantSourceNode at 0 keeps the input active, so every quantum is recorded and the
  // silence before the source starts is counted exactly.
  const keepAlive = new ConstantSourceNode(context, { offset: 0 });
  keepAlive.connect(node);
  keepAlive.start();
  // The recorder outputs silence; being connected keeps it pulled by the graph every quantum.
  node.connect(context.destination);

  const chunks: TapChunk[] = [];
  let flushId = 0;
  const flushes = new Map<number, () => void>();
  const listeners = new Set<() => void>();
  node.port.onmessage = (event: MessageEvent<TapMessage>) => {
    const message = event.data;
    if (message.type === 'chunk') {
      chunks.push(message);
      for (const listener of listeners) listener();
    } else {
      flushes.get(message.id)?.();
      flushes.delete(message.id);
    }
  };

  const samples = (): Float32Array[] => {
    const length = chunks.reduce((sum, c) => sum + c.channels[0]!.length, 0);
    return [0, 1].map((ch) => {
      const out = new Float32Array(length);
      let at = 0;
      for (const chunk of chunks) {
        out.set(chunk.channels[ch]!, at);
        at += chunk.channels[ch]!.length;
      }
      return out;
    });
  };

  const pageTimeOfFrame = (frame: number): number => {
    const stamp = 'getOutputTimestamp' in context ? (context as AudioContext).getOutputTimestamp() : undefined;
    if (stamp?.contextTime && stamp.performanceTime) {
      return stamp.performanceTime + (frame / context.sampleRate - stamp.contextTime) * 1000;
    }
    // Not rendering to a device yet (or offline): assume the context's reported output latency.
    const latency = context instanceof AudioContext ? context.baseLatency + (context.outputLatency || 0) : 0;
    return performance.now() + (frame / context.sampleRate - context.currentTime + latency) * 1000;
  };

  const firstAudible = (threshold = 1e-3): AudibleMoment | undefined => {
    let index = 0;
    for (const chunk of chunks) {
      const length = chunk.channels[0]!.length;
      for (let i = 0; i < length; i++) {
        if (chunk.channels.some((c) => Math.abs(c[i]!) > threshold)) {
          const frame = chunk.startFrame + i;
          return { frame, index: index + i, pageTime: pageTimeOfFrame(frame) };
        }
      }
      index += length;
    }
    return undefined;
  };

  return {
    sampleRate: context.sampleRate,
    get startFrame() {
      return chunks[0]?.startFrame;
    },
    get skippedFrames() {
      return chunks.reduce((sum, c) => sum + c.skipped, 0);
    },
    samples,
    flush() {
      const id = ++flushId;
      return new Promise<void>((resolve) => {
        flushes.set(id, resolve);
        node.port.postMessage({ type: 'flush', id } satisfies TapCommand);
      });
    },
    firstAudible,
    whenAudible(threshold = 1e-3, timeoutMs = 10000) {
      return new Promise<AudibleMoment>((resolve, reject) => {
        const check = (): void => {
          const moment = firstAudible(threshold);
          if (!moment) return;
          listeners.delete(check);
          clearTimeout(timer);
          resolve(moment);
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`output tap: nothing above ${threshold} within ${timeoutMs} ms`));
        }, timeoutMs);
        listeners.add(check);
        check();
      });
    },
    pageTimeOfFrame,
    close() {
      node.port.postMessage({ type: 'close' } satisfies TapCommand);
      source.disconnect(node);
      keepAlive.stop();
      keepAlive.disconnect();
      node.disconnect();
    },
  };
}

// ---- Signal comparisons (pure) ----

/** [first, end) of the samples that are not exactly zero; [0, 0) for all-zero input. */
export function nonZeroRange(x: Float32Array): [number, number] {
  let first = 0;
  while (first < x.length && x[first] === 0) first++;
  if (first === x.length) return [0, 0];
  let end = x.length;
  while (x[end - 1] === 0) end--;
  return [first, end];
}

/** Longest run of exact zeros strictly inside the signal (leading/trailing silence ignored). */
export function longestInnerZeroRun(x: Float32Array): { start: number; length: number } {
  const [first, end] = nonZeroRange(x);
  let best = { start: first, length: 0 };
  let runStart = -1;
  for (let i = first; i < end; i++) {
    if (x[i] === 0) {
      if (runStart < 0) runStart = i;
      if (i - runStart + 1 > best.length) best = { start: runStart, length: i - runStart + 1 };
    } else runStart = -1;
  }
  return best;
}

/** Pearson correlation of a[aStart…] with b[bStart…] over `length` samples. */
export function pearson(a: Float32Array, aStart: number, b: Float32Array, bStart: number, length: number): number {
  let sa = 0;
  let sb = 0;
  for (let i = 0; i < length; i++) {
    sa += a[aStart + i]!;
    sb += b[bStart + i]!;
  }
  const ma = sa / length;
  const mb = sb / length;
  let cov = 0;
  let va = 0;
  let vb = 0;
  for (let i = 0; i < length; i++) {
    const da = a[aStart + i]! - ma;
    const db = b[bStart + i]! - mb;
    cov += da * db;
    va += da * da;
    vb += db * db;
  }
  return va === 0 || vb === 0 ? 0 : cov / Math.sqrt(va * vb);
}

export interface Alignment {
  /** signal[i + lag] lines up with reference[i]. */
  lag: number;
  /** Pearson correlation over the whole overlap at that lag. */
  correlation: number;
  /** Samples compared. */
  overlap: number;
}

/**
 * Lines `signal` up with `reference`: a coarse lag from their first audible samples, refined by
 * the best normalised cross-correlation within ±maxLag over a window, then the Pearson
 * correlation of everything that overlaps at that lag.
 */
export function alignedCorrelation(
  signal: Float32Array,
  reference: Float32Array,
  { maxLag = 256, window = 8192, threshold = 1e-3 } = {},
): Alignment {
  const firstAbove = (x: Float32Array): number => {
    const i = x.findIndex((v) => Math.abs(v) > threshold);
    return i < 0 ? 0 : i;
  };
  const refStart = firstAbove(reference);
  const coarse = firstAbove(signal) - refStart;
  const length = Math.max(1, Math.min(window, reference.length - refStart));
  let best = { lag: coarse, score: -Infinity };
  for (let lag = coarse - maxLag; lag <= coarse + maxLag; lag++) {
    const from = refStart + lag;
    if (from < 0 || from + length > signal.length) continue;
    const score = pearson(signal, from, reference, refStart, length);
    if (score > best.score) best = { lag, score };
  }
  const start = Math.max(0, -best.lag);
  const end = Math.min(reference.length, signal.length - best.lag);
  const overlap = Math.max(0, end - start);
  const correlation = overlap > 1 ? pearson(signal, start + best.lag, reference, start, overlap) : 0;
  return { lag: best.lag, correlation, overlap };
}
