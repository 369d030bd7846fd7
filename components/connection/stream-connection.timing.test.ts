/// <reference types="mocha" />
// Where a StreamConnection's set-up time goes, against the real server: prints medians of 12 runs
// (after one warm-up) of each mark, in ms from `new RTCPeerConnection`, and the first-chunk
// latency of start() on a preconnected (deferStart) channel. Asserts only that every run yields
// every mark in order — speed is reported, never asserted (the bench compares it with native).
import { expect } from '@open-wc/testing';
import { StreamConnection, type ConnectionMark } from './stream-connection.js';
import { Recorder, TONE, activePeers, startServer, stopServer, waitFor, type TestServer } from './test-server.js';

const RUNS = 12;
/** Strictly one after the other. */
const CHAIN: ConnectionMark[] = ['offerCreated', 'offerSent', 'answerReceived', 'channelOpen', 'metadata', 'firstChunk'];
/** After answerReceived, in an order the browser decides (ICE may connect before setRemoteDescription resolves). */
const CONCURRENT: ConnectionMark[] = ['remoteDescriptionSet', 'iceConnected', 'peerConnected'];

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const p95 = (values: number[]) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.ceil(values.length * 0.95) - 1)]!;

describe('StreamConnection set-up timing (real server)', function () {
  this.timeout(120000);
  let server: TestServer;

  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await stopServer(server);
  });

  it(`measures each step, median of ${RUNS} runs`, async () => {
    const samples = new Map<string, number[]>();
    const add = (name: string, value: number) => samples.set(name, [...(samples.get(name) ?? []), value]);
    for (let run = 0; run <= RUNS; run += 1) {
      const recorder = new Recorder();
      const connection = new StreamConnection({ server: server.url, src: TONE, clientId: crypto.randomUUID() }, recorder);
      await connection.open();
      expect((await recorder.ended).kind).to.equal('complete');
      const { timing } = connection;
      const t0 = timing.peerCreated!;
      let previous = t0;
      for (const mark of CHAIN) {
        const at = timing[mark];
        expect(at, mark).to.be.a('number');
        expect(at!, mark).to.be.at.least(previous);
        previous = at!;
      }
      expect(timing.remoteDescriptionSet).to.be.at.least(timing.answerReceived!);
      if (run > 0) for (const mark of CHAIN) add(mark, timing[mark]! - t0);
      // The state-change events can come after the stream is done (and its handlers detached)
      // on a loaded machine: count them when they came.
      for (const mark of CONCURRENT) {
        const at = timing[mark];
        if (at === undefined) continue;
        expect(at, mark).to.be.at.least(timing.answerReceived!);
        if (run > 0) add(mark, at - t0);
      }
      const answer = connection.serverTiming.find((metric) => metric.name === 'answer')?.duration;
      if (run > 0 && answer !== undefined) add('server answer (Server-Timing)', answer);
      if (run > 0) add('HTTP round trip incl. server', timing.answerReceived! - timing.offerSent!);
      connection.close();
    }

    // Preconnected: the channel is open and metadata is in; the user presses play.
    for (let run = 0; run <= RUNS; run += 1) {
      const recorder = new Recorder();
      const connection = new StreamConnection({ server: server.url, src: TONE, clientId: crypto.randomUUID(), deferStart: true }, recorder);
      await connection.open();
      const startedAt = performance.now();
      connection.start();
      expect((await recorder.ended).kind).to.equal('complete');
      if (run > 0) add('preconnected: start() → firstChunk', connection.timing.firstChunk! - startedAt);
      connection.close();
    }

    const rows = [...samples].map(([name, values]) => `| ${name} | ${median(values).toFixed(1)} | ${p95(values).toFixed(1)} |`);
    console.log(['', `StreamConnection set-up, ms from new RTCPeerConnection (median / p95 of ${RUNS}, after 1 warm-up)`, '| step | median | p95 |', '|---|---|---|', ...rows].join('\n'));
    await waitFor('activePeers to return to 0', async () => (await activePeers(server)) === 0, 8000);
  });
});
