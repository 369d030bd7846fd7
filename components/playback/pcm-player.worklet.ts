import type { PlayerCommand, PlayerReport } from './pcm-player-messages.js';
import { PlayerCore } from './pcm-player-core.js';
import { PcmQueue } from './pcm-queue.js';
import { SincResampler } from './sinc-resampler.js';

/** The name the pcm-player processor is registered under in the worklet scope. */
export const PCM_PLAYER_PROCESSOR = 'rtc-pcm-player';

// The AudioWorkletGlobalScope, as far as this processor uses it (not in TypeScript's DOM lib).
declare const sampleRate: number;
declare const currentFrame: number;
declare class AudioWorkletProcessor {
  readonly port: MessagePort;
}
declare function registerProcessor(name: string, processor: new (options: AudioWorkletNodeOptions) => unknown): void;

/**
 * Runs in the worklet scope: registers the processor around a PlayerCore. Its classes arrive as
 * parameters so that this function's text, with theirs, forms a self-contained module whatever
 * names a bundler gives them.
 */
function definePcmPlayer(name: string, Core: typeof PlayerCore, Queue: typeof PcmQueue, Resampler: typeof SincResampler): void {
  class PcmPlayerProcessor extends AudioWorkletProcessor {
    private readonly core: PlayerCore;

    constructor(options: AudioWorkletNodeOptions) {
      super();
      const channels = options.outputChannelCount?.[0] ?? 2;
      const port = this.port;
      this.core = new Core(sampleRate, channels, {
        queue: new Queue(),
        makeResampler: (count, inRate, outRate) => new Resampler(count, inRate, outRate),
        post: (report: PlayerReport) => port.postMessage(report),
      });
      port.onmessage = (event: MessageEvent<PlayerCommand>) => {
        this.core.handle(event.data, currentFrame);
        if (this.core.closed) port.close();
      };
    }

    process(_inputs: Float32Array[][], outputs: Float32Array[][]): boolean {
      if (this.core.closed) return false;
      const output = outputs[0];
      if (output && output.length > 0) this.core.render(output, currentFrame);
      return true;
    }
  }
  registerProcessor(name, PcmPlayerProcessor);
}

/**
 * Source text of the worklet module (loaded from a Blob URL: the bundle stays one file). Tools
 * that keep function names (esbuild's keepNames, e.g. under tsx) put calls to a module-level
 * `__name` helper inside function bodies; the worklet scope gets a harmless stand-in for it.
 */
export const pcmPlayerWorkletSource = `var __name = (target) => target;
(${String(definePcmPlayer)})(${JSON.stringify(PCM_PLAYER_PROCESSOR)}, ${String(PlayerCore)}, ${String(PcmQueue)}, ${String(
  SincResampler,
)});
`;
