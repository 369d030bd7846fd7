/**
 * MP3 still decodes, exactly, when the mpg123 worker cannot run (a CSP without blob: workers, a
 * blocked script): WebCodecs takes over from the first frame, with no failure counted.
 * Own file: each test file gets a fresh page, so no warm mpg123 worker exists yet.
 */
import { expect } from '@open-wc/testing';
import { alignedCorrelation, chunked, decodeChunks, fixture, referenceDecode } from './decoder-test-support.js';

async function withWorker(replacement: unknown, run: () => Promise<void>): Promise<void> {
  const original = window.Worker;
  (window as unknown as { Worker: unknown }).Worker = replacement;
  try {
    await run();
  } finally {
    window.Worker = original;
  }
}

async function expectExactMp3(): Promise<void> {
  const bytes = await fixture('mp3-cbr128.mp3');
  const run = await decodeChunks(chunked(bytes, 4096), 'audio/mpeg', 1e9, 'mpg123');
  expect(run.errors).to.deep.equal([]);
  expect(run.channels[0]!.length).to.equal(132300);
  const reference = await referenceDecode(bytes, 44100);
  const { lag, correlation } = alignedCorrelation(run.channels[0]!, reference[0]!);
  expect(lag).to.equal(0);
  expect(correlation).to.be.at.least(0.999);
}

describe('MP3 without the mpg123 worker', () => {
  it('the Worker constructor throws: WebCodecs decodes instead', async () => {
    class Refused {
      constructor() {
        throw new DOMException('blocked by CSP', 'SecurityError');
      }
    }
    await withWorker(Refused, expectExactMp3);
  });

  it('the worker fails to load its script: WebCodecs decodes instead, from the first frame', async () => {
    class Unloadable {
      onmessage: ((event: MessageEvent) => void) | null = null;
      onerror: ((event: { message: string; preventDefault(): void }) => void) | null = null;
      constructor() {
        setTimeout(() => this.onerror?.({ message: 'importScripts failed', preventDefault() {} }), 20);
      }
      postMessage(): void {}
      terminate(): void {}
    }
    await withWorker(Unloadable, expectExactMp3);
  });
});
