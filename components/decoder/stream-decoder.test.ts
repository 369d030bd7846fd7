import { expect } from '@open-wc/testing';
import { alignedCorrelation, chunked, decodeChunks, fixture, manifest, referenceDecode } from './decoder-test-support.js';

const FORMATS = [
  'mp3-cbr128.mp3', 'mp3-vbr-v2.mp3', 'mp3-mpeg2-22k.mp3', 'mp3-mpeg25-8k.mp3', 'mp3-mpeg25-11k.mp3',
  'mp3-big-id3.mp3', 'mp3-no-xing.mp3', 'aac-adts.aac', 'm4a-aac.m4a', 'ogg-opus.opus', 'ogg-vorbis.ogg',
  'flac.flac', 'wav-s16.wav', 'wav-s24.wav', 'wav-f32.wav',
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
        const { lag, correlation } = alignedCorrelation(run.channels[c]!, reference[c]!);
        expect(correlation, `channel ${c} lag ${lag}`).to.be.at.least(0.999);
        if (entry.exact) expect(lag, `channel ${c}`).to.equal(0);
      }
    });
  }
});
