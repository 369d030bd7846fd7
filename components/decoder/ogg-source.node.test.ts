/** The Ogg page reader (ogg-source.ts) against codec-parser (which it replaces for Ogg), on real encoder output, cut anywhere, and damaged. */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { useEncoderVariants } from '../test/variant-bytes.js';
import { CodecParserReference } from './codec-parser-reference.js';
import type { FrameSink } from './frame-source.js';
import { collectFrames, type CollectedFrames } from './frame-source-test-support.js';
import { oggCrc } from './ogg-crc.js';
import { OggSource, vorbisModes } from './ogg-source.js';

const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(`../test/fixtures/${name}`, import.meta.url)));

type Parsed = CollectedFrames;
const parse = collectFrames;

const ours = (sink: FrameSink) => new OggSource(sink);
const reference = (sink: FrameSink) => new CodecParserReference('ogg', sink);

function sameFrames(actual: Parsed, expected: Parsed, label: string): void {
  assert.deepEqual(actual.unsupported, expected.unsupported, `${label}: unsupported`);
  assert.deepEqual(actual.track, expected.track, `${label}: track`);
  assert.deepEqual(actual.totals, expected.totals, `${label}: totals`);
  assert.equal(actual.frames.length, expected.frames.length, `${label}: frame count`);
  actual.frames.forEach((frame, i) => {
    const want = expected.frames[i]!;
    assert.equal(frame.samples, want.samples, `${label}: samples of frame ${i}`);
    assert.equal(frame.fileOffset, want.fileOffset, `${label}: offset of frame ${i}`);
    assert.deepEqual(frame.data, want.data, `${label}: bytes of frame ${i}`);
  });
}

/** Start offsets of the Ogg pages (capture pattern + a plausible header) in a clean file. */
function pageStarts(bytes: Uint8Array): number[] {
  const starts: number[] = [];
  for (let at = 0; at + 27 <= bytes.length; ) {
    starts.push(at);
    let body = 0;
    for (let i = 0; i < bytes[at + 26]!; i++) body += bytes[at + 27 + i]!;
    at += 27 + bytes[at + 26]! + body;
  }
  return starts;
}

const FIXTURES = ['ogg-opus.opus', 'ogg-vorbis.ogg', 'ogg-vorbis-transients.ogg'];
const VARIANTS = [
  'opus-mono.opus', 'opus-5.1.opus', 'opus-from-44k.opus', 'opus-2.5ms-frames.opus', 'opus-60ms-frames.opus', 'opus-120ms-frames.opus',
  'opus-voip-16k.opus', 'opus-picture-comment.opus', 'vorbis-mono.ogg', 'vorbis-48k-q0.ogg', 'vorbis-q10.ogg', 'vorbis-8k.ogg', 'vorbis-5.1.ogg',
  'vorbis-picture-comment.ogg', 'tiny-opus.opus', 'tiny-vorbis.ogg', 'chained-opus.opus', 'chained-vorbis-other-setup.ogg', 'ogg-flac.oga',
];

const variants = useEncoderVariants(VARIANTS);

const bytesOf = (name: string): Uint8Array => (FIXTURES.includes(name) ? fixture(name) : variants.bytesOf(name));

describe('OggSource: the frames codec-parser gave, from any chunking', () => {
  for (const name of [...FIXTURES, ...VARIANTS]) {
    it(`${name}: whole, 64 KiB, 997-byte and 7-byte pushes, and cuts 1-3 bytes into every page`, () => {
      const bytes = bytesOf(name);
      const expected = parse(reference, bytes, bytes.length);
      if (!name.endsWith('.oga')) assert.ok(expected.frames.length > 0, 'the reference found frames');
      const cuts = pageStarts(bytes).map((at, i) => at + 1 + (i % 3));
      for (const chunk of [bytes.length, 65536, 997, 7, cuts]) {
        const label = `${name} ${typeof chunk === 'number' ? chunk : 'page cuts'}`;
        const actual = parse(ours, bytes, chunk);
        sameFrames(actual, expected, label);
        assert.deepEqual(actual.skipped, [], `${label}: skipped`);
      }
    });
  }

  it('one byte per push (a one-page Opus file and a one-page Vorbis file) gives the same frames, buffering no more than a page', () => {
    for (const name of ['tiny-opus.opus', 'tiny-vorbis.ogg']) {
      const bytes = bytesOf(name);
      const actual = parse(ours, bytes, 1);
      sameFrames(actual, parse(reference, bytes, bytes.length), name);
      assert.ok(actual.maxBuffered <= 65307, `${name}: buffered ${actual.maxBuffered}`);
    }
  });

  it('a 5.1 Opus stream (mapping family 1) is described by its whole OpusHead, channel mapping included', () => {
    const track = parse(ours, bytesOf('opus-5.1.opus'), 4096).track!;
    assert.equal(track.channelCount, 6);
    const config = track.decoding.kind === 'webcodecs' ? track.decoding.config : undefined;
    assert.equal((config?.description as Uint8Array).length, 21 + 6);
  });
});

describe('OggSource: damage', () => {
  const bytes = fixture('ogg-vorbis.ogg');
  const clean = parse(ours, bytes, bytes.length);
  const starts = pageStarts(bytes);

  it('garbage between two pages: one skip of exactly the garbage, every frame kept', () => {
    const k = Math.floor(starts.length / 2);
    const garbage = new Uint8Array(3000).map((_, i) => (i * 37 + 11) & 0xff);
    garbage.set([0x4f, 0x67, 0x67, 0x53], 100); // a false capture pattern inside it
    const damaged = new Uint8Array([...bytes.subarray(0, starts[k]), ...garbage, ...bytes.subarray(starts[k])]);
    for (const chunk of [damaged.length, 997, 13]) {
      const run = parse(ours, damaged, chunk);
      assert.deepEqual(run.skipped, [3000], `chunk ${chunk}`);
      assert.equal(run.frames.length, clean.frames.length, `chunk ${chunk}`);
      assert.deepEqual(run.frames.map((f) => f.samples), clean.frames.map((f) => f.samples));
      assert.deepEqual(run.unsupported, []);
    }
  });

  it('a flipped byte inside a page: its CRC fails, that page is skipped and counted, its packets (and the one it finished) are lost, the rest kept', () => {
    const k = Math.floor(starts.length / 2);
    const damaged = bytes.slice();
    damaged[starts[k]! + 200]! ^= 0x5a;
    const pageLength = starts[k + 1]! - starts[k]!;
    for (const chunk of [damaged.length, 997, 13]) {
      const run = parse(ours, damaged, chunk);
      assert.deepEqual(run.skipped, [pageLength], `chunk ${chunk}`);
      const lost = clean.frames.filter((f) => f.fileOffset === starts[k]).length;
      assert.ok(lost > 0);
      // Lost: the page's own packets; a packet it started and the next page finishes is dropped too.
      assert.ok(clean.frames.length - run.frames.length >= lost && clean.frames.length - run.frames.length <= lost + 1, `chunk ${chunk}`);
      assert.equal(run.frames.filter((f) => f.fileOffset === starts[k]).length, 0);
      assert.deepEqual(run.totals, clean.totals);
      // Every frame kept is one of the clean stream's, bytes and all.
      const cleanAt = new Map(clean.frames.map((f) => [`${f.fileOffset}:${f.data.length}`, f]));
      for (const f of run.frames) assert.ok(cleanAt.has(`${f.fileOffset}:${f.data.length}`), `frame at ${f.fileOffset}`);
    }
  });

  it('a truncated file: the whole packets of its cut last page are kept, nothing reported as damage, no total', () => {
    const k = starts.length - 2;
    const cut = bytes.subarray(0, starts[k]! + 27 + bytes[starts[k]! + 26]! + 600);
    for (const chunk of [cut.length, 997]) {
      const run = parse(ours, cut, chunk);
      assert.deepEqual(run.skipped, []);
      assert.deepEqual(run.totals, []);
      const before = clean.frames.filter((f) => f.fileOffset < starts[k]!);
      assert.deepEqual(run.frames.slice(0, before.length).map((f) => f.data.length), before.map((f) => f.data.length));
      const onCut = run.frames.slice(before.length);
      assert.ok(onCut.every((f) => f.fileOffset === starts[k]));
      assert.ok(onCut.reduce((n, f) => n + f.data.length, 0) <= 600);
    }
  });

  it('a file whose first page is not a stream start is refused with a clear reason', () => {
    const run = parse(ours, bytes.subarray(starts[3]!), 4096);
    assert.equal(run.frames.length, 0);
    assert.equal(run.unsupported.length, 1);
    assert.match(run.unsupported[0]!, /Ogg .* is not supported/);
  });

  it('bytes that are no Ogg at all after a valid start: nothing emitted beyond what checks, no exception', () => {
    const noise = new Uint8Array(50000).map((_, i) => (i * 7919) & 0xff);
    const run = parse(ours, new Uint8Array([...bytes.subarray(0, starts[4]), ...noise]), 1000);
    assert.equal(run.frames.length, clean.frames.filter((f) => f.fileOffset < starts[4]!).length);
  });
});

/** One Ogg page (all packets whole, each under 255 × 255 bytes), its CRC filled in. */
function oggPage(serial: number, sequence: number, flags: number, granule: number, packets: Uint8Array[]): Uint8Array {
  const lacing = packets.flatMap((p) => [...Array<number>(Math.floor(p.length / 255)).fill(255), p.length % 255]);
  const body = packets.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(27 + lacing.length + body);
  const view = new DataView(out.buffer);
  out.set([0x4f, 0x67, 0x67, 0x53]);
  out[5] = flags;
  view.setBigInt64(6, BigInt(granule), true);
  view.setUint32(14, serial, true);
  view.setUint32(18, sequence, true);
  out[26] = lacing.length;
  out.set(lacing, 27);
  let at = 27 + lacing.length;
  for (const p of packets) out.set(p, at), (at += p.length);
  view.setUint32(22, oggCrc(out), true);
  return out;
}
const ascii = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));
const join = (parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) out.set(p, at), (at += p.length);
  return out;
};

describe('OggSource: multiplexed streams', () => {
  const opus = fixture('ogg-opus.opus');
  const alone = parse(ours, opus, opus.length);
  const starts = pageStarts(opus);
  const pages = starts.map((at, i) => opus.subarray(at, starts[i + 1] ?? opus.length));

  it('a Skeleton and a video stream around the Opus one: the Opus frames, as alone, nothing skipped', () => {
    const skeleton = (seq: number, flags: number, packet: Uint8Array) => oggPage(0x5ce1, seq, flags, 0, [packet]);
    const video = (seq: number, flags: number, packet: Uint8Array) => oggPage(0x71de0, seq, flags, seq * 100, [packet]);
    // All first pages come first (RFC 3533 §4): Skeleton's, the audio's, the video's; then the
    // streams' other pages interleaved.
    const muxed: Uint8Array[] = [skeleton(0, 0x02, join([ascii('fishead\0'), new Uint8Array(56)])), pages[0]!, video(0, 0x02, join([ascii('\x80theora'), new Uint8Array(34)]))];
    muxed.push(skeleton(1, 0, join([ascii('fisbone\0'), new Uint8Array(44)])), skeleton(2, 0x04, new Uint8Array(0)));
    pages.slice(1).forEach((page, i) => {
      muxed.push(page);
      if (i % 3 === 0) muxed.push(video(i + 1, 0, new Uint8Array(700).fill(i & 0xff)));
    });
    const bytes = join(muxed);
    for (const chunk of [bytes.length, 997]) {
      const run = parse(ours, bytes, chunk);
      assert.deepEqual(run.unsupported, []);
      assert.deepEqual(run.skipped, []);
      assert.deepEqual(run.totals, alone.totals);
      assert.deepEqual(run.track, alone.track);
      assert.deepEqual(run.frames.map((f) => f.data), alone.frames.map((f) => f.data));
      assert.deepEqual(run.frames.map((f) => f.samples), alone.frames.map((f) => f.samples));
    }
  });

  it('streams we cannot play only (video): refused, named, on the first page that is no stream start', () => {
    const bytes = join([oggPage(9, 0, 0x02, 0, [join([ascii('\x80theora'), new Uint8Array(34)])]), oggPage(9, 1, 0, 0, [new Uint8Array(500)])]);
    const run = parse(ours, bytes, 100);
    assert.deepEqual(run.unsupported, ['Ogg theora is not supported']);
    assert.equal(run.frames.length, 0);
  });

  it('an OpusHead that is too short, or a mapping family 0 with 3 channels: refused as invalid', () => {
    const head = opus.subarray(starts[0]! + 28, starts[1]!);
    const short = oggPage(1, 0, 0x02, 0, [head.subarray(0, 12)]);
    assert.match(parse(ours, short, 1 << 20).unsupported[0] ?? '', /invalid OpusHead/);
    const three = head.slice();
    three[9] = 3;
    assert.match(parse(ours, oggPage(1, 0, 0x02, 0, [three]), 1 << 20).unsupported[0] ?? '', /invalid OpusHead/);
  });
});

describe('vorbisModes', () => {
  it('reads the two modes (short, long) of libvorbis setup headers', () => {
    const setup = parse(ours, fixture('ogg-vorbis.ogg'), 1 << 20).track!;
    const description = setup.decoding.kind === 'webcodecs' ? (setup.decoding.config.description as Uint8Array) : new Uint8Array(0);
    // The setup header is the last of the three laced packets; its modes are its last bits.
    let at = 1;
    const sizes: number[] = [];
    for (let p = 0; p < 2; p++) {
      let size = 0;
      for (let lace = 255; lace === 255; ) (lace = description[at++]!), (size += lace);
      sizes.push(size);
    }
    assert.deepEqual(vorbisModes(description.subarray(at + sizes[0]! + sizes[1]!)), [0, 1]);
  });

  it('refuses bytes with no mode table', () => {
    assert.equal(vorbisModes(new Uint8Array(200)), undefined);
    assert.equal(vorbisModes(new Uint8Array(200).fill(0xff)), undefined);
  });
});

describe('oggCrc over parts', () => {
  it('continues across calls as over the joined bytes', () => {
    const bytes = fixture('ogg-opus.opus').subarray(0, 5000);
    assert.equal(oggCrc(bytes, 1234, 5000, oggCrc(bytes, 0, 1234)), oggCrc(bytes));
  });
});
