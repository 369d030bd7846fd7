// What the listener hears, through the element: the engine's output, tapped, equals a one-shot
// decode of the file, with no gap, also when the connection dropped and resumed mid-stream.
import { expect } from '@open-wc/testing';
import { sharedAudioContext } from '../../playback/audio-context.js';
import type { RtcAudioPlayer } from '../../rtc-audio-player.js';
import { alignedCorrelation, createOutputTap, longestInnerZeroRun, nonZeroRange, type OutputTap } from '../output-tap.js';
import { MUSIC, type TestServer, activePeers, mount, setFaults, slowPacing, startServer, stopServer, waitFor } from './helpers.js';

describe('<rtc-audio-player> output', () => {
  let server: TestServer;
  let player: RtcAudioPlayer | undefined;
  let reference: Float32Array;
  let taps: OutputTap[] = [];

  before(async () => {
    server = await startServer(slowPacing(4));
    const context = sharedAudioContext();
    const file = await (await fetch(`${server.url}/media/${MUSIC}`)).arrayBuffer();
    reference = (await context.decodeAudioData(file)).getChannelData(0).slice();
  });
  after(async () => {
    await stopServer(server);
  });
  afterEach(async () => {
    for (const tap of taps) {
      // The player released its engine at `ended`, which already disconnected the tapped node.
      try {
        tap.close();
      } catch (error) {
        if (!(error instanceof DOMException && error.name === 'InvalidAccessError')) throw error;
      }
    }
    taps = [];
    player?.remove();
    player = undefined;
    await waitFor('activePeers 0', async () => (await activePeers(server)) === 0, 8000);
  });

  /** Plays the whole track through a player whose output is tapped from its first sample. */
  async function playTapped(): Promise<Float32Array> {
    const context = sharedAudioContext();
    const mounted = mount({ src: MUSIC, server, bufferSeconds: 2 });
    player = mounted.player;
    let tap: Promise<OutputTap> | undefined;
    player.controller.outputObserver = (output) => {
      tap = createOutputTap(context, output, { maxSeconds: 12 });
    };
    await player.play();
    await waitFor('ended', () => player!.state === 'ended', 15000);
    const recorder = await tap!;
    taps.push(recorder);
    await recorder.flush();
    return recorder.samples()[0]!;
  }

  function expectSameAsFile(out: Float32Array): void {
    const { correlation } = alignedCorrelation(out, reference);
    const [outFirst, outEnd] = nonZeroRange(out);
    const [refFirst, refEnd] = nonZeroRange(reference);
    expect(correlation, 'aligned correlation with a one-shot decode').to.be.at.least(0.999);
    expect(longestInnerZeroRun(out).length, 'no dropout inside the audio').to.be.lessThan(32);
    // Played length within one MP3 frame (1152 samples at the file's rate) of the reference.
    const frame = Math.ceil((1152 * sharedAudioContext().sampleRate) / 44100);
    expect(Math.abs(outEnd - outFirst - (refEnd - refFirst))).to.be.at.most(frame);
  }

  it('plays the file as a one-shot decode of it sounds', async () => {
    expectSameAsFile(await playTapped());
  });

  it('a mid-stream drop shorter than the buffer leaves no audible trace', async () => {
    await setFaults(server, { closeAfterBytes: 100000 });
    const out = await playTapped();
    expect(player!.stats.reconnects).to.be.at.least(1);
    expectSameAsFile(out);
  });
});
