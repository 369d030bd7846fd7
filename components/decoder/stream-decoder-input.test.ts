/** Any chunking gives the same PCM; damage, truncation and non-audio are handled as promised. */
import { expect } from '@open-wc/testing';
import { alignedCorrelation, chunked, decodeChunks, fixture, manifest, referenceDecode } from './decoder-test-support.js';
import CodecParser from 'codec-parser';

function sameSamples(a: Float32Array[], b: Float32Array[]): void {
  expect(a.length).to.equal(b.length);
  for (let c = 0; c < a.length; c++) {
    expect(a[c]!.length, `channel ${c} length`).to.equal(b[c]!.length);
    for (let i = 0; i < a[c]!.length; i++) if (a[c]![i] !== b[c]![i]) expect.fail(`channel ${c} differs at ${i}`);
  }
}

/** File offsets where each codec frame starts (codec-parser over the whole file). */
function frameOffsets(bytes: Uint8Array, mime: 'audio/mpeg' | 'audio/aac' | 'audio/flac' | 'audio/ogg'): number[] {
  const parser = new CodecParser(mime, { enableFrameCRC32: false });
  const offsets: number[] = [];
  for (const frame of parser.parseChunk(bytes) as unknown as Iterable<ReturnType<typeof parser.parseAll>[number]>) {
    const end = (parser as unknown as { _currentReadPosition: number })._currentReadPosition;
    const length = 'rawData' in frame ? (frame as unknown as { rawData: Uint8Array }).rawData.length : frame.data.length;
    offsets.push(end - length);
  }
  return offsets;
}

describe('StreamDecoder: chunking never changes the output', () => {
  const cases: [string, 'audio/mpeg' | 'audio/aac' | 'audio/flac' | 'audio/ogg' | undefined][] = [
    ['mp3-vbr-v2.mp3', 'audio/mpeg'],
    ['mp3-big-id3.mp3', 'audio/mpeg'],
    ['aac-adts.aac', 'audio/aac'],
    ['flac.flac', 'audio/flac'],
    ['ogg-opus.opus', 'audio/ogg'],
    ['ogg-vorbis.ogg', 'audio/ogg'],
    ['m4a-aac.m4a', undefined],
    ['wav-s24.wav', undefined],
  ];
  for (const [name, mime] of cases) {
    it(`${name}: cut 1, 2 and 3 bytes into every frame header, and 7-byte chunks, equal one whole push`, async () => {
      const entry = (await manifest())[name]!;
      const bytes = await fixture(name);
      const whole = await decodeChunks([bytes], entry.mimeType);
      if (entry.exact) expect(whole.channels[0]!.length).to.equal(entry.sourceFrames);
      const cuts = mime ? frameOffsets(bytes, mime).flatMap((o, i) => [o + 1 + (i % 3)]) : [5, 11, 12, 13, 36, 44, 45, 100];
      const split = await decodeChunks(chunked(bytes, cuts), entry.mimeType);
      sameSamples(split.channels, whole.channels);
      const tiny = await decodeChunks(chunked(bytes, 7), entry.mimeType);
      sameSamples(tiny.channels, whole.channels);
      expect(split.errors.length + tiny.errors.length).to.equal(0);
    });
  }

  it('one byte per push (MPEG-2.5 8 kHz, with its LAME tag)', async () => {
    const bytes = await fixture('mp3-mpeg25-8k.mp3');
    const whole = await decodeChunks([bytes], 'audio/mpeg');
    const bytewise = await decodeChunks(chunked(bytes, 1), 'audio/mpeg');
    expect(bytewise.channels[0]!.length).to.equal(16000);
    sameSamples(bytewise.channels, whole.channels);
  });

  it('an ID3v2 tag of 106 KB arriving 1 KB at a time: nothing until the tag is past, then exact audio', async () => {
    const bytes = await fixture('mp3-big-id3.mp3');
    expect(String.fromCharCode(...bytes.subarray(0, 3))).to.equal('ID3');
    const tagLength = 10 + ((bytes[6]! << 21) | (bytes[7]! << 14) | (bytes[8]! << 7) | bytes[9]!);
    expect(tagLength).to.be.above(100_000);
    const run = await decodeChunks(chunked(bytes, 1024), 'audio/mpeg');
    expect(run.skipped).to.deep.equal([]); // the tag is not damage
    expect(run.channels[0]!.length).to.equal(44100);
    expect(run.decoder.seekPoints[0]!.byteOffset).to.be.at.least(tagLength);
  });
});

describe('StreamDecoder: damage, truncation, wrong input', () => {
  it('garbage injected mid-stream: one counted discontinuity, the rest still decodes and matches', async () => {
    const bytes = await fixture('mp3-garbage.mp3');
    const clean = await fixture('mp3-cbr128.mp3');
    const discontinuities: number[] = [];
    const run = await decodeChunks(chunked(bytes, 4096), 'audio/mpeg');
    discontinuities.push(...run.skipped);
    expect(run.errors).to.deep.equal([]);
    expect(discontinuities.length).to.equal(1);
    expect(run.decoder.discontinuities).to.equal(1);
    // 2000 bytes of noise plus the frame it cut: more than the noise, less than noise + 2 frames.
    expect(discontinuities[0]).to.be.within(2000, 2000 + 2 * 418);
    // One frame lost: the timeline is a frame shorter, and everything after the damage is the file's audio.
    const reference = await referenceDecode(clean, 44100);
    const length = run.channels[0]!.length;
    // (the decoded stream had 227 samples of padding beyond the real end to spare)
    expect(length).to.be.within(132300 - 2 * 1152, 132300 - 1152 + 529);
    // After the damage (byte 20000 ≈ frame 48 ≈ 1.25 s) the audio is the file's, earlier by the lost frame(s).
    const after = run.channels[0]!.subarray(66150, 120000);
    const { lag, correlation } = alignedCorrelation(after, reference[0]!.subarray(66150, 125000), 3000);
    expect(correlation).to.be.at.least(0.999);
    expect([1152, 2304]).to.include(lag);
  });

  it('a truncated MP3 plays what it contains and end() resolves normally', async () => {
    const bytes = await fixture('mp3-truncated.mp3');
    const run = await decodeChunks(chunked(bytes, 4096), 'audio/mpeg');
    expect(run.errors).to.deep.equal([]);
    expect(run.info?.duration).to.be.closeTo(3, 1e-9); // the header still says 3 s
    const frames = Math.floor((30001 - 418) / 418); // whole frames after the info frame
    expect(run.channels[0]!.length).to.be.within(frames * 1152 - 1105 - 1152, frames * 1152);
    const reference = await referenceDecode(await fixture('mp3-cbr128.mp3'), 44100);
    const head = run.channels[0]!.subarray(0, 44100);
    expect(alignedCorrelation(head, reference[0]!.subarray(0, 44100), 16).correlation).to.be.at.least(0.999);
  });

  for (const [name, bytes] of [
    ['a text file named .mp3', undefined],
    ['a PNG', Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52])],
    ['an empty file', new Uint8Array(0)],
    ['five bytes', Uint8Array.from([1, 2, 3, 4, 5])],
  ] as const) {
    it(`${name}: UNSUPPORTED_FORMAT, fatal, at once`, async () => {
      const data = bytes ?? (await fixture('not-audio.mp3'));
      const run = await decodeChunks(data.length ? [data] : [], 'audio/mpeg');
      expect(run.errors.map((e) => [e.code, e.fatal])).to.deep.equal([['UNSUPPORTED_FORMAT', true]]);
      expect(run.channels.length).to.equal(0);
    });
  }

  it('a non-audio file is refused on its first chunk, before end()', async () => {
    const errors: string[] = [];
    const { StreamDecoder } = await import('./stream-decoder.js');
    const decoder = new StreamDecoder({ mimeType: 'audio/mpeg', onPcm: () => {}, onInfo: () => {}, onError: (e) => errors.push(e.code) });
    decoder.push(await fixture('not-audio.mp3'));
    expect(errors).to.deep.equal(['UNSUPPORTED_FORMAT']);
    await decoder.end(); // resolves, does not hang
  });

  it('MP4 with its index after the audio: UNSUPPORTED_FORMAT with a clear reason', async () => {
    const m4a = await fixture('m4a-aac.m4a');
    // Rebuild the file as ftyp + mdat + moov by moving moov behind mdat (offsets need not be right).
    const u32 = (at: number) => ((m4a[at]! << 24) | (m4a[at + 1]! << 16) | (m4a[at + 2]! << 8) | m4a[at + 3]!) >>> 0;
    const ftyp = u32(0);
    const moov = u32(ftyp);
    const reordered = new Uint8Array(m4a.length);
    reordered.set(m4a.subarray(0, ftyp));
    reordered.set(m4a.subarray(ftyp + moov), ftyp);
    reordered.set(m4a.subarray(ftyp, ftyp + moov), m4a.length - moov);
    const run = await decodeChunks([reordered], 'audio/mp4');
    expect(run.errors.map((e) => e.code)).to.deep.equal(['UNSUPPORTED_FORMAT']);
    expect(run.errors[0]!.message).to.match(/index \(moov\) after the audio/);
  });

  it('frames that parse but do not decode: DECODE_FAILED after 3 consecutive failures', async () => {
    // Real ADTS headers (so the parser syncs) with noise instead of AAC payloads.
    const bytes = (await fixture('aac-adts.aac')).slice();
    let seed = 12345;
    const noise = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 24);
    for (let at = 0; at + 7 < bytes.length; ) {
      const length = ((bytes[at + 3]! & 3) << 11) | (bytes[at + 4]! << 3) | (bytes[at + 5]! >> 5);
      for (let i = at + 7; i < at + length; i++) bytes[i] = noise();
      at += length;
    }
    const run = await decodeChunks(chunked(bytes, 4096), 'audio/aac');
    expect(run.errors.map((e) => [e.code, e.fatal])).to.deep.equal([['DECODE_FAILED', true]]);
  });
});

describe('StreamDecoder: start-up and exact buffered time', () => {
  it('the first PCM comes from the first 8 KB, before any more bytes; receivedSeconds counts whole frames', async () => {
    const bytes = await fixture('mp3-cbr128.mp3');
    const { StreamDecoder } = await import('./stream-decoder.js');
    let firstPcm: PcmStart | undefined;
    const infos: number[] = [];
    const decoder = new StreamDecoder({
      mimeType: 'audio/mpeg',
      onPcm: (block) => (firstPcm ??= { startFrame: block.startFrame, at: performance.now() }),
      onInfo: (info) => infos.push(info.duration ?? NaN),
      onError: (error) => expect.fail(error.message),
    });
    const pushedAt = performance.now();
    decoder.push(bytes.subarray(0, 8192));
    expect(infos).to.deep.equal([3]); // duration from the LAME tag, before any audio decoded
    // 8192 bytes = the 417-byte info frame + 18 whole 418-byte frames + the start of the next,
    // whose header confirms the 18th: 18 frames, minus LAME delay and decoder delay.
    expect(decoder.receivedSeconds).to.equal((18 * 1152 - 1105) / 44100);
    for (let i = 0; i < 100 && !firstPcm; i++) await new Promise((r) => setTimeout(r, 5));
    expect(firstPcm?.startFrame).to.equal(0);
    expect(firstPcm!.at - pushedAt).to.be.below(500); // generous: a shared 2-core machine
    decoder.push(bytes.subarray(8192));
    await decoder.end();
    expect(decoder.receivedSeconds).to.equal(3);
    expect(decoder.decodedSeconds).to.equal(3);
    decoder.destroy();
  });
});

interface PcmStart {
  startFrame: number;
  at: number;
}
