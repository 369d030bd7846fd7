/** Container readers on real encoder output (Node: they are pure byte parsing). */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { sniffFormat, type ContainerFormat } from './format-sniffer.js';
import { createFrameSource } from './frame-sources.js';
import { collectFrames, type CollectedFrames } from './frame-source-test-support.js';
import type { EncodedFrame, FrameSink } from './frame-source.js';
import { mpegTrim, readMpegInfoFrame } from './mpeg-gapless.js';
import { Mp4Source } from './mp4-source.js';
import { OggSource } from './ogg-source.js';
import { pcmToPlanar, WavSource } from './wav-source.js';

const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(`../test/fixtures/${name}`, import.meta.url)));

const parse = collectFrames;
const reader = (format: ContainerFormat) => (sink: FrameSink) => createFrameSource(format, sink);
const sum = (frames: EncodedFrame[]) => frames.reduce((n, f) => n + f.samples, 0);

describe('sniffFormat', () => {
  const expected: Record<string, ContainerFormat> = {
    'mp3-cbr128.mp3': 'mpeg', 'mp3-big-id3.mp3': 'mpeg', 'mp3-mpeg25-8k.mp3': 'mpeg', 'mp3-no-xing.mp3': 'mpeg',
    'aac-adts.aac': 'adts', 'm4a-aac.m4a': 'mp4', 'ogg-opus.opus': 'ogg', 'ogg-vorbis.ogg': 'ogg',
    'flac.flac': 'flac', 'wav-s16.wav': 'wav', 'wav-f32.wav': 'wav',
  };
  for (const [name, format] of Object.entries(expected)) {
    it(`${name} → ${format}, whatever the mimeType says`, () => {
      // 12 bytes decide, except behind an ID3v2 tag: then the 4 bytes after it do.
      const head = fixture(name);
      assert.deepEqual(sniffFormat(head.subarray(0, 12), 'application/octet-stream'), name === 'mp3-big-id3.mp3' ? { kind: 'need-more', bytes: 106288 + 4 } : { kind: 'format', format });
      assert.deepEqual(sniffFormat(head, 'application/octet-stream'), { kind: 'format', format });
    });
  }
  it('waits for 12 bytes, decides with fewer at the end, refuses text', () => {
    assert.deepEqual(sniffFormat(fixture('mp3-cbr128.mp3').subarray(0, 5), 'audio/mpeg'), { kind: 'need-more' });
    assert.equal(sniffFormat(fixture('not-audio.mp3'), 'audio/mpeg').kind, 'unsupported');
    assert.equal(sniffFormat(new Uint8Array(0), 'audio/mpeg', true).kind, 'unsupported');
  });
});

describe('MP3: Xing/Info/LAME', () => {
  const cases: [string, 'Info' | 'Xing', number, number][] = [
    ['mp3-cbr128.mp3', 'Info', 1152, 132300],
    ['mp3-vbr-v2.mp3', 'Xing', 1152, 132300],
    ['mp3-mpeg2-22k.mp3', 'Info', 576, 44100],
    ['mp3-mpeg25-8k.mp3', 'Info', 576, 16000],
    ['mp3-mpeg25-11k.mp3', 'Info', 576, 16538],
  ];
  for (const [name, tag, spf, length] of cases) {
    it(`${name}: ${tag} tag, LAME delay 576 + padding give exactly ${length} samples`, () => {
      const info = readMpegInfoFrame(fixture(name))!;
      assert.equal(info.tag, tag);
      assert.equal(info.encoder, 'LAME3.100');
      assert.equal(info.encoderDelay, 576);
      assert.equal(info.frameCount! * spf - 576 - info.padding!, length);
      assert.deepEqual(mpegTrim(info, spf), { skip: 576 + 529, totalFrames: length });
      assert.equal(info.byteCount, fixture(name).length);
    });
  }
  it('no info frame: no trim, nothing invented', () => {
    assert.equal(readMpegInfoFrame(fixture('mp3-no-xing.mp3')), undefined);
    assert.deepEqual(mpegTrim(undefined, 1152), { skip: 0 });
  });
});

describe('MpegSource (MP3, ADTS), FlacSource and OggSource', () => {
  it('CBR MP3: 116 audio frames after the info frame, plus one silent frame that flushes the filterbank', () => {
    const bytes = fixture('mp3-cbr128.mp3');
    const parsed = parse(reader('mpeg'), bytes, 4096);
    assert.equal(parsed.track?.totalFrames, 132300);
    assert.equal(parsed.track?.skip, 1105);
    assert.equal(parsed.frames.length, 117);
    assert.ok(parsed.frames.at(-1)!.data.subarray(4).every((b) => b === 0));
    assert.equal(parsed.frames[0]!.fileOffset, 417); // after the 417-byte info frame
    assert.deepEqual(parsed.skipped, []);
  });

  it('ID3v2 of 106 KB skipped (not damage), ID3v1 at the end does not cost the last frame', () => {
    const bytes = fixture('mp3-big-id3.mp3');
    const tag = 10 + ((bytes[6]! << 21) | (bytes[7]! << 14) | (bytes[8]! << 7) | bytes[9]!);
    for (const chunk of [1000, 65536, 3]) {
      const parsed = parse(reader('mpeg'), bytes, chunk);
      assert.equal(parsed.frames[0]!.fileOffset, tag + 417, `chunk ${chunk}`); // after the info frame
      assert.equal(parsed.frames.length, 41, `chunk ${chunk}`); // 40 audio + flush
      assert.equal(parsed.frames[39]!.fileOffset + 418, bytes.length - 128);
      assert.deepEqual(parsed.skipped, []);
    }
  });

  it('garbage mid-stream: one skip of the noise plus the frame it cut, then frames again', () => {
    const parsed = parse(reader('mpeg'), fixture('mp3-garbage.mp3'), 4096);
    assert.deepEqual(parsed.skipped, [2418]);
    assert.equal(parsed.frames.length, 115); // one frame lost, no flush frame for a damaged stream
  });

  it('every split of the stream gives the same frames (1-byte pushes, cuts inside headers)', () => {
    const bytes = fixture('mp3-mpeg25-8k.mp3');
    const whole = parse(reader('mpeg'), bytes);
    for (const chunk of [1, 2, 3, 5, 143, 144, 145]) {
      const split = parse(reader('mpeg'), bytes, chunk);
      assert.deepEqual(split.frames, whole.frames, `chunk ${chunk}`);
    }
  });

  it('ADTS, FLAC, Opus, Vorbis: configs WebCodecs accepts, exact lengths', () => {
    const adts = parse(reader('adts'), fixture('aac-adts.aac'), 999);
    assert.equal(adts.track?.decoding.kind === 'webcodecs' && adts.track.decoding.config.codec, 'mp4a.40.2');
    assert.equal(sum(adts.frames), adts.frames.length * 1024);
    const flac = parse(reader('flac'), fixture('flac.flac'), 999);
    assert.equal(flac.track?.totalFrames, 44100);
    assert.equal(sum(flac.frames), 44100);
    const description = flac.track?.decoding.kind === 'webcodecs' ? (flac.track.decoding.config.description as Uint8Array) : undefined;
    assert.equal(description?.length, 42);
    assert.equal(String.fromCharCode(...description!.subarray(0, 4)), 'fLaC');
    const opus = parse((sink) => new OggSource(sink), fixture('ogg-opus.opus'), 999);
    assert.equal(opus.track?.codec, 'opus');
    assert.deepEqual(opus.totals, [96000]);
    assert.equal(sum(opus.frames), 96000);
    const vorbis = parse((sink) => new OggSource(sink), fixture('ogg-vorbis.ogg'), 999);
    assert.equal(vorbis.track?.codec, 'vorbis');
    assert.deepEqual(vorbis.totals, [132300]);
    const laced = vorbis.track?.decoding.kind === 'webcodecs' ? (vorbis.track.decoding.config.description as Uint8Array) : undefined;
    assert.equal(laced?.[0], 2); // Xiph lacing of three headers
  });
});

describe('WavSource', () => {
  it('16/24-bit integer and 32-bit float of the same audio convert to the same floats', () => {
    const s24 = parse((s) => new WavSource(s), fixture('wav-s24.wav'), 1001);
    const f32 = parse((s) => new WavSource(s), fixture('wav-f32.wav'), 7);
    assert.equal(s24.track?.totalFrames, 16000);
    assert.equal(sum(s24.frames), 16000);
    assert.equal(sum(f32.frames), 16000);
    const planar = (p: CollectedFrames, format: 'int' | 'float', bits: number) =>
      p.frames.flatMap((f) => Array.from(pcmToPlanar(f.data, 1, format, bits)[0]!));
    assert.deepEqual(planar(s24, 'int', 24), planar(f32, 'float', 32));
  });

  it('pcmToPlanar: the typed-array fast path (aligned 16-bit/float) equals the byte-by-byte one (misaligned)', () => {
    const samples = Int16Array.from({ length: 2 * 1000 }, (_, i) => ((i * 7919) % 65536) - 32768);
    const float = Float32Array.from(samples, (x) => x / 40000);
    for (const [format, bits, source] of [['int', 16, samples], ['float', 32, float]] as const) {
      const raw = new Uint8Array(source.buffer);
      const odd = new Uint8Array(raw.length + 1).subarray(1);
      odd.set(raw);
      const fast = pcmToPlanar(raw, 2, format, bits);
      const slow = pcmToPlanar(odd, 2, format, bits);
      assert.deepEqual(fast, slow);
      assert.equal(fast[1]![3], source[7]! * (format === 'int' ? 1 / 32768 : 1));
    }
  });

  it('chunks in any order around the audio, odd sizes padded, truncated data cut to whole frames', () => {
    const original = fixture('wav-s16.wav');
    // RIFF header, then a 5-byte LIST chunk (odd: one pad byte), then the original chunks.
    const list = Uint8Array.from([0x4c, 0x49, 0x53, 0x54, 5, 0, 0, 0, 1, 2, 3, 4, 5, 0]);
    const bytes = new Uint8Array(original.length + list.length - 1);
    bytes.set(original.subarray(0, 12));
    bytes.set(list, 12);
    bytes.set(original.subarray(12, -1), 12 + list.length); // one byte short: half a sample
    const parsed = parse((s) => new WavSource(s), bytes, 100);
    assert.equal(parsed.track?.sampleRate, 22050);
    assert.equal(sum(parsed.frames), 44099);
  });

  it('refuses what it cannot convert', () => {
    const bytes = fixture('wav-s16.wav').slice();
    bytes[20] = 2; // format tag 2 = MS ADPCM
    assert.match(parse((s) => new WavSource(s), bytes).unsupported[0] ?? '', /MS ADPCM/);
  });
});

describe('Mp4Source', () => {
  it('faststart M4A: AAC config from esds, delay and length from the edit list, samples in order', () => {
    const bytes = fixture('m4a-aac.m4a');
    const whole = parse((s) => new Mp4Source(s), bytes);
    assert.equal(whole.track?.codec, 'aac');
    assert.equal(whole.track?.decoding.kind === 'webcodecs' && whole.track.decoding.config.codec, 'mp4a.40.2');
    assert.equal(whole.track?.skip, 1024);
    assert.equal(whole.track?.totalFrames, 132300);
    assert.equal(sum(whole.frames), 1024 + 132300); // stts: the last sample is as long as the audio it ends
    assert.ok(whole.frames.every((f, i) => i === 0 || f.fileOffset > whole.frames[i - 1]!.fileOffset));
    for (const chunk of [1, 13, 4096]) assert.deepEqual(parse((s) => new Mp4Source(s), bytes, chunk).frames, whole.frames);
  });
});
