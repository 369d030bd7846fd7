import { expect } from '@open-wc/testing';
import CodecParser from 'codec-parser';
import type { CodecFrame, OggPage, OpusHeader } from 'codec-parser';
import { fixture, joinFloat } from './decoder-test-support.js';
import { joinOpusPackets } from './opus-packets.js';

/** Every output sample of WebCodecs' Opus decoder for these packets, one chunk per packet. */
async function decodeOpus(packets: Uint8Array[], description: Uint8Array, channels: number): Promise<Float32Array[]> {
  const parts: Float32Array[][] = [];
  let failure: unknown;
  const decoder = new AudioDecoder({
    output: (data) => {
      parts.push(
        Array.from({ length: channels }, (_, planeIndex) => {
          const plane = new Float32Array(data.numberOfFrames);
          data.copyTo(plane, { planeIndex, format: 'f32-planar' });
          return plane;
        }),
      );
      data.close();
    },
    error: (error) => (failure = error),
  });
  decoder.configure({ codec: 'opus', sampleRate: 48000, numberOfChannels: channels, description });
  packets.forEach((data, i) => decoder.decode(new EncodedAudioChunk({ type: 'key', timestamp: i, data })));
  await decoder.flush();
  decoder.close();
  if (failure) throw failure;
  return Array.from({ length: channels }, (_, c) => joinFloat(parts.map((p) => p[c]!)));
}

describe('Opus packets joined into 120 ms code 3 packets', () => {
  it('decode to exactly the samples of the original packets (WebCodecs, libopus)', async () => {
    const parser = new CodecParser('audio/ogg', { enableFrameCRC32: false });
    const packets: Uint8Array[] = [];
    let header: OpusHeader | undefined;
    for (const page of parser.parseAll(await fixture('ogg-opus.opus')) as unknown as OggPage[]) {
      for (const frame of page.codecFrames as CodecFrame[]) {
        header ??= frame.header as OpusHeader;
        packets.push(frame.data);
      }
    }
    const joined = joinOpusPackets(packets);
    expect(joined.length).to.be.below(packets.length / 4);
    const one = await decodeOpus(packets, header!.data, header!.channels);
    const many = await decodeOpus(joined, header!.data, header!.channels);
    expect(many[0]!.length).to.equal(one[0]!.length);
    for (let c = 0; c < one.length; c++) {
      let differing = 0;
      for (let i = 0; i < one[c]!.length; i++) if (one[c]![i] !== many[c]![i]) differing++;
      expect(differing, `channel ${c}`).to.equal(0);
    }
  });
});
