import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PlayerCore } from './pcm-player-core.js';
import type { PlayerEvent, PlayerReport } from './pcm-player-messages.js';
import { PcmQueue } from './pcm-queue.js';
import { SincResampler } from './sinc-resampler.js';

const RATE = 48000;
const Q = 128;

function harness(outRate = RATE) {
  const reports: PlayerReport[] = [];
  const core = new PlayerCore(outRate, 2, {
    queue: new PcmQueue(),
    makeResampler: (c, i, o) => new SincResampler(c, i, o),
    post: (r) => reports.push(r),
  });
  let frame = 0;
  const out: number[] = [];
  return {
    core,
    reports,
    out,
    events: (): PlayerEvent[] => reports.map((r) => r.event).filter((e) => e !== 'position'),
    send: (command: Parameters<PlayerCore['handle']>[0]) => core.handle(command, frame),
    render(quanta: number) {
      for (let q = 0; q < quanta; q++) {
        const output = [new Float32Array(Q).fill(9), new Float32Array(Q).fill(9)];
        core.render(output, frame);
        frame += Q;
        out.push(...output[0]!);
      }
    },
  };
}

const ramp = (from: number, n: number): Float32Array => Float32Array.from({ length: n }, (_, i) => (from + i + 1) / 1e5);

test('plays blocks back to back, exactly, then reports ended after markEnd', () => {
  const h = harness();
  let next = 0;
  for (const size of [100, 1, 299, 57]) {
    h.send({ type: 'enqueue', channels: [ramp(next, size)], sampleRate: RATE });
    next += size;
  }
  h.send({ type: 'end' });
  h.send({ type: 'play' });
  h.render(5);
  assert.deepEqual(h.out.slice(0, next), [...ramp(0, next)]);
  assert.ok(h.out.slice(next).every((x) => x === 0), 'silence after the end, never stale samples');
  assert.deepEqual(h.events(), ['resumed', 'playing', 'ended']);
  assert.equal(h.reports.at(-1)!.playedFrames, next);
});

test('underrun when the queue runs dry before markEnd, playing again when refilled', () => {
  const h = harness();
  h.send({ type: 'play' });
  h.render(1);
  h.send({ type: 'enqueue', channels: [ramp(0, 200)], sampleRate: RATE });
  h.render(3);
  h.send({ type: 'enqueue', channels: [ramp(200, 10)], sampleRate: RATE });
  h.send({ type: 'end' });
  h.render(2);
  assert.deepEqual(h.events(), ['resumed', 'underrun', 'playing', 'underrun', 'playing', 'ended']);
  // The track's start plays exactly; audio resuming after an underrun fades in.
  assert.equal(h.out[Q], ramp(0, 1)[0]);
  const resumedAt = 4 * Q;
  assert.ok(h.out[resumedAt]! > 0 && h.out[resumedAt]! < ramp(200, 1)[0]!, 'faded in');
});

test('pause fades out over ~5 ms while consuming, stops consuming, and resume continues at the next sample', () => {
  const h = harness();
  const total = 48000;
  h.send({ type: 'enqueue', channels: [ramp(0, total)], sampleRate: RATE });
  h.send({ type: 'play' });
  h.render(10);
  h.send({ type: 'pause' });
  h.render(10);
  const paused = h.reports.find((r) => r.event === 'paused')!;
  const fade = 240; // 5 ms at 48 kHz
  assert.equal(paused.playedFrames, 10 * Q + fade, 'the fade consumed exactly its own samples');
  h.send({ type: 'play' });
  h.render(20);
  const silence = h.out.slice(10 * Q + fade, 20 * Q);
  assert.ok(silence.every((x) => x === 0), 'silent while paused');
  const played = [...h.out.slice(0, 10 * Q + fade), ...h.out.slice(20 * Q)];
  const expected = ramp(0, played.length);
  for (let i = 0; i < played.length; i++) {
    const inFade = i >= 10 * Q && i < 10 * Q + 2 * fade;
    if (inFade) assert.ok(played[i]! <= expected[i]! + 1e-9 && played[i]! >= 0, `fade sample ${i}`);
    else assert.equal(played[i], expected[i], `sample ${i}`);
  }
  assert.deepEqual(h.events(), ['resumed', 'playing', 'paused', 'resumed', 'playing']);
});

test('pause before anything was output is immediate; stop drops the queue and resets the position', () => {
  const h = harness();
  h.send({ type: 'enqueue', channels: [ramp(0, 1000)], sampleRate: RATE });
  h.send({ type: 'play' });
  h.send({ type: 'pause' });
  h.render(2);
  assert.ok(h.out.every((x) => x === 0));
  assert.equal(h.reports.at(-1)!.event, 'paused');
  h.send({ type: 'play' });
  h.render(1);
  assert.equal(h.out[Q * 2], ramp(0, 1)[0], 'from the first sample, no fade on the very start');
  h.send({ type: 'stop', epoch: 1 });
  const stopped = h.reports.at(-1)!;
  assert.deepEqual([stopped.event, stopped.epoch, stopped.playedFrames, stopped.aheadFrames], ['stopped', 1, 0, 0]);
  h.send({ type: 'play' });
  h.render(1);
  assert.equal(h.reports.at(-1)!.event, 'underrun');
});

test('reports the position at a bounded rate while flowing, and resamples other rates', () => {
  const h = harness(44100);
  h.send({ type: 'enqueue', channels: [new Float32Array(48000).fill(0.25)], sampleRate: 48000 });
  h.send({ type: 'end' });
  h.send({ type: 'play' });
  h.render(400);
  const positions = h.reports.filter((r) => r.event === 'position');
  assert.ok(positions.length >= 40 && positions.length <= 60, `${positions.length} reports for ~1.1 s`);
  const ended = h.reports.find((r) => r.event === 'ended')!;
  assert.equal(ended.playedFrames, 44100);
  assert.ok(h.out.slice(100, 44000).every((x) => Math.abs(x - 0.25) < 1e-6));
});

test('after stop a new stream may come at another rate', () => {
  const h = harness(48000);
  h.send({ type: 'enqueue', channels: [new Float32Array(4800).fill(0.1)], sampleRate: 48000 });
  h.send({ type: 'play' });
  h.render(2);
  h.send({ type: 'stop', epoch: 1 });
  h.send({ type: 'enqueue', channels: [new Float32Array(4410).fill(0.2)], sampleRate: 44100 });
  h.send({ type: 'end' });
  h.send({ type: 'play' });
  h.render(60);
  const ended = h.reports.find((r) => r.event === 'ended')!;
  assert.equal(ended.epoch, 1);
  assert.equal(ended.playedFrames, 4800, '0.1 s at 44.1 kHz is 0.1 s at 48 kHz');
  assert.ok(Math.abs(h.out[2 * Q + 2000]! - 0.2) < 1e-6);
});
