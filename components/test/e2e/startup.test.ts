// Start-up through the element, measured (never asserted on speed): for several runs, the
// element's own `timing` marks and the first audible sample from an output tap. The medians are
// printed in the browser log; `npm run bench` is the place for the side-by-side with <audio>.
import { expect } from '@open-wc/testing';
import { sharedAudioContext } from '../../playback/audio-context.js';
import type { PlayerTiming } from '../../player-controller.js';
import { createOutputTap, type OutputTap } from '../output-tap.js';
import { MUSIC, type TestServer, activePeers, mount, startServer, stopServer, waitFor } from './helpers.js';

const RUNS = 7;
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

interface Run {
  timing: PlayerTiming;
  audible: number;
}

describe('<rtc-audio-player> start-up (measured)', () => {
  let server: TestServer;

  before(async () => {
    server = await startServer();
    // Load the recorder's worklet module once, so a tap attaches before an engine's first sample.
    const context = sharedAudioContext();
    (await createOutputTap(context, new GainNode(context))).close();
  });
  after(async () => {
    await stopServer(server);
  });

  async function run(preload: 'none' | 'metadata', bufferSeconds: number): Promise<Run> {
    const { player } = mount({ src: MUSIC, server, bufferSeconds, preload });
    let tap: Promise<OutputTap> | undefined;
    player.controller.outputObserver = (output) => {
      tap = createOutputTap(sharedAudioContext(), output, { maxSeconds: 5 });
    };
    try {
      // The pre-connection is ready once its preview is decoded (metadata alone races the preview).
      if (preload === 'metadata') await waitFor('the pre-connection', () => player.timing.firstDecoded !== undefined);
      await player.play();
      const recorder = await tap!;
      const audible = await recorder.whenAudible();
      recorder.close();
      // After a preview the stream proper may still be on its way when the first sample sounds.
      await waitFor('the stream after start', () => player.timing.streamChunk !== undefined);
      return { timing: player.timing, audible: audible.pageTime };
    } finally {
      player.remove();
      await waitFor('activePeers 0', async () => (await activePeers(server)) === 0, 8000);
    }
  }

  function report(label: string, runs: Run[], from: 'peerCreated' | 'playRequested'): Record<string, number> {
    const marks = ['channelOpen', 'firstChunk', 'streamChunk', 'firstDecoded', 'playing'] as const;
    const row: Record<string, number> = {};
    for (const mark of marks) row[mark] = median(runs.map((r) => r.timing[mark]! - r.timing[from]!));
    row.audible = median(runs.map((r) => r.audible - r.timing[from]!));
    console.log(`${label} (ms from ${from}, median of ${runs.length}): ${JSON.stringify(row, (_k, v: unknown) => (typeof v === 'number' ? Math.round(v * 10) / 10 : v))}`);
    return row;
  }

  it('cold (preload="none") and pre-connected (preload="metadata") starts', async () => {
    const cold: Run[] = [];
    const warm: Run[] = [];
    for (let i = 0; i < RUNS; i++) {
      cold.push(await run('none', 10));
      warm.push(await run('metadata', 10));
    }
    const coldRow = report('cold, buffer-seconds 10', cold, 'peerCreated');
    report('cold, buffer-seconds 10', cold, 'playRequested');
    const warmRow = report('preload=metadata, buffer-seconds 10', warm, 'playRequested');
    // Causal order of what follows play(). A pre-connection's channel opened, and its preview
    // arrived and was decoded, before it, by design; only the stream after the preview follows it.
    for (const row of [coldRow, warmRow]) {
      expect(row.firstDecoded).to.be.at.least(row.firstChunk!);
      expect(row.playing).to.be.at.least(row.firstDecoded!);
      expect(row.audible).to.be.at.least(row.playing!);
      expect(row.streamChunk).to.be.greaterThan(0);
    }
    expect(coldRow.channelOpen).to.be.greaterThan(0);
    expect(coldRow.firstChunk).to.be.greaterThan(0);
    expect(warmRow.channelOpen).to.be.lessThan(0);
    expect(warmRow.firstChunk).to.be.lessThan(0);
    expect(warmRow.firstDecoded).to.be.lessThan(0);
  });
});
