// The worklet ships as source text built from live classes (String(fn)). This checks that the
// text is a working processor both as the dev tools transform it and after a minified Vite
// build, by running it in a bare realm that has only what an AudioWorkletGlobalScope offers.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { build } from 'vite';
import type { PlayerCommand, PlayerReport } from './pcm-player-messages.js';
import { PCM_PLAYER_PROCESSOR, pcmPlayerWorkletSource } from './pcm-player.worklet.js';

const here = path.dirname(fileURLToPath(import.meta.url));

interface FakeProcessor {
  process(inputs: Float32Array[][], outputs: Float32Array[][]): boolean;
}

/** Evaluates `source` in a fresh realm with the worklet globals; returns a driver for one node. */
function runInWorkletScope(source: string, sampleRate = 48000) {
  const registered = new Map<string, new (options: unknown) => FakeProcessor>();
  const posted: PlayerReport[] = [];
  let onmessage: ((event: { data: PlayerCommand }) => void) | null = null;
  const port = {
    postMessage: (message: PlayerReport) => posted.push(message),
    set onmessage(handler: typeof onmessage) {
      onmessage = handler;
    },
    close: () => undefined,
  };
  const scope = vm.createContext({
    sampleRate,
    currentFrame: 0,
    AudioWorkletProcessor: class {
      readonly port = port;
    },
    registerProcessor: (name: string, processor: new (options: unknown) => FakeProcessor) => registered.set(name, processor),
  });
  vm.runInContext(source, scope);
  const Processor = registered.get(PCM_PLAYER_PROCESSOR);
  assert.ok(Processor, 'the module registers the processor');
  const processor = new Processor({ outputChannelCount: [2] });
  return {
    posted,
    send: (command: PlayerCommand) => onmessage!({ data: command }),
    render(): Float32Array[] {
      const output = [new Float32Array(128), new Float32Array(128)];
      assert.equal(processor.process([], [output]), true);
      scope.currentFrame += 128;
      return output;
    },
  };
}

function exercise(source: string): void {
  const node = runInWorkletScope(source);
  const input = Float32Array.from({ length: 300 }, (_, i) => (i + 1) / 1000);
  node.send({ type: 'enqueue', channels: [input.slice(0, 100)], sampleRate: 48000 });
  node.send({ type: 'enqueue', channels: [input.slice(100)], sampleRate: 48000 });
  node.send({ type: 'end' });
  node.send({ type: 'play' });
  const out = [...node.render()[1]!, ...node.render()[1]!, ...node.render()[1]!];
  assert.deepEqual(out.slice(0, 300), [...input]);
  assert.deepEqual(
    node.posted.map((r) => r.event),
    ['resumed', 'playing', 'ended'],
  );

  const resampling = runInWorkletScope(source, 44100);
  resampling.send({ type: 'enqueue', channels: [new Float32Array(4800).fill(0.5)], sampleRate: 48000 });
  resampling.send({ type: 'end' });
  resampling.send({ type: 'play' });
  for (let i = 0; i < 40; i++) resampling.render();
  assert.equal(resampling.posted.at(-1)!.event, 'ended');
  assert.equal(resampling.posted.at(-1)!.playedFrames, 4410);
}

test('the worklet source works as the dev/test transform produced it', () => {
  exercise(pcmPlayerWorkletSource);
});

test('the worklet source works after a minified Vite library build', async () => {
  const result = await build({
    configFile: false,
    logLevel: 'silent',
    root: here,
    build: {
      write: false,
      minify: true,
      target: 'es2022',
      lib: { entry: path.join(here, 'pcm-player.worklet.ts'), formats: ['es'], fileName: 'worklet' },
    },
  });
  const outputs = Array.isArray(result) ? result : [result];
  const chunk = outputs.flatMap((o) => ('output' in o ? o.output : [])).find((c) => c.type === 'chunk');
  assert.ok(chunk && chunk.type === 'chunk');
  const bundled = (await import(`data:text/javascript;base64,${Buffer.from(chunk.code).toString('base64')}`)) as {
    pcmPlayerWorkletSource: string;
  };
  assert.notEqual(bundled.pcmPlayerWorkletSource, pcmPlayerWorkletSource, 'really minified');
  exercise(bundled.pcmPlayerWorkletSource);
});
