import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PcmQueue } from './pcm-queue.js';
import { SincResampler } from './sinc-resampler.js';

const IN = 48000;
const OUT = 44100;

function tone(frames: number, rate: number): Float32Array {
  return Float32Array.from({ length: frames }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 1000 * i) / rate + 0.3) + 0.3 * Math.sin((2 * Math.PI * 5123 * i) / rate));
}

/** Converts `input` fed in blocks of the given sizes, pulled in `pullSize` pieces. */
function convert(input: Float32Array, blockSizes: number[], pullSize: number, inRate = IN, outRate = OUT): Float32Array {
  const queue = new PcmQueue();
  const resampler = new SincResampler(1, inRate, outRate);
  const source = (d: Float32Array[], o: number, f: number): number => queue.read(d, o, f);
  const out: number[] = [];
  const scratch = [new Float32Array(pullSize)];
  let fed = 0;
  let b = 0;
  for (;;) {
    const ended = fed >= input.length;
    const n = resampler.pull(scratch, 0, pullSize, source, ended);
    out.push(...scratch[0]!.subarray(0, n));
    if (n < pullSize) {
      if (ended) break;
      const size = Math.min(blockSizes[b++ % blockSizes.length]!, input.length - fed);
      queue.push([input.slice(fed, fed + size)]);
      fed += size;
    }
  }
  return Float32Array.from(out);
}

test('output does not depend on how the input was cut or pulled (state carries across joins)', () => {
  const input = tone(20000, IN);
  const whole = convert(input, [input.length], 128);
  const split = convert(input, [1, 1151, 37, 4096, 2, 777], 128);
  const pulledOddly = convert(input, [300], 61);
  assert.equal(split.length, whole.length);
  assert.equal(pulledOddly.length, whole.length);
  for (let i = 0; i < whole.length; i++) {
    assert.equal(split[i], whole[i], `frame ${i}`);
    assert.equal(pulledOddly[i], whole[i], `frame ${i}`);
  }
});

test('length is the input duration at the output rate, and the signal is the band-limited input', () => {
  const input = tone(48000, IN);
  const out = convert(input, [1000], 128);
  assert.equal(out.length, Math.ceil((input.length * OUT) / IN));
  const expected = tone(out.length, OUT);
  let worst = 0;
  for (let i = 64; i < out.length - 64; i++) worst = Math.max(worst, Math.abs(out[i]! - expected[i]!));
  assert.ok(worst < 2e-3, `max error ${worst}`);
});

test('upsampling works too, and a stream that has not ended holds back only the filter lookahead', () => {
  const input = tone(4410, OUT);
  const out = convert(input, [441], 128, OUT, IN);
  assert.equal(out.length, Math.ceil((input.length * IN) / OUT));
  const expected = tone(out.length, IN);
  let worst = 0;
  for (let i = 64; i < out.length - 64; i++) worst = Math.max(worst, Math.abs(out[i]! - expected[i]!));
  assert.ok(worst < 2e-3, `max error ${worst}`);

  const queue = new PcmQueue();
  const resampler = new SincResampler(1, IN, OUT);
  queue.push([tone(1000, IN)]);
  const n = resampler.pull([new Float32Array(2000)], 0, 2000, (d, o, f) => queue.read(d, o, f), false);
  assert.ok(n > 900 && n < 1000 * (OUT / IN), `produced ${n}`);
  assert.ok(resampler.heldFrames <= 17, `held ${resampler.heldFrames}`);
});

test('ratios without a short period (interpolated filter rows) are as accurate', () => {
  const odd = 47993;
  const input = tone(8000, IN);
  const out = convert(input, [333], 128, IN, odd);
  assert.equal(out.length, Math.ceil((input.length * odd) / IN));
  const expected = tone(out.length, odd);
  let worst = 0;
  for (let i = 64; i < out.length - 64; i++) worst = Math.max(worst, Math.abs(out[i]! - expected[i]!));
  assert.ok(worst < 2e-3, `max error ${worst}`);
  assert.deepEqual(convert(input, [1, 4095], 77, IN, odd), out, 'cut differently, same output');
});
