import assert from 'node:assert/strict';
import { test } from 'node:test';
import { alignedCorrelation, longestInnerZeroRun, nonZeroRange, pearson } from './output-tap.js';

const wave = (n: number, shift = 0): Float32Array =>
  Float32Array.from({ length: n }, (_, i) => Math.sin((i - shift) / 7) * Math.cos((i - shift) / 53) + 0.01);

test('nonZeroRange and longestInnerZeroRun ignore leading and trailing silence', () => {
  const x = Float32Array.of(0, 0, 1, 0, 0, 0, 2, 0, 3, 0, 0);
  assert.deepEqual(nonZeroRange(x), [2, 9]);
  assert.deepEqual(longestInnerZeroRun(x), { start: 3, length: 3 });
  assert.deepEqual(nonZeroRange(new Float32Array(4)), [0, 0]);
  assert.equal(longestInnerZeroRun(new Float32Array(4)).length, 0);
});

test('alignedCorrelation finds the lag and correlates 1 for a delayed copy', () => {
  const reference = wave(20000);
  const delayed = new Float32Array(21000);
  delayed.set(reference, 777);
  const a = alignedCorrelation(delayed, reference);
  assert.equal(a.lag, 777);
  assert.ok(a.correlation > 0.999999);
  assert.equal(a.overlap, 20000);
});

test('alignedCorrelation drops when a gap is inserted (the check can fail)', () => {
  const reference = wave(20000);
  const gapped = new Float32Array(20500);
  gapped.set(reference.subarray(0, 10000), 0);
  gapped.set(reference.subarray(10000), 10500); // 500 zeros in the middle
  const a = alignedCorrelation(gapped, reference);
  assert.ok(a.correlation < 0.9, `correlation ${a.correlation}`);
  assert.equal(longestInnerZeroRun(gapped).length, 500);
  assert.equal(pearson(reference, 0, reference, 0, 100), 1);
});
