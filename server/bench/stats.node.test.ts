import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatSummary, markdownTable, quantile, ratio, summarize } from './stats.js';

test('quantile interpolates linearly and ignores non-finite samples', () => {
  assert.equal(quantile([3, 1, 2], 0.5), 2);
  assert.equal(quantile([1, 2, 3, 4], 0.5), 2.5);
  assert.equal(quantile([0, 10], 0.95), 9.5);
  assert.equal(quantile([5, Number.NaN, Infinity], 0.5), 5);
  assert.ok(Number.isNaN(quantile([], 0.5)));
});

test('summarize and format: median (p95), a dash when nothing was measured', () => {
  const summary = summarize([10, 20, 30, 40, 50]);
  assert.deepEqual(summary, { n: 5, median: 30, p95: 48, min: 10, max: 50 });
  assert.equal(formatSummary(summary), '30.0 (48.0)');
  assert.equal(formatSummary(summarize([123.4])), '123');
  assert.equal(formatSummary(summarize([])), '–');
});

test('ratio of medians, a dash without data', () => {
  assert.equal(ratio(summarize([50]), summarize([100])), '0.50×');
  assert.equal(ratio(summarize([]), summarize([100])), '–');
});

test('markdownTable escapes pipes', () => {
  assert.equal(markdownTable(['a', 'b'], [['x|y', '1']]), '| a | b |\n|---|---|\n| x\\|y | 1 |');
});
