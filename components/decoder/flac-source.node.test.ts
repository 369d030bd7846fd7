/** The native FLAC reader (flac-source.ts) against codec-parser, on clean and damaged streams. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { CodecParserReference } from './codec-parser-reference.js';
import { FlacSource } from './flac-source.js';
import type { FrameSink, FrameSource } from './frame-source.js';
import { collectFrames, type CollectedFrames } from './frame-source-test-support.js';

const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(`../test/fixtures/${name}`, import.meta.url)));

function parse(make: (sink: FrameSink) => FrameSource, bytes: Uint8Array, chunk = bytes.length): CollectedFrames {
  const out = collectFrames(make, bytes, chunk);
  assert.deepEqual(out.totals, [], 'FLAC gives its length in STREAMINFO');
  return out;
}
const flac = (sink: FrameSink) => new FlacSource(sink);
const codecParser = (sink: FrameSink) => new CodecParserReference('flac', sink);

/** Deterministic noise (no real FLAC frame hides in it by chance with this seed). */
function noise(length: number, seed = 12345): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed;
  for (let i = 0; i < length; i++) (x = (x * 1103515245 + 12345) >>> 0), (out[i] = x >>> 24);
  return out;
}
function splice(bytes: Uint8Array, at: number, insert: Uint8Array, remove = 0): Uint8Array {
  const out = new Uint8Array(bytes.length + insert.length - remove);
  out.set(bytes.subarray(0, at));
  out.set(insert, at);
  out.set(bytes.subarray(at + remove), at + insert.length);
  return out;
}

const clean = fixture('flac.flac');
const reference = parse(codecParser, clean);

describe('FlacSource', () => {
  it('reads the same frames, offsets, lengths and track as codec-parser, whatever the chunking', () => {
    assert.ok(reference.frames.length > 5);
    for (const chunk of [clean.length, 1, 7, 999, 4096, 65536]) {
      const ours = parse(flac, clean, chunk);
      assert.deepEqual(ours.frames, reference.frames, `chunk ${chunk}`);
      assert.deepEqual(ours.track, reference.track, `chunk ${chunk}`);
      assert.deepEqual(ours.skipped, []);
      assert.deepEqual(ours.unsupported, []);
    }
  });

  it('garbage between two frames: one skip of the garbage and the frame before it, the rest intact', () => {
    // A FLAC frame has no length field: the one before the garbage cannot be told complete (its
    // CRC-16 is checked up to the next header, and the garbage is in between). codec-parser lost
    // every frame after the garbage here.
    const k = 4;
    const bytes = splice(clean, reference.frames[k]!.fileOffset, noise(3000));
    for (const chunk of [bytes.length, 7, 4096]) {
      const ours = parse(flac, bytes, chunk);
      assert.deepEqual(ours.skipped, [reference.frames[k - 1]!.data.length + 3000], `chunk ${chunk}`);
      assert.deepEqual(ours.frames.map((f) => f.data), reference.frames.filter((_, i) => i !== k - 1).map((f) => f.data));
    }
  });

  it('garbage inside a frame: that frame is dropped with it (its CRC-16 fails), the rest intact', () => {
    const k = 3;
    const frame = reference.frames[k]!;
    const bytes = splice(clean, frame.fileOffset + 100, noise(2500, 99));
    for (const chunk of [bytes.length, 7, 4096]) {
      const ours = parse(flac, bytes, chunk);
      assert.deepEqual(ours.skipped, [frame.data.length + 2500], `chunk ${chunk}`);
      assert.deepEqual(ours.frames.map((f) => f.data), reference.frames.filter((_, i) => i !== k).map((f) => f.data));
      assert.deepEqual(ours.frames.at(-1)!.fileOffset, reference.frames.at(-1)!.fileOffset + 2500);
    }
  });

  it('one flipped byte in a frame: only that frame is lost', () => {
    const k = 2;
    const frame = reference.frames[k]!;
    const bytes = clean.slice();
    bytes[frame.fileOffset + 200]! ^= 0x5a;
    const ours = parse(flac, bytes, 999);
    assert.deepEqual(ours.skipped, [frame.data.length]);
    assert.equal(ours.frames.length, reference.frames.length - 1);
  });

  it('a 200 KB metadata block (cover art) is dropped as it arrives, not buffered', () => {
    // STREAMINFO is the fixture's first block: insert a PICTURE-typed block right after it.
    const picture = new Uint8Array(4 + 200_000);
    picture[0] = 6;
    picture.set([(200_000 >> 16) & 0xff, (200_000 >> 8) & 0xff, 200_000 & 0xff], 1);
    picture.set(noise(200_000, 7), 4);
    const lastAfter = (clean[4]! & 0x80) !== 0;
    const bytes = splice(clean, 4 + 4 + 34, picture);
    bytes[4]! &= 0x7f; // STREAMINFO is no longer last…
    if (lastAfter) bytes[4 + 38]! |= 0x80; // …the picture is
    const ours = parse(flac, bytes, 1024);
    assert.deepEqual(ours.frames.map((f) => f.data), reference.frames.map((f) => f.data));
    assert.deepEqual(ours.skipped, []);
    assert.ok(ours.maxBuffered < 64 * 1024, `held ${ours.maxBuffered} bytes`);
  });

  it('a truncated last frame is dropped (its CRC-16 fails), as codec-parser does; not reported as damage', () => {
    const k = 10;
    const bytes = clean.subarray(0, reference.frames[k]!.fileOffset + 300);
    for (const chunk of [bytes.length, 7]) {
      const ours = parse(flac, bytes, chunk);
      assert.deepEqual(ours.frames, reference.frames.slice(0, k));
      assert.deepEqual(ours.frames, parse(codecParser, bytes).frames);
      assert.deepEqual(ours.skipped, []);
    }
  });

  it('refuses a stream without STREAMINFO with a clear reason', () => {
    const bytes = clean.slice();
    bytes[4] = (bytes[4]! & 0x80) | 4; // first block claims to be VORBIS_COMMENT
    assert.deepEqual(parse(flac, bytes).unsupported, ['FLAC stream without STREAMINFO']);
    assert.equal(parse(flac, bytes).frames.length, 0);
  });
});
