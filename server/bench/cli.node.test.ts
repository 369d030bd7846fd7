import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SECTIONS, UsageError, parseArgs } from './cli.js';

const parse = (...argv: string[]) => parseArgs(argv, '/work', '/work/bench-results.json');

test('defaults: every section, 5 runs, 100 and 500 listeners, JSON outside git', () => {
  const options = parse();
  assert.deepEqual([...options.only], [...SECTIONS]);
  assert.equal(options.runs, 5);
  assert.deepEqual(options.listeners, [100, 500]);
  assert.equal(options.json, '/work/bench-results.json');
  assert.equal(options.help, false);
  assert.deepEqual(options.formats, []);
});

test('--only selects sections; --runs, --listeners, --json, windows parse', () => {
  const options = parse('--only', 'startup,throughput', '--runs', '3', '--listeners', '20', '--json', 'out/b.json', '--load-window', '4', '--memory-seconds', '6', '--formats', 'MP3, flac');
  assert.deepEqual([...options.only], ['startup', 'throughput']);
  assert.equal(options.runs, 3);
  assert.deepEqual(options.listeners, [20]);
  assert.equal(options.json, '/work/out/b.json');
  assert.equal(options.loadWindowSeconds, 4);
  assert.equal(options.memorySeconds, 6);
  assert.deepEqual(options.formats, ['mp3', 'flac']);
});

test('bad input is a UsageError naming the problem', () => {
  assert.throws(() => parse('--only', 'startup,speed'), (error: unknown) => error instanceof UsageError && /unknown section "speed"/.test(error.message));
  assert.throws(() => parse('--runs', '0'), /--runs: expected an integer/);
  assert.throws(() => parse('--runs', '2.5'), /--runs: expected an integer/);
  assert.throws(() => parse('--listeners', '100,5000'), /--listeners: expected an integer in \[1, 1000\]/);
  assert.throws(() => parse('--runs'), /--runs needs a value/);
  assert.throws(() => parse('--json', '--runs'), /--json needs a value/);
  assert.throws(() => parse('--formats'), /--formats needs a value/);
  assert.throws(() => parse('--fast'), /unknown argument "--fast"/);
});
