/** The Ogg Vorbis re-muxer (ogg-vorbis-segment.ts) against real encoder output and edge cases. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { EncodedFrame, TrackInfo } from './frame-source.js';
import { OggSource } from './ogg-source.js';
import { oggCrc, oggVorbisFile, readVorbisHeaders, type VorbisHeaders } from './ogg-vorbis-segment.js';

const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(`../test/fixtures/${name}`, import.meta.url)));

interface Page {
  flags: number;
  granule: bigint;
  sequence: number;
  crc: number;
  lacing: number[];
  body: Uint8Array;
  raw: Uint8Array;
}

/** A plain reader of Ogg pages (RFC 3533 §6), independent of the code under test. */
function readPages(bytes: Uint8Array): Page[] {
  const pages: Page[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 0; at < bytes.length; ) {
    assert.equal(String.fromCharCode(...bytes.subarray(at, at + 4)), 'OggS', `page at ${at}`);
    const count = bytes[at + 26]!;
    const lacing = [...bytes.subarray(at + 27, at + 27 + count)];
    const length = 27 + count + lacing.reduce((n, l) => n + l, 0);
    pages.push({
      flags: bytes[at + 5]!,
      granule: view.getBigInt64(at + 6, true),
      sequence: view.getUint32(at + 18, true),
      crc: view.getUint32(at + 22, true),
      lacing,
      body: bytes.subarray(at + 27 + count, at + length),
      raw: bytes.subarray(at, at + length),
    });
    at += length;
  }
  return pages;
}

/** The page's checksum recomputed with the CRC field zeroed. */
function recomputedCrc(page: Page): number {
  const copy = page.raw.slice();
  copy.fill(0, 22, 26);
  return oggCrc(copy);
}

/** Packets reassembled from pages by their lacing values. */
function packetsOf(pages: Page[]): Uint8Array[] {
  const packets: Uint8Array[] = [];
  let current: number[] = [];
  for (const page of pages) {
    let at = 0;
    for (const lace of page.lacing) {
      current.push(...page.body.subarray(at, at + lace));
      at += lace;
      if (lace < 255) packets.push(Uint8Array.from(current)), (current = []);
    }
  }
  assert.equal(current.length, 0, 'a packet is left unfinished');
  return packets;
}

function parseOgg(bytes: Uint8Array): { track: TrackInfo; frames: EncodedFrame[]; totals: number[] } {
  const frames: EncodedFrame[] = [];
  const totals: number[] = [];
  let track: TrackInfo | undefined;
  const source = new OggSource({
    track: (t) => (track = t),
    frame: (f) => frames.push({ ...f, data: f.data.slice() }),
    totalFrames: (n) => totals.push(n),
    skipped: () => assert.fail('skipped bytes'),
    unsupported: (reason) => assert.fail(reason),
  });
  source.push(bytes);
  source.end();
  return { track: track!, frames, totals };
}

function headersOf(track: TrackInfo): VorbisHeaders {
  assert.equal(track.decoding.kind, 'webcodecs');
  const description = track.decoding.kind === 'webcodecs' ? track.decoding.config.description : undefined;
  assert.ok(description instanceof Uint8Array);
  const headers = readVorbisHeaders(description);
  assert.ok(headers);
  return headers;
}

describe('oggCrc', () => {
  it('reproduces the checksum of every page libvorbis/ffmpeg wrote', () => {
    const pages = readPages(fixture('ogg-vorbis.ogg'));
    assert.ok(pages.length >= 4);
    for (const page of pages) assert.equal(recomputedCrc(page), page.crc, `page ${page.sequence}`);
  });

  it('is not zlib CRC-32 (reflected, inverted): "123456789" gives 0x89a1897f', () => {
    // The check value of CRC-32 with polynomial 0x04c11db7, init 0, no reflection, no xor out.
    assert.equal(oggCrc(new TextEncoder().encode('123456789')), 0x89a1897f);
  });
});

describe('readVorbisHeaders', () => {
  it('splits the description the Ogg reader builds into identification and setup', () => {
    const { track } = parseOgg(fixture('ogg-vorbis.ogg'));
    const headers = headersOf(track);
    assert.equal(headers.identification.length, 30);
    assert.equal(headers.identification[0], 1);
    assert.equal(headers.setup[0], 5);
  });

  it('refuses what is not three Vorbis headers', () => {
    const { track } = parseOgg(fixture('ogg-vorbis.ogg'));
    const description = (track.decoding as { config: AudioDecoderConfig }).config.description as Uint8Array;
    assert.equal(readVorbisHeaders(new Uint8Array(0)), undefined);
    assert.equal(readVorbisHeaders(Uint8Array.of(1, 30)), undefined); // two packets
    assert.equal(readVorbisHeaders(description.subarray(0, 2)), undefined); // cut inside the sizes
    const notSetup = description.slice();
    notSetup[notSetup.length - (description.length - 3 - 30 - description[2]!)] = 4;
    assert.equal(readVorbisHeaders(notSetup), undefined);
    const opusLike = description.slice();
    opusLike[4] = 0x4f; // "Ovorbis" is not "vorbis"
    assert.equal(readVorbisHeaders(opusLike), undefined);
  });
});

describe('oggVorbisFile', () => {
  it('round-trips the fixture: same packets, same samples, valid pages laid out as Vorbis I A.2 asks', () => {
    const { track, frames, totals } = parseOgg(fixture('ogg-vorbis.ogg'));
    const samples = frames.map((f) => f.samples);
    const file = oggVorbisFile(headersOf(track), frames.map((f) => f.data), samples);
    const pages = readPages(file);
    for (const page of pages) assert.equal(recomputedCrc(page), page.crc, `page ${page.sequence}`);
    assert.deepEqual(pages.map((p) => p.sequence), pages.map((_, i) => i));
    // Identification header alone on a 58-byte first page marked beginning-of-stream.
    assert.equal(pages[0]!.raw.length, 58);
    assert.equal(pages[0]!.flags, 0x02);
    assert.equal(pages[0]!.granule, 0n);
    // Comment and setup headers end their page; granule 0.
    assert.equal(pages[1]!.flags, 0);
    assert.equal(pages[1]!.granule, 0n);
    assert.equal(pages[1]!.lacing.filter((l) => l < 255).length, 2);
    // The first audio packet alone, granule 0 (it returns no samples).
    assert.equal(pages[2]!.lacing.filter((l) => l < 255).length, 1);
    assert.equal(pages[2]!.granule, 0n);
    const last = pages[pages.length - 1]!;
    assert.equal(last.flags & 0x04, 0x04);
    assert.equal(last.granule, BigInt(samples.reduce((a, b) => a + b, 0)));
    assert.equal(pages.filter((p) => p.flags & 0x04).length, 1);

    const again = parseOgg(file);
    assert.deepEqual(again.frames.map((f) => f.samples), samples);
    assert.deepEqual(again.frames.map((f) => [...f.data]), frames.map((f) => [...f.data]));
    assert.deepEqual(again.totals, totals);
  });

  it('laces packets of 254, 255, 510, 65025 and 70000 bytes across pages and back', () => {
    const { track } = parseOgg(fixture('ogg-vorbis.ogg'));
    const sizes = [254, 255, 510, 65025, 70000, 3];
    const packets = sizes.map((size, n) => Uint8Array.from({ length: size }, (_, i) => (i * 7 + n) & 0xfe));
    const samples = sizes.map((_, i) => (i === 0 ? 0 : 1024));
    const pages = readPages(oggVorbisFile(headersOf(track), packets, samples));
    for (const page of pages) {
      assert.equal(recomputedCrc(page), page.crc, `page ${page.sequence}`);
      assert.ok(page.lacing.length <= 255);
    }
    const audio = pages.slice(2);
    assert.deepEqual(packetsOf(audio), packets);
    // A page on which no packet ends has granule -1; one that starts inside a packet is marked continued.
    for (const page of audio) {
      const ends = page.lacing.some((l) => l < 255);
      if (!ends) assert.equal(page.granule, -1n);
    }
    for (let i = 1; i < audio.length; i++) {
      const previousEndsOpen = audio[i - 1]!.lacing[audio[i - 1]!.lacing.length - 1] === 255;
      assert.equal((audio[i]!.flags & 0x01) === 0x01, previousEndsOpen, `page ${audio[i]!.sequence}`);
    }
    // Granules: the running sum at the last packet completed on each page.
    let position = 0;
    let packet = 0;
    for (const page of audio) {
      for (const lace of page.lacing) if (lace < 255) position += samples[packet++]!;
      if (page.lacing.some((l) => l < 255)) assert.equal(page.granule, BigInt(position));
    }
  });

  it('spreads a setup header longer than one page over several', () => {
    const { track } = parseOgg(fixture('ogg-vorbis.ogg'));
    const headers = headersOf(track);
    const setup = new Uint8Array(80000);
    setup.set(headers.setup);
    const pages = readPages(oggVorbisFile({ identification: headers.identification, setup }, [Uint8Array.of(0, 1), Uint8Array.of(0, 2)], [0, 128]));
    // The pages up to the one on which the second packet (setup) ends.
    let ended = 0;
    const headerPages: Page[] = [];
    for (const page of pages.slice(1)) {
      if (ended >= 2) break;
      headerPages.push(page);
      ended += page.lacing.filter((l) => l < 255).length;
    }
    assert.ok(headerPages.length >= 2);
    assert.equal(ended, 2, 'the setup header finishes its page');
    for (const page of headerPages) assert.equal(recomputedCrc(page), page.crc);
    const [comments, rebuilt] = packetsOf(headerPages);
    assert.equal(comments![0], 3);
    assert.deepEqual(rebuilt, setup);
  });
});
