import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRange } from './range';

test('parseRange handles closed, open and suffix ranges', () => {
  assert.deepEqual(parseRange('bytes=0-99', 1000), { kind: 'partial', start: 0, end: 99 });
  assert.deepEqual(parseRange('bytes=900-', 1000), { kind: 'partial', start: 900, end: 999 });
  assert.deepEqual(parseRange('bytes=900-5000', 1000), { kind: 'partial', start: 900, end: 999 });
  assert.deepEqual(parseRange('bytes=-100', 1000), { kind: 'partial', start: 900, end: 999 });
  assert.deepEqual(parseRange('bytes=-5000', 1000), { kind: 'partial', start: 0, end: 999 });
});

test('parseRange: unsatisfiable vs ignored', () => {
  assert.deepEqual(parseRange('bytes=1000-', 1000), { kind: 'unsatisfiable' });
  assert.deepEqual(parseRange('bytes=-0', 1000), { kind: 'unsatisfiable' });
  assert.deepEqual(parseRange(undefined, 1000), { kind: 'whole' });
  assert.deepEqual(parseRange('bytes=0-1,5-6', 1000), { kind: 'whole' });
  assert.deepEqual(parseRange('items=0-1', 1000), { kind: 'whole' });
  assert.deepEqual(parseRange('bytes=50-10', 1000), { kind: 'whole' });
});
