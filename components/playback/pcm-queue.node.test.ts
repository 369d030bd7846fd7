import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PcmQueue } from './pcm-queue.js';

const ramp = (from: number, n: number): Float32Array => Float32Array.from({ length: n }, (_, i) => from + i);

test('reads blocks back to back across block boundaries, in any read sizes', () => {
  const queue = new PcmQueue();
  let next = 0;
  for (const size of [3, 1, 7, 5]) {
    queue.push([ramp(next, size), ramp(1000 + next, size)]);
    next += size;
  }
  assert.equal(queue.availableFrames, 16);
  const out = [new Float32Array(16), new Float32Array(16)];
  assert.equal(queue.read(out, 0, 4), 4);
  assert.equal(queue.read(out, 4, 9), 9);
  assert.equal(queue.read(out, 13, 10), 3, 'only what is queued');
  assert.deepEqual([...out[0]!], [...ramp(0, 16)]);
  assert.deepEqual([...out[1]!], [...ramp(1000, 16)]);
  assert.equal(queue.availableFrames, 0);
  assert.equal(queue.read(out, 0, 5), 0);
});

test('upmixes mono to both channels and downmixes 5.1 by the speaker rules', () => {
  const queue = new PcmQueue();
  queue.push([Float32Array.of(0.5, -0.25)]);
  const six = [1, 2, 3, 4, 5, 6].map((v) => Float32Array.of(v / 10));
  queue.push(six);
  const out = [new Float32Array(3), new Float32Array(3)];
  queue.read(out, 0, 3);
  assert.deepEqual([...out[0]!.subarray(0, 2)], [0.5, -0.25]);
  assert.deepEqual([...out[1]!.subarray(0, 2)], [0.5, -0.25]);
  const g = Math.SQRT1_2;
  assert.ok(Math.abs(out[0]![2]! - (0.1 + g * (0.3 + 0.5))) < 1e-6);
  assert.ok(Math.abs(out[1]![2]! - (0.2 + g * (0.3 + 0.6))) < 1e-6);
});

test('ignores empty blocks, clear() drops everything, and read blocks are released', () => {
  const queue = new PcmQueue();
  queue.push([new Float32Array(0)]);
  assert.equal(queue.availableFrames, 0);
  for (let i = 0; i < 200; i++) queue.push([ramp(i, 1)]);
  const out = [new Float32Array(150)];
  assert.equal(queue.read(out, 0, 150), 150);
  // Internal: consumed blocks are no longer referenced (the array was compacted).
  const held = (queue as unknown as { blocks: unknown[] }).blocks.filter(Boolean).length;
  assert.equal(held, 50);
  queue.clear();
  assert.equal(queue.availableFrames, 0);
  assert.equal(queue.read(out, 0, 1), 0);
});
