// What real encoders and taggers produce, not only our fixtures: ~90 variants made at test time by
// ffmpeg, lame and sox (components/test/encoder-variants.mjs), each streamed through the
// StreamDecoder in chunks and compared with the browser's one-shot decodeAudioData of the
// same file. A variant we do not support must end in one clean UNSUPPORTED_FORMAT, never a hang,
// silence or a partial decode.
import { expect } from '@open-wc/testing';
import { alignedCorrelation, chunked, decodeChunks, longestZeroRun, referenceDecode, type DecodeRun } from './decoder-test-support.js';

interface Variant {
  name: string;
  mimeType: string;
  unsupported?: true;
  rate: number;
  channels: number;
  /** Source length in frames at `rate`. */
  frames: number;
  /** The container's gapless info gives the exact length: decoded length and duration must equal it. */
  exact: boolean;
  /** One codec frame: how far the length may be from the reference's when not exact. */
  frame: number;
  /** The file to compare with when decodeAudioData cannot decode this one as a player should. */
  reference?: string;
}

const BASE = '/__encoder-variants/';
const CHUNKINGS = [997, 13, Number.MAX_SAFE_INTEGER];
const { variants, buildMs } = (await (await fetch(BASE + 'manifest.json')).json()) as { variants: Variant[]; buildMs: number };

async function bytesOf(name: string): Promise<Uint8Array> {
  const response = await fetch(BASE + encodeURIComponent(name));
  if (!response.ok) throw new Error(`${name}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

/** A decode that never settles is a failure of its own, not a test timeout. */
async function decodeOrHang(bytes: Uint8Array, mimeType: string, chunkSize: number): Promise<DecodeRun> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('the decoder never finished (hang)')), 20000)));
  try {
    return await Promise.race([decodeChunks(chunked(bytes, chunkSize), mimeType), hang]);
  } finally {
    clearTimeout(timer);
  }
}

describe(`encoder sweep: ${variants.length} real-encoder variants (built in ${buildMs} ms)`, () => {
  for (const [index, v] of variants.entries()) {
    if (v.unsupported) {
      it(`${v.name}: refused with one clean UNSUPPORTED_FORMAT`, async () => {
        const bytes = await bytesOf(v.name);
        const run = await decodeOrHang(bytes, v.mimeType, 1000);
        expect(run.errors.map((e) => `${e.code}: ${e.message}`)).to.have.length(1);
        expect(run.errors[0]!.code, run.errors[0]!.message).to.equal('UNSUPPORTED_FORMAT');
        expect(run.errors[0]!.fatal).to.equal(true);
        expect(run.blocks, 'no PCM before the refusal').to.equal(0);
      });
      continue;
    }
    it(`${v.name}: ${v.channels} ch at ${v.rate} Hz, ${v.exact ? 'exact' : 'within a frame of the reference'}, matches decodeAudioData (${CHUNKINGS[index % CHUNKINGS.length]! > 1e6 ? 'one push' : `${CHUNKINGS[index % CHUNKINGS.length]}-byte chunks`})`, async () => {
      const bytes = await bytesOf(v.name);
      // Odd chunk sizes, in turn per variant: headers, tags and frames are cut at every kind of
      // place; the whole file in one push takes the parsers' end-of-stream paths. (Every variant
      // passes with each of the three.)
      const run = await decodeOrHang(bytes, v.mimeType, CHUNKINGS[index % CHUNKINGS.length]!);
      expect(run.errors.map((e) => `${e.code}: ${e.message}`)).to.deep.equal([]);
      expect(run.contiguityError).to.equal(undefined);
      expect(run.skipped, 'bytes skipped as damage').to.deep.equal([]);
      expect(run.info?.sampleRate).to.equal(v.rate);
      expect(run.info?.channelCount).to.equal(v.channels);
      expect(run.channels.length).to.equal(v.channels);
      const length = run.channels[0]!.length;
      const reference = await referenceDecode(v.reference ? await bytesOf(v.reference) : bytes, v.rate);
      expect(reference.length, 'reference channels').to.equal(v.channels);
      const referenceLength = reference[0]!.length;
      if (v.exact) {
        expect(length, 'decoded length').to.equal(v.frames);
        expect(run.info?.duration, 'duration from the headers').to.be.closeTo(v.frames / v.rate, 1e-9);
      } else if (run.info?.duration !== undefined) {
        expect(Math.abs(run.info.duration * v.rate - length), `duration ${run.info.duration}`).to.be.at.most(v.frame);
      }
      expect(Math.abs(length - referenceLength), `decoded ${length}, reference ${referenceLength}`).to.be.at.most(v.frame);
      for (let c = 0; c < v.channels; c++) {
        expect(longestZeroRun(run.channels[c]!, 2048), `channel ${c}: a gap`).to.be.at.most(longestZeroRun(reference[c]!, 2048) + 8);
        const { lag, correlation } = alignedCorrelation(run.channels[c]!, reference[c]!);
        expect(correlation, `channel ${c} at lag ${lag}`).to.be.at.least(0.999);
        if (v.exact) expect(lag, `channel ${c}`).to.equal(0);
      }
    });
  }
});
