import { aTimeout, expect } from '@open-wc/testing';
import { PlayerError } from '../errors.js';
import type { PcmBlock } from '../pcm.js';
import { alignedCorrelation, createOutputTap, longestInnerZeroRun, nonZeroRange, type OutputTap } from '../test/output-tap.js';
import { liveEngineCount, sharedAudioContext } from './audio-context.js';
import { PlaybackEngine } from './playback-engine.js';

const FIXTURE = '/components/test/fixtures/mp3-cbr128.mp3'; // 3 s, 44.1 kHz stereo, music-like

/** Deterministic pseudo-random numbers (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Cuts planar PCM into blocks of random sizes (1 frame to ~4,600), as a decoder might emit them. */
function split(channels: Float32Array[], sampleRate: number, seed = 1): PcmBlock[] {
  const next = random(seed);
  const blocks: PcmBlock[] = [];
  for (let at = 0; at < channels[0]!.length; ) {
    const size = next() < 0.1 ? 1 + Math.floor(next() * 8) : 64 + Math.floor(next() * 4544);
    const end = Math.min(at + size, channels[0]!.length);
    blocks.push({ channels: channels.map((c) => c.slice(at, end)), sampleRate, startFrame: at });
    at = end;
  }
  return blocks;
}

async function decodeFixture(context: BaseAudioContext): Promise<AudioBuffer> {
  const bytes = await (await fetch(FIXTURE)).arrayBuffer();
  return context.decodeAudioData(bytes);
}

const channelsOf = (buffer: AudioBuffer): Float32Array[] =>
  Array.from({ length: buffer.numberOfChannels }, (_, ch) => buffer.getChannelData(ch).slice());

function once(target: EventTarget, type: string, timeoutMs = 15000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${type}' within ${timeoutMs} ms`)), timeoutMs);
    target.addEventListener(type, () => (clearTimeout(timer), resolve()), { once: true });
  });
}

const sleep = aTimeout;

/**
 * The naive players the tests must catch, one AudioBufferSourceNode per block:
 * 'chained' starts each block at context.currentTime when the previous one ends (the design's
 * "play the next buffer" loop); 'float-time' starts each at a running float time. Resolves when done.
 */
async function playNaively(context: AudioContext, blocks: PcmBlock[], out: AudioNode, kind: 'chained' | 'float-time'): Promise<void> {
  const nodes = blocks.map((block) => {
    const buffer = new AudioBuffer({ length: block.channels[0]!.length, numberOfChannels: 2, sampleRate: block.sampleRate });
    block.channels.forEach((c, ch) => buffer.copyToChannel(c as Float32Array<ArrayBuffer>, ch));
    const node = new AudioBufferSourceNode(context, { buffer });
    node.connect(out);
    return node;
  });
  if (kind === 'float-time') {
    let when = context.currentTime + 0.1;
    for (const node of nodes) {
      node.start(when);
      when += node.buffer!.duration;
    }
    await sleep((when - context.currentTime) * 1000 + 300);
    return;
  }
  for (const node of nodes) {
    const done = new Promise((resolve) => (node.onended = resolve));
    node.start(context.currentTime);
    await done;
  }
  await sleep(200);
}

/** The correctness check of issue 3, per channel: what the tests (and the test of the test) apply. */
function checkOutput(output: Float32Array[], reference: Float32Array[]) {
  return reference.map((ref, ch) => {
    const out = output[ch]!;
    const { correlation, lag } = alignedCorrelation(out, ref);
    const [outFirst, outEnd] = nonZeroRange(out);
    const [refFirst, refEnd] = nonZeroRange(ref);
    return {
      correlation,
      lag,
      zeroRun: longestInnerZeroRun(out).length,
      refZeroRun: longestInnerZeroRun(ref).length,
      lengthError: Math.abs(outEnd - outFirst - (refEnd - refFirst)),
    };
  });
}

function expectFaithful(output: Float32Array[], reference: Float32Array[]): void {
  for (const c of checkOutput(output, reference)) {
    expect(c.correlation, 'aligned correlation').to.be.at.least(0.999);
    expect(c.zeroRun, 'longest zero run inside the audio').to.be.at.most(c.refZeroRun);
    expect(c.lengthError, 'played length vs reference').to.be.at.most(128);
  }
}

describe('PlaybackEngine', function () {
  this.timeout(60000);
  let engine: PlaybackEngine | undefined;
  let tap: OutputTap | undefined;
  const context = sharedAudioContext();

  afterEach(() => {
    tap?.close();
    engine?.destroy();
    tap = engine = undefined;
  });

  it('plays a real track cut into random blocks exactly as decoded in one piece', async () => {
    const reference = channelsOf(await decodeFixture(context));
    engine = await PlaybackEngine.create(context);
    tap = await createOutputTap(context, engine.output, { maxSeconds: 6 });
    for (const block of split(reference, context.sampleRate, 7)) engine.enqueue(block);
    engine.markEnd();
    expect(engine.queuedSeconds).to.be.closeTo(reference[0]!.length / context.sampleRate, 1e-9);
    const ended = once(engine, 'ended');
    await engine.play();
    // The position never moves backwards, and ends exactly at the track's length.
    const readings: number[] = [];
    const read = setInterval(() => readings.push(engine!.currentTime), 3);
    await ended;
    clearInterval(read);
    expect(readings.length).to.be.above(100);
    expect(readings.every((t, i) => i === 0 || t >= readings[i - 1]!), 'monotonic').to.equal(true);
    await tap.flush();
    expectFaithful(tap.samples(), reference);
    expect(engine.currentTime).to.be.closeTo(reference[0]!.length / context.sampleRate, 1e-9);
    expect(engine.queuedSeconds).to.equal(0);
    expect(engine.paused).to.equal(true);
  });

  it('test of the test: one AudioBufferSourceNode per block, each started at context.currentTime, fails that check', async () => {
    const reference = channelsOf(await decodeFixture(context));
    const out = new GainNode(context);
    tap = await createOutputTap(context, out, { maxSeconds: 6 });
    await playNaively(context, split(reference, context.sampleRate, 7), out, 'chained');
    await tap.flush();
    const results = checkOutput(tap.samples(), reference);
    console.info('naive chained player:', JSON.stringify(results));
    const faithful = results.every((c) => c.correlation >= 0.999 && c.zeroRun <= c.refZeroRun && c.lengthError <= 128);
    expect(faithful, JSON.stringify(results)).to.equal(false);
  });

  it('pause/resume keeps the position and continues from the next sample', async () => {
    const reference = channelsOf(await decodeFixture(context)).map((c) => c.subarray(0, Math.round(1.5 * context.sampleRate)));
    engine = await PlaybackEngine.create(context);
    tap = await createOutputTap(context, engine.output, { maxSeconds: 6 });
    for (const block of split(reference, context.sampleRate, 3)) engine.enqueue(block);
    engine.markEnd();
    const ended = once(engine, 'ended');
    await engine.play();
    const readings: number[] = [];
    const read = setInterval(() => readings.push(engine!.currentTime), 3);
    await sleep(500);
    clearInterval(read);
    engine.pause();
    const atPause = engine.currentTime;
    expect(engine.paused).to.equal(true);
    await sleep(300);
    const paused = engine.currentTime;
    expect(paused).to.be.at.least(atPause);
    expect(paused - atPause, 'stopped within the wait (fade + message latency)').to.be.below(0.3);
    // Never ahead of what was output: no reading passed the position the worklet stopped at.
    expect(Math.max(...readings)).to.be.at.most(paused);
    await sleep(100);
    expect(engine.currentTime, 'position stands still while paused').to.equal(paused);
    await engine.play();
    expect(engine.currentTime).to.equal(paused);
    await ended;
    await tap.flush();

    // Remove the paused silence (the longest inner run of exact zeros): what remains is the track.
    const output = tap.samples();
    const [first] = nonZeroRange(output[0]!);
    const gap = longestInnerZeroRun(output[0]!);
    expect(gap.length, 'a pause of ~300 ms').to.be.above(0.25 * context.sampleRate);
    const pausedAt = gap.start - first; // track frames played before the pause
    expect(pausedAt / context.sampleRate).to.be.closeTo(paused, 1e-9);
    const joined = output.map((c) => {
      const [, end] = nonZeroRange(c);
      return Float32Array.from([...c.subarray(first, gap.start), ...c.subarray(gap.start + gap.length, end)]);
    });
    const fade = Math.round(0.005 * context.sampleRate);
    for (let ch = 0; ch < 2; ch++) {
      const ref = reference[ch]!;
      expect(Math.abs(joined[ch]!.length - ref.length), 'nothing skipped or repeated').to.be.at.most(1);
      let worst = 0;
      for (let i = 0; i < ref.length; i++) {
        if (i >= pausedAt - fade - 1 && i < pausedAt + fade + 1) continue; // the fade-out and fade-in
        worst = Math.max(worst, Math.abs((joined[ch]![i] ?? 0) - ref[i]!));
      }
      expect(worst, 'sample-exact outside the 5 ms fades').to.equal(0);
    }
  });

  it('fires underrun/playing/ended in order and keeps time with the context clock only while playing', async () => {
    const tone = new Float32Array(Math.round(0.4 * context.sampleRate)).map((_, i) => 0.3 * Math.sin(i / 10));
    engine = await PlaybackEngine.create(context);
    const events: string[] = [];
    for (const type of ['playing', 'underrun', 'ended']) engine.addEventListener(type, () => events.push(type));
    const underrun = once(engine, 'underrun');
    await engine.play();
    await underrun; // nothing queued yet
    const playing = once(engine, 'playing');
    engine.enqueue({ channels: [tone.slice()], sampleRate: context.sampleRate, startFrame: 0 });
    await playing;
    const t0 = engine.currentTime;
    const c0 = context.currentTime;
    await sleep(200);
    const advanced = engine.currentTime - t0;
    expect(advanced).to.be.closeTo(context.currentTime - c0, 0.04);
    await once(engine, 'underrun'); // ran dry, no end marked
    expect(engine.currentTime).to.be.closeTo(0.4, 1e-9);
    const ended = once(engine, 'ended');
    engine.enqueue({ channels: [tone.slice(0, 4800)], sampleRate: context.sampleRate, startFrame: tone.length });
    engine.markEnd();
    await ended;
    expect(events).to.deep.equal(['underrun', 'playing', 'underrun', 'playing', 'ended']);
  });

  it('stop drops the queue and resets the position; destroy releases the engine', async () => {
    const before = liveEngineCount();
    engine = await PlaybackEngine.create(context);
    expect(liveEngineCount()).to.equal(before + 1);
    engine.enqueue({ channels: [new Float32Array(48000).fill(0.1)], sampleRate: 48000, startFrame: 0 });
    await engine.play();
    await sleep(100);
    expect(engine.currentTime).to.be.above(0);
    engine.stop();
    expect(engine.currentTime).to.equal(0);
    expect(engine.queuedSeconds).to.equal(0);
    await sleep(100);
    expect(engine.currentTime, 'stale reports from before stop() are ignored').to.equal(0);
    expect(() => engine!.enqueue({ channels: [new Float32Array(4), new Float32Array(3)], sampleRate: 48000, startFrame: 0 })).to.throw(TypeError);
    expect(() => engine!.enqueue({ channels: [new Float32Array(4)], sampleRate: NaN, startFrame: 0 })).to.throw(RangeError);
    expect(() => (engine!.volume = 2)).to.throw(RangeError);
    engine.markEnd();
    expect(() => engine!.enqueue({ channels: [new Float32Array(4)], sampleRate: 48000, startFrame: 0 })).to.throw(/markEnd/);
    engine.destroy();
    engine.destroy();
    expect(liveEngineCount()).to.equal(before);
    await engine.play().then(
      () => expect.fail('play() after destroy() must reject'),
      (error: Error) => expect(error.message).to.match(/destroy/),
    );
    engine = undefined;
  });

  it('applies volume and mute on its output node', async () => {
    engine = await PlaybackEngine.create(context);
    tap = await createOutputTap(context, engine.output, { maxSeconds: 3 });
    engine.volume = 0.5;
    engine.enqueue({ channels: [new Float32Array(Math.round(1.5 * context.sampleRate)).fill(0.8)], sampleRate: context.sampleRate, startFrame: 0 });
    engine.markEnd();
    const ended = once(engine, 'ended');
    await engine.play();
    await sleep(100);
    // Where the mute lands depends on when this thread runs, so measure against the engine's own
    // position at that moment rather than a wall-clock guess (a loaded machine delays us).
    const atMute = engine.currentTime;
    engine.muted = true;
    await ended;
    await tap.flush();
    const out = tap.samples()[0]!;
    const [first, end] = nonZeroRange(out);
    expect(out[first + 1000]).to.be.closeTo(0.4, 1e-6);
    expect(atMute, 'muted well before the block ends').to.be.below(1.2);
    const slack = Math.round(0.25 * context.sampleRate); // render quanta + main→audio thread hop + 5 ms ramp
    expect(end, 'sound until about the mute').to.be.above(first + Math.round(atMute * context.sampleRate) - slack);
    expect(end, 'silent from the mute (5 ms ramp) on').to.be.below(first + Math.round(atMute * context.sampleRate) + slack);
    expect(engine.volume).to.equal(0.5);
    expect(engine.muted).to.equal(true);
  });

  it('reports a context it cannot use as a fatal AUDIO_CONTEXT PlayerError', async () => {
    const closed = new AudioContext();
    await closed.close();
    const error = await PlaybackEngine.create(closed).then(
      () => expect.fail('create() on a closed context must reject'),
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(PlayerError);
    expect((error as PlayerError).code).to.equal('AUDIO_CONTEXT');
    expect((error as PlayerError).fatal).to.equal(true);
  });

  it('transfers whole buffers to the worklet and copies views of shared ones', async () => {
    engine = await PlaybackEngine.create(context);
    const whole = new Float32Array(256);
    const backing = new Float32Array(512);
    const view = backing.subarray(0, 256);
    engine.enqueue({ channels: [whole, view], sampleRate: context.sampleRate, startFrame: 0 });
    expect(whole.length, 'transferred (detached)').to.equal(0);
    expect(view.length, 'copied, the caller keeps its buffer').to.equal(256);
    // A decoder's block that owns its buffers: views of part of them are taken as they are.
    const owned = new Float32Array(512);
    const tail = owned.subarray(100, 356);
    engine.enqueue({ channels: [tail, tail.slice()], sampleRate: context.sampleRate, startFrame: 256, ownsBuffers: true });
    expect(tail.length, 'a view of an owned buffer is transferred').to.equal(0);
    expect(owned.length, 'with its whole buffer').to.equal(0);
  });
});

describe('PlaybackEngine resampling', function () {
  this.timeout(60000);

  it('upmixes mono 8 kHz blocks and resamples them like the browser does in one piece', async () => {
    const context = sharedAudioContext();
    const bytes = await (await fetch('/components/test/fixtures/mp3-mpeg25-8k.mp3')).arrayBuffer();
    const source = channelsOf(await new OfflineAudioContext(1, 1, 8000).decodeAudioData(bytes.slice(0)));
    expect(source.length).to.equal(1);
    const reference = channelsOf(await context.decodeAudioData(bytes)); // one-shot, at the context rate
    const engine = await PlaybackEngine.create(context);
    const tap = await createOutputTap(context, engine.output, { maxSeconds: 4 });
    for (const block of split(source, 8000, 5)) engine.enqueue(block);
    engine.markEnd();
    const ended = once(engine, 'ended');
    await engine.play();
    await ended;
    await tap.flush();
    const output = tap.samples();
    expectFaithful(output, [reference[0]!, reference[0]!]); // both speakers carry the mono signal
    tap.close();
    engine.destroy();
  });

  it('plays 48 kHz blocks in a 44.1 kHz context seamlessly, like a one-shot resample', async () => {
    const context = new AudioContext({ sampleRate: 44100, latencyHint: 'interactive' });
    try {
      // The reference stream at 48 kHz, decoded by an offline context at that rate.
      const source = channelsOf(await decodeFixture(new OfflineAudioContext(2, 1, 48000))).map((c) => c.subarray(0, 96000));
      // One-shot conversion of the whole stream by the browser (its own sinc resampler).
      const offline = new OfflineAudioContext(2, Math.ceil((96000 * 44100) / 48000), 44100);
      const whole = new AudioBuffer({ length: 96000, numberOfChannels: 2, sampleRate: 48000 });
      source.forEach((c, ch) => whole.copyToChannel(c as Float32Array<ArrayBuffer>, ch));
      const wav = encodeWav(whole);
      const reference = channelsOf(await offline.decodeAudioData(wav));

      const engine = await PlaybackEngine.create(context);
      const tap = await createOutputTap(context, engine.output, { maxSeconds: 5 });
      const blocks = split(source, 48000, 11);
      for (const block of blocks) engine.enqueue(block);
      engine.markEnd();
      const ended = once(engine, 'ended');
      await engine.play();
      await ended;
      await tap.flush();
      const output = tap.samples();
      expectFaithful(output, reference);
      expect(engine.currentTime).to.be.closeTo(2, 1 / 44100);

      // No spikes at the joins: the error against the one-shot resample is no larger at a join
      // than almost anywhere else.
      const joins = joinError(output[0]!, reference[0]!, blocks);
      expect(joins.atJoins, `join error vs 99.9th percentile ${joins.typical}`).to.be.at.most(Math.max(joins.typical, 1e-3));

      // Test of the test: per-block AudioBufferSourceNodes at float times resample each block
      // alone; the same checks must catch that.
      const naiveOut = new GainNode(context);
      const naiveTap = await createOutputTap(context, naiveOut, { maxSeconds: 5 });
      await playNaively(context, split(source, 48000, 11), naiveOut, 'float-time'); // fresh: `blocks` were transferred
      await naiveTap.flush();
      const naive = naiveTap.samples();
      const naiveJoins = joinError(naive[0]!, reference[0]!, blocks);
      const naiveChecks = checkOutput(naive, reference);
      const naivePasses =
        naiveJoins.atJoins <= Math.max(naiveJoins.typical, 1e-3) &&
        naiveChecks.every((c) => c.correlation >= 0.999 && c.zeroRun <= c.refZeroRun && c.lengthError <= 128);
      console.info('naive float-time player at 48k→44.1k:', JSON.stringify({ naiveJoins, naiveChecks }), 'engine:', JSON.stringify(joins));
      expect(naivePasses, JSON.stringify({ naiveJoins, naiveChecks })).to.equal(false);
      naiveTap.close();
      tap.close();
      engine.destroy();
    } finally {
      await context.close();
    }
  });
});

/** Largest error against `reference` within 2 frames of a block join, and the 99.9th percentile elsewhere. */
function joinError(output: Float32Array, reference: Float32Array, blocks: PcmBlock[]): { atJoins: number; typical: number } {
  const { lag } = alignedCorrelation(output, reference);
  const error = reference.map((r, i) => Math.abs((output[i + lag] ?? 0) - r));
  const sorted = [...error.subarray(1000, error.length - 1000)].sort((a, b) => a - b);
  const typical = sorted[Math.floor(sorted.length * 0.999)]!;
  let atJoins = 0;
  for (const block of blocks) {
    const at = Math.round((block.startFrame * 44100) / block.sampleRate);
    if (at < 100 || at > error.length - 100) continue;
    for (let i = at - 2; i <= at + 2; i++) atJoins = Math.max(atJoins, error[i]!);
  }
  return { atJoins, typical };
}

/** 32-bit float WAV of `buffer`, so decodeAudioData resamples it in one piece. */
function encodeWav(buffer: AudioBuffer): ArrayBuffer {
  const channels = buffer.numberOfChannels;
  const frames = buffer.length;
  const bytes = new ArrayBuffer(44 + frames * channels * 4);
  const view = new DataView(bytes);
  const text = (at: number, s: string): void => [...s].forEach((c, i) => view.setUint8(at + i, c.charCodeAt(0)));
  text(0, 'RIFF');
  view.setUint32(4, bytes.byteLength - 8, true);
  text(8, 'WAVE');
  text(12, 'fmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, 3, true); // IEEE float
  view.setUint16(22, channels, true);
  view.setUint32(24, buffer.sampleRate, true);
  view.setUint32(28, buffer.sampleRate * channels * 4, true);
  view.setUint16(32, channels * 4, true);
  view.setUint16(34, 32, true);
  text(36, 'data');
  view.setUint32(40, frames * channels * 4, true);
  const data = Array.from({ length: channels }, (_, ch) => buffer.getChannelData(ch));
  for (let i = 0; i < frames; i++) {
    for (let ch = 0; ch < channels; ch++) view.setFloat32(44 + (i * channels + ch) * 4, data[ch]![i]!, true);
  }
  return bytes;
}
