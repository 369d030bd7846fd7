import { expect } from '@open-wc/testing';
import { alignedCorrelation, chunked, decodeChunks, fixture, longestZeroRun, manifest, naiveSegmentDecode, referenceDecode } from './decoder-test-support.js';

const FORMATS = [
  'mp3-cbr128.mp3', 'mp3-vbr-v2.mp3', 'mp3-mpeg2-22k.mp3', 'mp3-mpeg25-8k.mp3', 'mp3-mpeg25-11k.mp3',
  'mp3-big-id3.mp3', 'mp3-no-xing.mp3', 'aac-adts.aac', 'm4a-aac.m4a', 'ogg-opus.opus', 'ogg-vorbis.ogg',
  'ogg-vorbis-transients.ogg', 'flac.flac', 'wav-s16.wav', 'wav-s24.wav', 'wav-f32.wav',
];

describe('StreamDecoder: every format, streamed in 1000-byte chunks', () => {
  for (const name of FORMATS) {
    it(`${name}: expected length, gapless, matches decodeAudioData`, async () => {
      const entry = (await manifest())[name]!;
      const bytes = await fixture(name);
      const run = await decodeChunks(chunked(bytes, 1000), entry.mimeType);
      expect(run.errors.map((e) => e.message)).to.deep.equal([]);
      expect(run.contiguityError).to.equal(undefined);
      expect(run.info?.sampleRate).to.equal(entry.sampleRate);
      expect(run.info?.channelCount).to.equal(entry.channels);
      expect(run.channels.length).to.equal(entry.channels);
      const reference = await referenceDecode(bytes, entry.sampleRate);
      const length = run.channels[0]!.length;
      if (entry.exact) {
        expect(length).to.equal(entry.sourceFrames);
        expect(run.info?.duration).to.be.closeTo(entry.sourceFrames / entry.sampleRate, 1e-9);
        expect(run.receivedSeconds).to.be.closeTo(entry.sourceFrames / entry.sampleRate, 1e-9);
      }
      const frame = entry.codec === 'mpeg' ? 1152 : entry.codec === 'aac' ? 1024 : 960;
      expect(Math.abs(length - reference[0]!.length)).to.be.at.most(frame, `reference has ${reference[0]!.length}`);
      for (let c = 0; c < entry.channels; c++) {
        // No gap inside the audio that the reference does not have too.
        expect(longestZeroRun(run.channels[c]!, 2048)).to.be.at.most(longestZeroRun(reference[c]!, 2048) + 8);
        const { lag, correlation } = alignedCorrelation(run.channels[c]!, reference[c]!);
        expect(correlation, `channel ${c} lag ${lag}`).to.be.at.least(0.999);
        if (entry.exact) expect(lag, `channel ${c}`).to.equal(0);
      }
    });
  }
});

describe('StreamDecoder fallback without WebCodecs: decodeAudioData on frame-aligned segments', () => {
  for (const name of ['mp3-cbr128.mp3', 'mp3-vbr-v2.mp3', 'mp3-mpeg2-22k.mp3', 'mp3-mpeg25-11k.mp3', 'aac-adts.aac', 'flac.flac']) {
    it(`${name}: same length and samples as the WebCodecs path`, async () => {
      const entry = (await manifest())[name]!;
      const bytes = await fixture(name);
      const webcodecs = await decodeChunks(chunked(bytes, 1000), entry.mimeType, 1e9, 'webcodecs');
      const segments = await decodeChunks(chunked(bytes, 1000), entry.mimeType, 1e9, 'segments');
      expect(segments.errors.map((e) => e.message)).to.deep.equal([]);
      expect(segments.contiguityError).to.equal(undefined);
      expect(segments.channels[0]!.length).to.equal(webcodecs.channels[0]!.length);
      for (let c = 0; c < entry.channels; c++) {
        expect(longestZeroRun(segments.channels[c]!, 2048)).to.be.at.most(longestZeroRun(webcodecs.channels[c]!, 2048) + 8);
        const { lag, correlation } = alignedCorrelation(segments.channels[c]!, webcodecs.channels[c]!);
        expect(lag).to.equal(0);
        expect(correlation).to.be.at.least(0.999);
      }
    });
  }
});

describe('MP3: WebCodecs (the default) and mpg123 (the fallback) give the same samples in the same place', () => {
  for (const name of ['mp3-cbr128.mp3', 'mp3-vbr-v2.mp3', 'mp3-mpeg2-22k.mp3', 'mp3-mpeg25-8k.mp3', 'mp3-big-id3.mp3', 'mp3-garbage.mp3']) {
    it(name, async () => {
      const bytes = await fixture(name);
      const mpg123 = await decodeChunks(chunked(bytes, 4096), 'audio/mpeg', 1e9, 'mpg123');
      const webcodecs = await decodeChunks(chunked(bytes, 4096), 'audio/mpeg');
      expect(mpg123.errors.length + webcodecs.errors.length).to.equal(0);
      expect(mpg123.channels[0]!.length).to.equal(webcodecs.channels[0]!.length);
      for (let c = 0; c < mpg123.channels.length; c++) {
        const { lag, correlation } = alignedCorrelation(mpg123.channels[c]!, webcodecs.channels[c]!);
        expect(lag).to.equal(0);
        expect(correlation).to.be.at.least(0.999);
      }
    });
  }
});

describe('the checks above catch a naive decoder (test of the test)', () => {
  it('decodeAudioData per 16 KB segment, end to end: gaps, wrong length, correlation below 0.999', async () => {
    const bytes = await fixture('mp3-cbr128.mp3');
    const reference = (await referenceDecode(bytes, 44100))[0]!;
    const naive = await naiveSegmentDecode(bytes, 44100, 16 * 1024);
    const lengthOff = Math.abs(naive.length - reference.length) > 1152;
    const gaps = longestZeroRun(naive, 2048) > longestZeroRun(reference, 2048) + 8;
    const { correlation } = alignedCorrelation(naive, reference);
    // Each check on its own may pass by luck; the suite asserts all of them, so one failing is enough.
    expect(lengthOff || gaps || correlation < 0.999, `length ${naive.length}, correlation ${correlation}`).to.equal(true);
    expect(correlation).to.be.below(0.999);
  });
});

describe('handover: WebCodecs for the first 0.4 s, then decodeAudioData segments (auto, MP3 and FLAC)', () => {
  for (const name of ['mp3-cbr128.mp3', 'mp3-vbr-v2.mp3', 'mp3-mpeg2-22k.mp3', 'mp3-mpeg25-8k.mp3', 'mp3-big-id3.mp3', 'flac.flac']) {
    it(`${name}: the same samples as WebCodecs alone, across the join`, async () => {
      const entry = (await manifest())[name]!;
      const bytes = await fixture(name);
      const webcodecs = await decodeChunks(chunked(bytes, 4096), entry.mimeType, 1e9, 'webcodecs');
      const auto = await decodeChunks(chunked(bytes, 4096), entry.mimeType, 1e9, 'auto');
      expect(auto.errors.map((e) => e.message)).to.deep.equal([]);
      expect(auto.contiguityError).to.equal(undefined);
      expect(auto.channels[0]!.length).to.equal(webcodecs.channels[0]!.length);
      // The join must fall inside the file for this test to mean anything.
      expect(auto.channels[0]!.length).to.be.above(entry.sampleRate * 0.4 + 4608);
      // MP3: the same ffmpeg decoder state after the warm-up frames, so bit for bit the same.
      // FLAC (lossless 16-bit): decodeAudioData scales positive samples by 1/32767 where WebCodecs
      // uses 1/32768, a difference below one 16-bit step; the timing is still exact.
      const tolerance = entry.codec === 'flac' ? 1 / 32767 : 0;
      for (let c = 0; c < entry.channels; c++) {
        const a = auto.channels[c]!;
        const b = webcodecs.channels[c]!;
        let worst = 0;
        for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
        expect(worst, `channel ${c}`).to.be.at.most(tolerance);
      }
    });
  }
});
