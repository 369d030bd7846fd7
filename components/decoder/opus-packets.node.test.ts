/** Opus repacketization (RFC 6716 §3.2) on real libopus packets and on hand-made ones. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import CodecParser from 'codec-parser';
import type { CodecFrame, OggPage } from 'codec-parser';
import { joinOpusPackets, opusFrames, opusFrameSamples } from './opus-packets.js';

function oggOpusPackets(name: string): Uint8Array[] {
  const bytes = new Uint8Array(readFileSync(new URL(`../test/fixtures/${name}`, import.meta.url)));
  const parser = new CodecParser('audio/ogg', { enableFrameCRC32: false });
  const packets: Uint8Array[] = [];
  for (const page of parser.parseAll(bytes) as unknown as OggPage[]) {
    for (const frame of page.codecFrames as CodecFrame[]) packets.push(frame.data);
  }
  return packets;
}

const samplesOf = (packet: Uint8Array): number => opusFrames(packet)!.length * opusFrameSamples(packet[0]!);
const allFrames = (packets: Uint8Array[]): number[][] => packets.flatMap((p) => opusFrames(p)!.map((f) => [p[0]! & 0xfc, ...f]));

describe('joinOpusPackets', () => {
  it('libopus 20 ms packets: same frames, same TOC, in 120 ms code 3 packets', () => {
    const packets = oggOpusPackets('ogg-opus.opus');
    assert.ok(packets.length > 50);
    const joined = joinOpusPackets(packets);
    assert.deepEqual(allFrames(joined), allFrames(packets));
    assert.equal(joined.reduce((n, p) => n + samplesOf(p), 0), packets.reduce((n, p) => n + samplesOf(p), 0));
    for (const packet of joined) assert.ok(samplesOf(packet) <= 5760, 'at most 120 ms per packet');
    assert.ok(joined.length * 5 < packets.length * 1.2, `${packets.length} packets became ${joined.length}`);
  });

  it('splits where the configuration changes and passes lone or malformed packets through untouched', () => {
    const a = Uint8Array.of(0xfc, 1, 2, 3); // CELT FB 20 ms, stereo, code 0
    const b = Uint8Array.of(0xfc, 4, 5);
    const mono = Uint8Array.of(0xf8, 6); // same config, mono flag differs
    const badCode1 = Uint8Array.of(0xfd, 1, 2, 3); // code 1 needs an even body
    const out = joinOpusPackets([a, b, mono, badCode1, a]);
    assert.equal(out.length, 4);
    assert.deepEqual([...out[0]!], [0xff, 0x82, 3, 1, 2, 3, 4, 5]); // code 3 VBR, 2 frames, first 3 bytes long
    assert.equal(out[1], mono);
    assert.equal(out[2], badCode1);
    assert.equal(out[3], a);
  });

  it('two-byte frame lengths, code 1/2/3 inputs and padding round-trip', () => {
    const long = new Uint8Array(700).map((_, i) => i & 0xff);
    const code0 = Uint8Array.of(0x70, ...long); // config 14: hybrid FB 10 ms (7 frames fit in 120 ms)
    const code1 = Uint8Array.of(0x71, 9, 9, 8, 8);
    const code2 = Uint8Array.of(0x72, 2, 7, 7, 6, 6, 6);
    const code3 = Uint8Array.of(0x73, 0xc2, 2, 1, 5, 4, 4, 0, 0); // VBR + 2 bytes of padding, 2 frames
    assert.deepEqual(opusFrames(code3)!.map((f) => [...f]), [[5], [4, 4]]);
    const joined = joinOpusPackets([code0, code1, code2, code3]);
    assert.equal(joined.length, 1);
    assert.deepEqual(allFrames(joined), allFrames([code0, code1, code2, code3]));
  });

  it('never exceeds 120 ms: 60 ms SILK packets go two by two', () => {
    const p60 = Uint8Array.of(0x18, 1); // SILK NB 60 ms, code 0
    const joined = joinOpusPackets([p60, p60, p60, p60, p60]);
    assert.deepEqual(joined.map(samplesOf), [5760, 5760, 2880]);
  });
});
