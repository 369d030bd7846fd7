/**
 * Container readers on real encoder output made at test time (components/test/encoder-variants.mjs:
 * ffmpeg, lame, sox), one focused check per fault the browser's encoder sweep found.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { useEncoderVariants } from '../test/variant-bytes.js';
import { canBatch } from './decode-backend.js';
import { sniffFormat } from './format-sniffer.js';
import type { EncodedFrame, FrameSink, TrackInfo } from './frame-source.js';
import { createFrameSource } from './frame-sources.js';
import { mpegWarmupFrames } from './mpeg-gapless.js';
import { pcmToPlanar } from './wav-source.js';

const NAMES = [
  'mp3-lame-crc.mp3', 'mp3-ape-tag.mp3', 'mp3-ape-and-id3v1.mp3', 'mp3-lyrics3-and-id3v1.mp3', 'mp3-ffmpeg-id3v1.mp3',
  'mp3-lame-32k-48k.mp3', 'mp3-lame-320k.mp3', 'opus-picture-comment.opus', 'opus-mono.opus', 'opus-5.1.opus',
  'm4a-faststart-mono-48k.m4a', 'm4a-5.1.m4a', 'm4a-fragmented.m4a', 'flac-id3v2-before.flac', 'wav-mulaw.wav', 'wav-alaw.wav',
  'm4a-alac.m4a', 'm4a-index-after-data.m4a', 'mp4-opus.mp4', 'ogg-flac.oga', 'wav-ms-adpcm.wav', 'aiff-s16.aiff', 'tiny-opus.opus', 'tiny-vorbis.ogg', 'chained-opus.opus', 'chained-vorbis-other-setup.ogg', 'webm-vorbis.webm', 'webm-opus.webm', 'webm-opus-live.webm',
];

const variants = useEncoderVariants(NAMES);

const { bytesOf } = variants;

interface Parsed {
  track?: TrackInfo;
  frames: EncodedFrame[];
  skipped: number[];
  unsupported: string[];
}

/** The container reader the sniffer picks, fed in `chunk`-byte pieces. */
function parse(name: string, chunk = 997): Parsed {
  const bytes = bytesOf(name);
  const out: Parsed = { frames: [], skipped: [], unsupported: [] };
  const sink: FrameSink = {
    track: (t) => (out.track = t),
    frame: (f) => out.frames.push({ ...f, data: f.data.slice() }),
    totalFrames: (n) => out.track && (out.track.totalFrames = n),
    skipped: (n) => out.skipped.push(n),
    unsupported: (r) => out.unsupported.push(r),
  };
  const sniffed = sniffFormat(bytes, variants.entry(name).mimeType, true);
  if (sniffed.kind !== 'format') return { ...out, unsupported: [sniffed.kind === 'unsupported' ? sniffed.reason : 'need-more'] };
  const body = bytes.subarray(sniffed.skip ?? 0);
  const source = createFrameSource(sniffed.format, sink);
  for (let at = 0; at < body.length; at += chunk) source.push(body.subarray(at, at + chunk));
  source.end();
  return out;
}

const sum = (frames: EncodedFrame[]): number => frames.reduce((n, f) => n + f.samples, 0);

describe('MP3 from real encoders', () => {
  it('lame -p (CRC on every frame): the LAME tag sits where it would without the CRC, and is read', () => {
    const parsed = parse('mp3-lame-crc.mp3');
    assert.equal(parsed.track?.skip, 576 + 529);
    assert.equal(parsed.track?.totalFrames, 66150);
  });

  for (const name of ['mp3-ape-tag.mp3', 'mp3-ape-and-id3v1.mp3', 'mp3-lyrics3-and-id3v1.mp3', 'mp3-ffmpeg-id3v1.mp3']) {
    it(`${name}: the tags after the audio cost no frame and count as no damage`, () => {
      for (const chunk of [7, 997, 1 << 20]) {
        const parsed = parse(name, chunk);
        assert.deepEqual(parsed.skipped, []);
        // The silent frame that flushes the filterbank follows only when every frame the LAME tag
        // counts has come: none was lost to the tags.
        const last = parsed.frames[parsed.frames.length - 1]!;
        assert.ok(last.data.subarray(4).every((b) => b === 0), `chunk ${chunk}: the last frame is audio, a frame is missing`);
        assert.ok(sum(parsed.frames) - parsed.track!.skip >= 66150, `chunk ${chunk}`);
      }
    });
  }

  it('segment warm-up covers the bit reservoir: more frames at 32 kbit/s, the usual 4 at 320', () => {
    const warmups = (name: string): number[] => {
      const frames = parse(name).frames.map((f) => f.data);
      return frames.slice(16).map((first, i) => mpegWarmupFrames(frames.slice(i, i + 16), first, 4));
    };
    const low = warmups('mp3-lame-32k-48k.mp3');
    assert.ok(Math.max(...low) > 4 && Math.max(...low) <= 16, `32 kbit/s: ${low.join(' ')}`);
    assert.deepEqual(new Set(warmups('mp3-lame-320k.mp3')), new Set([4]));
  });
});

describe('Ogg Opus from real encoders', () => {
  it('a comment header over several Ogg pages (cover art) is no audio packet; pre-skip still lands on the first', () => {
    const big = parse('opus-picture-comment.opus');
    const plain = parse('opus-mono.opus');
    assert.ok(big.frames.every((f) => String.fromCharCode(...f.data.subarray(0, 8)) !== 'OpusTags'));
    assert.equal(big.frames[0]!.samples, 960 - 312);
    assert.equal(sum(big.frames), sum(plain.frames));
    assert.deepEqual(big.track?.uncertainSkip, { samples: 312, firstFrameSamples: 648 });
  });

  it('a file of one audio page (50 ms), yielded only at the end, is still known as Opus / Vorbis', () => {
    for (const chunk of [1 << 20, 997]) {
      assert.equal(parse('tiny-opus.opus', chunk).track?.codec, 'opus');
      assert.equal(parse('tiny-vorbis.ogg', chunk).track?.codec, 'vorbis');
    }
  });

  it('a chained file ends with its first stream: no frame of the next one, the first one\'s exact length', () => {
    const opus = parse('chained-opus.opus');
    assert.equal(sum(opus.frames), 72000);
    assert.equal(opus.track?.totalFrames, 72000);
    const vorbis = parse('chained-vorbis-other-setup.ogg');
    assert.equal(sum(vorbis.frames), 66150);
    assert.equal(vorbis.track?.totalFrames, 66150);
  });

  it('multistream (5.1, mapping family 1) packets are not joined; stereo ones are', () => {
    const surround = parse('opus-5.1.opus').track!;
    assert.equal(surround.channelCount, 6);
    assert.equal(canBatch(surround.decoding), false);
    assert.equal(canBatch(parse('opus-mono.opus').track!.decoding), true);
  });
});

describe('MP4 from real encoders', () => {
  it('channels come from the AudioSpecificConfig (ffmpeg writes 2 in the sample entry for mono and 5.1)', () => {
    assert.equal(parse('m4a-faststart-mono-48k.m4a').track?.channelCount, 1);
    assert.equal(parse('m4a-5.1.m4a').track?.channelCount, 6);
  });

  it('fragmented MP4 (empty moov, moof + mdat pairs): every sample, in order, from any chunking', () => {
    const whole = parse('m4a-fragmented.m4a', 1 << 20);
    assert.deepEqual(whole.unsupported, []);
    assert.equal(whole.frames.length, Math.ceil(67174 / 1024));
    assert.equal(sum(whole.frames), 66150 + 1024); // no edit list: the encoder's priming stays
    assert.equal(whole.track?.totalFrames, undefined);
    assert.ok(whole.frames.every((f, i) => i === 0 || f.fileOffset > whole.frames[i - 1]!.fileOffset));
    for (const chunk of [1, 13, 4096]) assert.deepEqual(parse('m4a-fragmented.m4a', chunk).frames, whole.frames);
  });
});

describe('WebM Opus', () => {
  it('ffmpeg and a live (unknown-size) writer give the same frames; pre-skip on the first; DiscardPadding ends it', () => {
    const file = parse('webm-opus.webm', 1 << 20);
    assert.equal(file.track?.codec, 'opus');
    assert.deepEqual(file.track?.uncertainSkip, { samples: 312, firstFrameSamples: 648 });
    assert.equal(file.track?.totalFrames, 72000);
    for (const chunk of [1, 997]) assert.deepEqual(parse('webm-opus.webm', chunk).frames.map((f) => f.data), file.frames.map((f) => f.data));
    const live = parse('webm-opus-live.webm');
    assert.deepEqual(live.unsupported, []);
    assert.deepEqual(live.frames.map((f) => f.data), file.frames.map((f) => f.data));
  });
});

describe('FLAC behind an ID3v2 tag', () => {
  it('is sniffed past the tag (not taken for MP3 by the tag or the label) and read from its fLaC', () => {
    const bytes = bytesOf('flac-id3v2-before.flac');
    const tag = bytes.indexOf(0x66); // "f" of fLaC, after the 297-byte tag
    assert.deepEqual(sniffFormat(bytes.subarray(0, 12), 'audio/mpeg'), { kind: 'need-more', bytes: tag + 4 });
    assert.deepEqual(sniffFormat(bytes, 'audio/mpeg'), { kind: 'format', format: 'flac', skip: tag });
    const parsed = parse('flac-id3v2-before.flac');
    assert.equal(parsed.track?.totalFrames, 66150);
    assert.equal(sum(parsed.frames), 66150);
  });
});

describe('WAV G.711', () => {
  for (const name of ['wav-mulaw.wav', 'wav-alaw.wav']) {
    it(`${name}: the same samples as ffmpeg's own decoder`, () => {
      const parsed = parse(name);
      const { decoding } = parsed.track!;
      assert.equal(decoding.kind, 'pcm');
      if (decoding.kind !== 'pcm') return;
      const ours = pcmToPlanar(new Uint8Array(Buffer.concat(parsed.frames.map((f) => f.data))), 1, decoding.sampleFormat, decoding.bitsPerSample)[0]!;
      const theirs = execFileSync('ffmpeg', ['-nostdin', '-loglevel', 'error', '-i', variants.entry(name).file, '-f', 's16le', '-'], { maxBuffer: 1 << 24 });
      const expected = new Int16Array(theirs.buffer, theirs.byteOffset, theirs.length / 2);
      assert.equal(ours.length, expected.length);
      for (let i = 0; i < ours.length; i++) assert.equal(ours[i]! * 32768, expected[i], `sample ${i}`);
    });
  }
});

describe('what we refuse, we refuse by name', () => {
  const reasons: Record<string, RegExp> = {
    'm4a-alac.m4a': /"alac" is not supported/,
    'm4a-index-after-data.m4a': /index \(moov\) after the audio/,
    'mp4-opus.mp4': /Opus in MP4/,
    'ogg-flac.oga': /Ogg flac is not supported/,
    'wav-ms-adpcm.wav': /MS ADPCM/,
    'aiff-s16.aiff': /AIFF is not supported/,
    'webm-vorbis.webm': /WebM audio A_VORBIS is not supported/,
  };
  for (const [name, reason] of Object.entries(reasons)) {
    it(name, () => {
      const parsed = parse(name);
      assert.equal(parsed.frames.length, 0);
      assert.match(parsed.unsupported.join(' | '), reason);
    });
  }
});
