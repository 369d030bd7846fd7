/**
 * The horizon bounds decoding, and memory stays flat however long the track: an hour-long stream
 * (built from independent 8 kHz MP3 frames) fed as fast as it decodes, with playback simulated
 * faster than real time, holds no more bytes or PCM than a 5-minute one.
 */
import { aTimeout, expect, waitUntil } from '@open-wc/testing';
import CodecParser from 'codec-parser';
import type { PcmBlock } from '../pcm.js';
import { fixture } from './decoder-test-support.js';
import { StreamDecoder } from './stream-decoder.js';

const HORIZON = 30;
const CHUNK = 16 * 1024;

/** The frames of a no-reservoir CBR file, repeated into a stream of `minutes`. */
async function longStream(minutes: number): Promise<Uint8Array> {
  const frames = new CodecParser('audio/mpeg', { enableFrameCRC32: false }).parseAll(await fixture('mp3-loop-8k.mp3'));
  const one = frames.map((f) => ('data' in f ? f.data : new Uint8Array(0)));
  const loopBytes = one.reduce((n, f) => n + f.length, 0);
  const loopSeconds = (frames.length * 576) / 8000;
  const loops = Math.ceil((minutes * 60) / loopSeconds);
  const out = new Uint8Array(loops * loopBytes);
  let at = 0;
  for (let l = 0; l < loops; l++) for (const f of one) out.set(f, at), (at += f.length);
  return out;
}

interface MemoryRun {
  seconds: number;
  maxHeldBytes: number;
  maxAheadSeconds: number;
  maxQueuedFrames: number;
  seekPoints: number;
  contiguous: boolean;
}

/**
 * Pushes while the decoder holds less than 4 chunks; "plays" 10 s whenever more than 25 s are
 * queued, moving the horizon to play position + 30 s, as the controller does.
 */
async function run(bytes: Uint8Array): Promise<MemoryRun> {
  let queuedFrames = 0; // emitted, not yet "played"
  let played = 0;
  let next = 0;
  let contiguous = true;
  let maxAhead = 0;
  let maxQueued = 0;
  let wake: (() => void) | undefined;
  const decoder = new StreamDecoder({
    mimeType: 'audio/mpeg',
    onPcm: (block: PcmBlock) => {
      contiguous &&= block.startFrame === next;
      next = block.startFrame + block.channels[0]!.length;
      queuedFrames += block.channels[0]!.length;
      maxAhead = Math.max(maxAhead, queuedFrames / 8000);
      wake?.();
    },
    onInfo: () => {},
    onError: (error) => {
      throw error;
    },
  });
  decoder.setHorizon(HORIZON);
  const playSome = () => {
    if (queuedFrames / 8000 > 25) {
      queuedFrames -= 10 * 8000;
      played += 10 * 8000;
      decoder.setHorizon(played / 8000 + HORIZON);
    }
  };
  for (let at = 0; at < bytes.length; ) {
    if (decoder.heldBytes < 4 * CHUNK) {
      decoder.push(bytes.subarray(at, at + CHUNK));
      at += CHUNK;
    } else {
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 20); // nothing decoding: playback still moves on
      });
      wake = undefined;
    }
    maxQueued = Math.max(maxQueued, decoder.queuedFrames);
    playSome();
  }
  const ended = decoder.end();
  let finished = false;
  void ended.then(() => (finished = true));
  while (!finished) {
    playSome();
    if (queuedFrames / 8000 <= 25) queuedFrames = 0, (played = next), decoder.setHorizon(played / 8000 + HORIZON);
    await new Promise((r) => setTimeout(r, 5));
  }
  const result = {
    seconds: decoder.decodedSeconds,
    maxHeldBytes: decoder.maxHeldBytes,
    maxAheadSeconds: maxAhead,
    maxQueuedFrames: maxQueued,
    seekPoints: decoder.seekPoints.length,
    contiguous,
  };
  decoder.destroy();
  return result;
}

describe('StreamDecoder: horizon and bounded memory', () => {
  it('decodes nothing past the horizon until it moves, then continues', async () => {
    const bytes = await longStream(2);
    const blocks: PcmBlock[] = [];
    const decoder = new StreamDecoder({ mimeType: 'audio/mpeg', onPcm: (b) => blocks.push(b), onInfo: () => {}, onError: (e) => blocks.push(e as never) });
    decoder.setHorizon(5);
    decoder.push(bytes);
    expect(decoder.receivedSeconds).to.be.within(120, 122); // every whole frame counts at once
    // Wait for the decoder to reach the horizon (slow on a loaded machine), then give it time to
    // overshoot if it were going to.
    const reaches = (seconds: number) =>
      waitUntil(() => decoder.decodedSeconds >= seconds, `decoded up to ${seconds} s`, { timeout: 20000 });
    // decodeAudioData segments (MP3 after 0.4 s) wait until a quarter of the horizon's lead
    // over the decoded audio fits below it (see StreamDecoder.#pump): they stop that far short.
    const frame = 576 / 8000;
    await reaches(5 - 5 / 4 - frame);
    await aTimeout(300);
    expect(decoder.decodedSeconds).to.be.within(5 - 5 / 4 - frame, 5 + frame);
    const lead = 20 - decoder.decodedSeconds;
    decoder.setHorizon(20);
    await reaches(20 - lead / 4 - frame);
    await aTimeout(300);
    expect(decoder.decodedSeconds).to.be.within(20 - lead / 4 - frame, 20 + frame);
    const ended = decoder.end();
    decoder.setHorizon(1e9);
    await ended;
    expect(decoder.decodedSeconds).to.be.closeTo(decoder.receivedSeconds, 1e-9);
    decoder.destroy();
  });

  it('60 minutes hold no more compressed bytes or PCM than 5 minutes', async () => {
    const five = await run(await longStream(5));
    const sixty = await run(await longStream(60));
    console.log('memory 5 min', JSON.stringify(five), '60 min', JSON.stringify(sixty));
    expect(sixty.contiguous && five.contiguous).to.equal(true);
    expect(sixty.seconds).to.be.at.least(3600);
    expect(five.seconds).to.be.at.least(300);
    // Bytes: what the feeder allows plus one chunk, independent of the length.
    expect(sixty.maxHeldBytes).to.be.at.most(5 * CHUNK);
    expect(sixty.maxHeldBytes).to.be.at.most(five.maxHeldBytes * 1.1 + 1024);
    // PCM: never more than the horizon ahead of the play position (plus a frame).
    expect(sixty.maxAheadSeconds).to.be.at.most(HORIZON + 576 / 8000);
    expect(sixty.maxAheadSeconds).to.be.at.most(five.maxAheadSeconds + 0.1);
    // The only per-track growth: one seek point per second.
    expect(sixty.seekPoints).to.be.within(3590, 3700);
  });
});
