/**
 * Ogg Vorbis on decodeAudioData segments (packets re-muxed into small Ogg files, see
 * ogg-vorbis-segment.ts): every join, the stream's first packet and its end trim must give
 * exactly the samples one continuous WebCodecs decode gives.
 */
import { expect } from '@open-wc/testing';
import type { PcmBlock } from '../pcm.js';
import type { DecodedPcm } from './decode-backend.js';
import { chunked, decodeChunks, fixture, joinFloat, manifest, type DecodeRun } from './decoder-test-support.js';
import type { EncodedFrame, TrackInfo } from './frame-source.js';
import { OggSource } from './ogg-source.js';
import { SegmentBackend, segmentPlan } from './segment-backend.js';
import { StreamDecoder } from './stream-decoder.js';

const FIXTURES = ['ogg-vorbis.ogg', 'ogg-vorbis-transients.ogg'];

function expectIdentical(actual: Float32Array[], expected: Float32Array[]): void {
  expect(actual.length).to.equal(expected.length);
  for (let c = 0; c < expected.length; c++) {
    const a = actual[c]!;
    const b = expected[c]!;
    expect(a.length, `channel ${c} length`).to.equal(b.length);
    let firstDifference = -1;
    for (let i = 0; i < a.length && firstDifference < 0; i++) if (a[i] !== b[i]) firstDifference = i;
    expect(firstDifference, `channel ${c}: first differing sample`).to.equal(-1);
  }
}

function parse(bytes: Uint8Array): { track: TrackInfo; frames: EncodedFrame[] } {
  const frames: EncodedFrame[] = [];
  let track: TrackInfo | undefined;
  const source = new OggSource({
    track: (t) => (track = t),
    frame: (f) => frames.push({ ...f, data: f.data.slice() }),
    totalFrames: () => {},
    skipped: () => {},
    unsupported: (reason) => {
      throw new Error(reason);
    },
  });
  source.push(bytes);
  source.end();
  return { track: track!, frames };
}

/** Block size (short/long) of each packet, from the sample counts: n = (previous + current) / 4. */
function blockChanges(frames: EncodedFrame[]): number[] {
  const changes: number[] = [];
  for (let i = 2; i < frames.length; i++) if (frames[i]!.samples !== frames[i - 1]!.samples) changes.push(i);
  return changes;
}

describe('Vorbis: decodeAudioData on rebuilt Ogg segments', () => {
  /** Decodes the fixture in `chunkSize` pushes with `kind` and with WebCodecs alone: bit for bit the same. */
  async function expectWebCodecsSamples(name: string, chunkSize: number, kind: 'auto' | 'segments'): Promise<void> {
    const entry = (await manifest())[name]!;
    const bytes = await fixture(name);
    const webcodecs = await decodeChunks(chunked(bytes, chunkSize), entry.mimeType, 1e9, 'webcodecs');
    const run = await decodeChunks(chunked(bytes, chunkSize), entry.mimeType, 1e9, kind);
    expect(run.errors.map((e) => e.message)).to.deep.equal([]);
    expect(run.contiguityError).to.equal(undefined);
    expect(run.channels[0]!.length).to.equal(entry.sourceFrames);
    expectIdentical(run.channels, webcodecs.channels);
  }

  for (const name of FIXTURES) {
    it(`${name}: auto (WebCodecs for 0.4 s, then segments) gives WebCodecs' samples bit for bit`, () => expectWebCodecsSamples(name, 4096, 'auto'));
    it(`${name}: segments from the first packet on (no WebCodecs at all) give the same samples`, () => expectWebCodecsSamples(name, 1000, 'segments'));
  }

  it('joins anywhere, on long/short block changes too: segments of 2 to 37 packets, end to end, are exact', async () => {
    const bytes = await fixture('ogg-vorbis-transients.ogg');
    const { track, frames } = parse(bytes);
    const config = (track.decoding as { config: AudioDecoderConfig }).config;
    const plan = segmentPlan('vorbis', config.description as Uint8Array)!;
    expect(plan).to.not.equal(undefined);
    const outputs: DecodedPcm[] = [];
    const errors: unknown[] = [];
    const backend = new SegmentBackend(plan, track.sampleRate, track.channelCount, { output: (pcm) => outputs.push(pcm), error: (e) => errors.push(e) });
    // Deterministic cut points; the last segment may be a single packet.
    const cuts: number[] = [];
    let seed = 7;
    for (let at = 0; at < frames.length; ) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      at = Math.min(frames.length, at + 2 + (seed % 36));
      cuts.push(at);
    }
    let from = 0;
    for (const to of cuts) backend.decode(frames.slice(from, to)), (from = to);
    await backend.flush();
    backend.close();
    expect(errors).to.deep.equal([]);
    // The test means something only if joins fall where the block size changes.
    const changes = new Set(blockChanges(frames));
    const joinsOnChanges = cuts.filter((cut) => changes.has(cut) || changes.has(cut - 1) || changes.has(cut + 1)).length;
    expect(joinsOnChanges, `${cuts.length} joins`).to.be.at.least(3);
    const segmented = Array.from({ length: track.channelCount }, (_, c) => joinFloat(outputs.map((pcm) => pcm.channels[c]!)));
    const webcodecs = await decodeChunks(chunked(bytes, 4096), 'audio/ogg', 1e9, 'webcodecs');
    expectIdentical(segmented, webcodecs.channels);
  });

  it('a segment that holds only the stream\'s first packet outputs nothing and decodes nothing', async () => {
    const { track, frames } = parse(await fixture('ogg-vorbis.ogg'));
    const plan = segmentPlan('vorbis', (track.decoding as { config: AudioDecoderConfig }).config.description as Uint8Array)!;
    const outputs: DecodedPcm[] = [];
    const backend = new SegmentBackend(plan, track.sampleRate, track.channelCount, { output: (pcm) => outputs.push(pcm), error: (e) => expect.fail(String(e)) });
    expect(frames[0]!.samples).to.equal(0);
    backend.decode(frames.slice(0, 1));
    backend.decode(frames.slice(1, 5));
    await backend.flush();
    expect(outputs.map((pcm) => pcm.channels[0]!.length)).to.deep.equal([0, frames.slice(1, 5).reduce((n, f) => n + f.samples, 0)]);
  });

  it('refuses a description that is not three Vorbis headers (no segment plan: WebCodecs stays)', () => {
    expect(segmentPlan('vorbis', undefined)).to.equal(undefined);
    expect(segmentPlan('vorbis', Uint8Array.of(2, 30, 16, 1, 2, 3))).to.equal(undefined);
  });
});

describe('segments under a moving horizon (the player moves it ~4 times a second)', () => {
  it('Vorbis: the horizon\'s small steps gather into few segments, the decoded audio stays ¾ of the lead ahead, samples exact', async () => {
    const bytes = await fixture('ogg-vorbis-transients.ogg');
    const calls: number[] = [];
    const original = OfflineAudioContext.prototype.decodeAudioData;
    // Counts the real calls (and still makes them).
    OfflineAudioContext.prototype.decodeAudioData = function (this: OfflineAudioContext, data: ArrayBuffer, ...rest: unknown[]) {
      calls.push(data.byteLength);
      return (original as (this: OfflineAudioContext, ...args: unknown[]) => Promise<AudioBuffer>).call(this, data, ...rest);
    } as typeof original;
    const blocks: PcmBlock[] = [];
    try {
      const decoder = new StreamDecoder({ mimeType: 'audio/ogg', onPcm: (block) => blocks.push({ ...block, channels: block.channels.map((c) => c.slice()) }), onInfo: () => {}, onError: (e) => expect.fail(e.message) });
      decoder.setHorizon(0.5);
      for (const chunk of chunked(bytes, 4096)) decoder.push(chunk);
      // All bytes are in (the parser yields the last pages only at the end); decoding still
      // stops at the horizon.
      const ended = decoder.end();
      await settled(decoder);
      expect(decoder.decodedSeconds).to.be.within(0.5 - 0.5 / 4 - 0.05, 0.55);
      // The horizon jumps (playback started), then creeps in 50 ms steps. Its lead over the
      // decoded audio at the jump is what bounds the wait (never more than its lead over playback).
      const lead = 2.0 - decoder.decodedSeconds;
      decoder.setHorizon(2.0);
      await settled(decoder);
      const callsAfterJump = calls.length;
      let steps = 0;
      for (let horizon = 2.05; horizon < 3.0; horizon += 0.05, steps++) {
        decoder.setHorizon(horizon);
        await settled(decoder);
        // Never more than a quarter of the lead (plus the packet that straddles it) behind the horizon.
        expect(decoder.decodedSeconds, `horizon ${horizon.toFixed(2)}`).to.be.at.least(horizon - lead / 4 - 0.05);
        expect(decoder.decodedSeconds, `horizon ${horizon.toFixed(2)}`).to.be.at.most(horizon + 0.05);
      }
      const creepCalls = calls.length - callsAfterJump;
      expect(creepCalls, `${steps} steps`).to.be.within(1, Math.ceil(steps / 5));
      decoder.setHorizon(1e9);
      await ended;
      decoder.destroy();
    } finally {
      OfflineAudioContext.prototype.decodeAudioData = original;
    }
    const channels = [0, 1].map((c) => joinFloat(blocks.map((b) => b.channels[c]!)));
    const webcodecs: DecodeRun = await decodeChunks(chunked(bytes, 4096), 'audio/ogg', 1e9, 'webcodecs');
    expectIdentical(channels, webcodecs.channels);
  });
});

/** Resolves once the decoder has produced nothing new for a few polls (its work below the horizon is done). */
async function settled(decoder: StreamDecoder): Promise<void> {
  let last = -1;
  let still = 0;
  while (still < 4) {
    await new Promise((resolve) => setTimeout(resolve, 15));
    const now = decoder.decodedSeconds;
    still = now === last ? still + 1 : 0;
    last = now;
  }
}
