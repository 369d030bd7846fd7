/** MpegFramer cuts the same frames as codec-parser (which it replaces for MP3 and AAC/ADTS), damage included. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import CodecParser from 'codec-parser';
import { useEncoderVariants } from '../test/variant-bytes.js';
import { MpegFramer } from './mpeg-framer.js';

const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(`../test/fixtures/${name}`, import.meta.url)));

interface Cut {
  end: number;
  length: number;
  bytes: string;
  samples: number;
  sampleRate: number;
  channels: number;
}

type Parser = { parseChunk(b: Uint8Array): Iterable<unknown>; flush(): Iterable<unknown> };

/**
 * Frames (file end offset, length, samples, format) as a parser cuts them, fed in `chunk`-byte
 * pushes: codec-parser through its generators, MpegFramer through its callback.
 */
function cuts(parser: Parser | MpegFramer, bytes: Uint8Array, chunk: number): Cut[] {
  const out: Cut[] = [];
  const add = (d: Uint8Array, samples: number, sampleRate: number, channels: number, end: number) =>
    out.push({ end, length: d.length, bytes: `${d[0]},${d[7]},${d[d.length - 1]}`, samples, sampleRate, channels });
  if (parser instanceof MpegFramer) {
    for (let at = 0; at < bytes.length; at += chunk) parser.push(bytes.subarray(at, at + chunk), (d, n, rate, ch) => add(d, n, rate, ch, parser._currentReadPosition));
    parser.end((d, n, rate, ch) => add(d, n, rate, ch, -1));
    return out;
  }
  const take = (items: Iterable<unknown>, flushing: boolean) => {
    for (const item of items) {
      const frame = item as { data: Uint8Array; samples: number; header: { sampleRate: number; channels: number } };
      const end = flushing ? -1 : (parser as unknown as { _currentReadPosition: number })._currentReadPosition;
      add(frame.data, frame.samples, frame.header.sampleRate, frame.header.channels, end);
    }
  };
  for (let at = 0; at < bytes.length; at += chunk) take(parser.parseChunk(bytes.subarray(at, at + chunk)), false);
  take(parser.flush(), true);
  return out;
}

const adtsReference = (bytes: Uint8Array, chunk = bytes.length) => cuts(new CodecParser('audio/aac', { enableFrameCRC32: false }) as unknown as Parser, bytes, chunk);

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

describe('MpegFramer for AAC in ADTS: header fields', () => {
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
    const got: number[][] = [];
    const collect = (data: Uint8Array, samples: number, sampleRate: number, channels: number) => got.push([data.length, samples, sampleRate, channels]);
    framer.push(bytes, collect);
    framer.end(collect);
    assert.deepEqual(got, [
      [20, 1024, 44100, 2],
      [30, 4096, 8000, 1],
      [20, 1024, 44100, 2],
    ]);
  });
});

const VARIANTS = ['aac-adts-mono-44k.aac', 'aac-adts-8k.aac', 'aac-adts-48k.aac', 'aac-adts-96k.aac', 'aac-adts-5.1.aac'];
const variants = useEncoderVariants(VARIANTS);

describe("MpegFramer('aac'): ADTS", () => {
  for (const name of ['aac-adts.aac', ...VARIANTS]) {
    it(`${name}: the frames codec-parser cuts, at every chunking`, () => {
      const bytes = name === 'aac-adts.aac' ? fixture(name) : variants.bytesOf(name);
      const expected = adtsReference(bytes);
      assert.ok(expected.length > 10);
      for (const chunk of [bytes.length, 1, 7, 417, 65536]) assert.deepEqual(cuts(new MpegFramer('aac'), bytes, chunk), expected, `chunk ${chunk}`);
    });
  }

  it('noise spliced in anywhere: the same frames and positions as codec-parser', () => {
    const clean = fixture('aac-adts.aac');
    for (let seed = 1; seed <= 16; seed++) {
      const at = (seed * 7919) % clean.length;
      const bytes = splice(clean, at, noise(200 + seed * 97, seed));
      for (const chunk of [4096, 333]) assert.deepEqual(cuts(new MpegFramer('aac'), bytes, chunk), adtsReference(bytes, chunk), `noise at ${at}, chunk ${chunk}`);
    }
  });

  it('a truncated end: every whole frame, then the cut one as it is (codec-parser also dropped a whole last frame when 1-6 bytes of a header followed it)', () => {
    const clean = fixture('aac-adts.aac');
    const whole = cuts(new MpegFramer('aac'), clean, 4096);
    for (let cut = 1; cut < 700; cut += 13) {
      const truncated = clean.subarray(0, clean.length - cut);
      const ours = cuts(new MpegFramer('aac'), truncated, 4096);
      const last = ours.length - 1;
      assert.deepEqual(ours.slice(0, last).map((f) => f.length), whole.slice(0, last).map((f) => f.length), `cut ${cut}`);
      assert.ok(ours[last]!.length <= whole[last]!.length && ours[last]!.bytes.split(',')[0] === '255', `cut ${cut}: the last frame`);
      const ended = ours.reduce((n, f) => n + f.length, 0);
      assert.ok(truncated.length - ended < 7 && truncated.length - ended >= 0, `cut ${cut}: what is left over is less than a header`);
      const theirs = adtsReference(truncated, 4096);
      assert.deepEqual(theirs.map((f) => f.length), ours.slice(0, theirs.length).map((f) => f.length), `cut ${cut}: codec-parser's frames are ours`);
    }
  });

  it('0xFF runs and false headers in the noise are skipped, the frames after them kept', () => {
    const clean = fixture('aac-adts.aac');
    const fake = new Uint8Array(600).fill(0xff);
    fake.set([0xff, 0xf1, 0x50, 0x80, 0x02, 0x1f, 0xfc], 300); // a header whose frame is not followed by another
    const bytes = splice(clean, 2000, fake);
    const ours = cuts(new MpegFramer('aac'), bytes, 1000);
    assert.deepEqual(ours, adtsReference(bytes, 1000));
    assert.ok(ours.length >= adtsReference(clean).length - 1);
  });
});
