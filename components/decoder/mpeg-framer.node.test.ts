/** MpegFramer cuts the same frames as codec-parser (which it replaces for MP3 and ADTS), damage included. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import CodecParser from 'codec-parser';
import { MpegFramer } from './mpeg-framer.js';

const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(`../test/fixtures/${name}`, import.meta.url)));

interface Cut {
  end: number;
  length: number;
  samples: number;
  sampleRate: number;
  channels: number;
}

type Parser = { parseChunk(b: Uint8Array): Iterable<unknown>; flush(): Iterable<unknown> };

/** Frames (file end offset, length, samples, format) as a parser yields them, fed in `chunk`-byte pushes. */
function cuts(parser: Parser, bytes: Uint8Array, chunk: number): Cut[] {
  const out: Cut[] = [];
  const take = (items: Iterable<unknown>, flushing: boolean) => {
    for (const item of items) {
      const frame = item as { data: Uint8Array; samples: number; header: { sampleRate: number; channels: number } };
      const end = flushing ? -1 : (parser as unknown as { _currentReadPosition: number })._currentReadPosition;
      out.push({ end, length: frame.data.length, samples: frame.samples, sampleRate: frame.header.sampleRate, channels: frame.header.channels });
    }
  };
  for (let at = 0; at < bytes.length; at += chunk) take(parser.parseChunk(bytes.subarray(at, at + chunk)), false);
  take(parser.flush(), true);
  return out;
}

function noise(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed;
  for (let i = 0; i < length; i++) (x = (x * 1103515245 + 12345) >>> 0), (out[i] = x >>> 24);
  return out;
}
function splice(bytes: Uint8Array, at: number, insert: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length + insert.length);
  out.set(bytes.subarray(0, at));
  out.set(insert, at);
  out.set(bytes.subarray(at), at + insert.length);
  return out;
}

const files = ['mp3-cbr128.mp3', 'mp3-vbr-v2.mp3', 'mp3-mpeg2-22k.mp3', 'mp3-mpeg25-8k.mp3', 'mp3-mpeg25-11k.mp3', 'mp3-big-id3.mp3', 'mp3-garbage.mp3', 'mp3-no-xing.mp3', 'mp3-truncated.mp3', 'mp3-loop-8k.mp3'];

describe('MpegFramer', () => {
  for (const name of files) {
    it(`${name}: the frames codec-parser cuts, at every chunking`, () => {
      const bytes = fixture(name);
      const reference = cuts(new CodecParser('audio/mpeg', { enableFrameCRC32: false }) as unknown as Parser, bytes, bytes.length);
      assert.ok(reference.length > 10);
      for (const chunk of [bytes.length, 1, 7, 417, 4096]) {
        const ours = cuts(new MpegFramer(), bytes, chunk);
        assert.deepEqual(ours, reference, `chunk ${chunk}`);
      }
    });
  }

  it('noise spliced in anywhere: the same frames and positions as codec-parser', () => {
    const clean = fixture('mp3-vbr-v2.mp3');
    for (let seed = 1; seed <= 12; seed++) {
      const at = (seed * 7919) % clean.length;
      const bytes = splice(clean, at, noise(200 + seed * 97, seed));
      const reference = cuts(new CodecParser('audio/mpeg', { enableFrameCRC32: false }) as unknown as Parser, bytes, 4096);
      assert.deepEqual(cuts(new MpegFramer(), bytes, 4096), reference, `noise at ${at}`);
    }
  });
});

describe('MpegFramer for AAC in ADTS (against codec-parser: mpeg-framer-adts.node.test.ts)', () => {
  it('reads the header fields: rate, channels, CRC header length, raw data blocks', () => {
    // 44.1 kHz stereo LC, no CRC, 20-byte frame, one raw data block; then the same with CRC
    // (9-byte header), mono 8 kHz and 3 raw data blocks.
    const frame = (bytes: number[], length: number) => {
      const out = new Uint8Array(length);
      out.set(bytes);
      out[3] = (out[3]! & ~0x03) | ((length >> 11) & 0x03);
      out[4] = (length >> 3) & 0xff;
      out[5] = ((length & 0x07) << 5) | (out[5]! & 0x1f);
      return out;
    };
    const a = frame([0xff, 0xf1, 0x50, 0x80, 0, 0x1f, 0xfc], 20);
    const b = frame([0xff, 0xf0, 0x6c, 0x40, 0, 0x1f, 0xff], 30);
    const bytes = new Uint8Array([...a, ...b, ...a]);
    const framer = new MpegFramer('aac');
    const got = [...framer.parseChunk(bytes), ...framer.flush()].map((f) => [f.data.length, f.samples, f.header.sampleRate, f.header.channels]);
    assert.deepEqual(got, [
      [20, 1024, 44100, 2],
      [30, 4096, 8000, 1],
      [20, 1024, 44100, 2],
    ]);
  });
});
