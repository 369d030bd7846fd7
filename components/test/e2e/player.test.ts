// The element end to end: real server process, real WebRTC in Chromium, real audio output.
import { expect } from '@open-wc/testing';
import { sharedAudioContext } from '../../playback/audio-context.js';
import { PlayerController, PRELOAD_METADATA_BYTES } from '../../player-controller.js';
import type { RtcAudioPlayer } from '../../rtc-audio-player.js';
import {
  MUSIC,
  SHORT,
  type TestServer,
  activePeers,
  fileSha256,
  mount,
  sha256,
  sleep,
  startServer,
  stopServer,
  trackPeerConnections,
  waitFor,
} from './helpers.js';

/**
 * The stream starts with the preview: messages that end exactly at PRELOAD_METADATA_BYTES, the
 * first of them 8 KiB (the server sends a preview's first message small: FIRST_PREVIEW_MESSAGE_BYTES
 * in server/streaming/stream-session.ts).
 */
function expectPreviewFirst(offsets: readonly (readonly [number, number])[]): void {
  expect(offsets[0]).to.deep.equal([0, 8192]);
  let end = 0;
  for (const [offset, length] of offsets) {
    if (end >= PRELOAD_METADATA_BYTES) break;
    end = offset + length;
  }
  expect(end, 'the preview ends at its own size').to.equal(PRELOAD_METADATA_BYTES);
}

describe('<rtc-audio-player> end to end', () => {
  let server: TestServer;
  let player: RtcAudioPlayer | undefined;
  const peers = trackPeerConnections();

  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await stopServer(server);
  });
  afterEach(async () => {
    player?.remove();
    player = undefined;
    await waitFor('the server to release every peer', async () => (await activePeers(server)) === 0, 8000);
  });

  it('connects, buffers, plays; receives the file byte-exact; the audio clock and currentTime advance', async () => {
    const mounted = mount({ src: MUSIC, server, bufferSeconds: 2 });
    player = mounted.player;
    const { recorder } = mounted;
    expect(player.state).to.equal('idle');
    expect(Number.isNaN(player.duration)).to.equal(true);

    await player.play();
    expect(player.state).to.equal('playing');
    expect(recorder.states.slice(0, 5)).to.deep.equal(['idle', 'connecting', 'buffering', 'ready', 'playing']);
    expect(player.bufferProgress).to.equal(1);
    expect(player.paused).to.equal(false);
    expect(player.duration).to.be.closeTo(8, 0.1);

    const context = sharedAudioContext();
    const clock0 = context.currentTime;
    const time0 = player.currentTime;
    await sleep(800);
    expect(context.currentTime - clock0).to.be.greaterThan(0.5);
    expect(player.currentTime - time0).to.be.greaterThan(0.5);
    expect(player.currentTime - time0).to.be.lessThan(context.currentTime - clock0 + 0.1);

    await waitFor('the whole file', () => player!.stats.bytesReceived === 322917);
    expect(await sha256(recorder.received())).to.equal(await fileSha256(server, MUSIC));
    expect(player.bufferedSeconds).to.be.closeTo(8, 0.1);

    // Every start-up mark is there, in causal order.
    const t = player.timing;
    const order = ['playRequested', 'peerCreated', 'offerSent', 'answerReceived', 'channelOpen', 'metadata', 'firstChunk', 'firstDecoded', 'playing'] as const;
    for (let i = 1; i < order.length; i++) {
      expect(t[order[i]!], order[i]).to.be.a('number');
      expect(t[order[i]!]!, `${order[i - 1]} ≤ ${order[i]}`).to.be.at.least(t[order[i - 1]!]!);
    }
    expect(recorder.events).to.include.members(['play', 'playing', 'durationchange']);
    await waitFor('a progress event for the last byte', () => recorder.progress.at(-1)?.loaded === 322917);
    expect(recorder.progress.every((p) => p.total === 322917)).to.equal(true);
    expect(recorder.positions.length, 'timeupdate while playing').to.be.greaterThan(0);
    expect(recorder.monotonic()).to.equal(true);
    expect(player.stats.illegalTransitions).to.equal(0);
  });

  it('pause keeps the position and play resumes from it', async () => {
    ({ player } = mount({ src: MUSIC, server, bufferSeconds: 2 }));
    await player.play();
    await sleep(600);
    player.pause();
    expect(player.state).to.equal('paused');
    expect(player.paused).to.equal(true);
    const at = player.currentTime;
    await sleep(500);
    expect(player.currentTime).to.be.closeTo(at, 0.02);
    await player.play();
    expect(player.state).to.equal('playing');
    expect(player.currentTime).to.be.at.least(at);
    await sleep(400);
    expect(player.currentTime).to.be.greaterThan(at + 0.2);
  });

  it('stop() releases the connection and returns to position 0; play() starts over', async () => {
    ({ player } = mount({ src: MUSIC, server, bufferSeconds: 2, preload: 'auto' }));
    await waitFor('preload="auto" to fill the start buffer', () => player!.state === 'ready');
    expect(player.paused).to.equal(true);
    expect(await activePeers(server)).to.be.at.least(0);
    await player.play();
    player.stop();
    expect(player.state).to.equal('stopped');
    expect(player.currentTime).to.equal(0);
    await waitFor('activePeers 0 after stop()', async () => (await activePeers(server)) === 0, 8000);
    await player.play();
    expect(player.state).to.equal('playing');
  });

  it('preload="metadata" pre-connects (idle, metadata and the preview received and decoded) and play() only sends start', async () => {
    ({ player } = mount({ src: MUSIC, server, bufferSeconds: 2, preload: 'metadata' }));
    const offsets: [number, number][] = [];
    player.controller.chunkObserver = (bytes, fileOffset) => offsets.push([fileOffset, bytes.byteLength]);
    await waitFor('the pre-connection', async () => (await activePeers(server)) === 1 && player!.stats.bytesReceived === PRELOAD_METADATA_BYTES);
    await waitFor('the preview decoded', () => player!.timing.firstDecoded !== undefined);
    await sleep(300);
    expect(player.state).to.equal('idle');
    expect(player.stats.bytesReceived, 'the preview only, nothing more before play()').to.equal(PRELOAD_METADATA_BYTES);
    expect(player.bufferedSeconds).to.be.greaterThan(1);
    await player.play();
    const t = player.timing;
    expect(t.startSent).to.be.a('number');
    expect(t.peerCreated!).to.be.lessThan(t.playRequested!);
    expect(t.firstChunk!).to.be.lessThan(t.playRequested!);
    expect(t.firstDecoded!).to.be.lessThan(t.playRequested!);
    await waitFor('the stream after the preview', () => player!.timing.streamChunk !== undefined);
    expect(player.timing.streamChunk!).to.be.greaterThan(t.startSent!);
    // One contiguous stream from byte 0: the preview, then the rest right after it.
    let expected = 0;
    for (const [offset, length] of offsets) {
      expect(offset).to.equal(expected);
      expected += length;
    }
    expectPreviewFirst(offsets);
    expect(expected).to.be.greaterThan(PRELOAD_METADATA_BYTES);
  });

  it('a cold play() gets a preview first and lets the rest come once playback can start', async () => {
    ({ player } = mount({ src: MUSIC, server, bufferSeconds: 2 }));
    const offsets: [number, number][] = [];
    player.controller.chunkObserver = (bytes, fileOffset) => offsets.push([fileOffset, bytes.byteLength]);
    await player.play();
    const t = player.timing;
    expect(t.startSent, 'the held-back start').to.be.a('number');
    expect(t.firstChunk!).to.be.lessThan(t.startSent!);
    await waitFor('the stream after the preview', () => player!.timing.streamChunk !== undefined);
    expect(player.timing.streamChunk!).to.be.greaterThan(t.startSent!);
    expectPreviewFirst(offsets);
    let expected = 0;
    for (const [offset, length] of offsets) {
      expect(offset).to.equal(expected);
      expected += length;
    }
  });

  it('a track shorter than buffer-seconds starts once complete and plays to its end', async () => {
    const mounted = mount({ src: SHORT, server, bufferSeconds: 30 });
    player = mounted.player;
    await player.play();
    expect(player.stats.bytesReceived).to.equal(48945);
    await waitFor('ended', () => player!.state === 'ended', 8000);
    expect(player.currentTime).to.be.closeTo(3, 0.1);
    expect(player.paused).to.equal(true);
    expect(mounted.recorder.events.slice(-2)).to.deep.equal(['pause', 'ended']);
    expect(mounted.recorder.monotonic()).to.equal(true);
  });

  it('a new src and removal from the DOM tear the stream down', async () => {
    const mounted = mount({ src: MUSIC, server, bufferSeconds: 2 });
    player = mounted.player;
    await player.play();
    player.src = SHORT;
    await player.updateComplete;
    expect(player.state).to.equal('idle');
    expect(player.currentTime).to.equal(0);
    expect(mounted.recorder.events).to.include('emptied');
    await waitFor('activePeers 0 after a new src', async () => (await activePeers(server)) === 0, 8000);
    await player.play();
    player.remove();
    expect(player.state).to.equal('idle');
    await waitFor('activePeers 0 after removal', async () => (await activePeers(server)) === 0, 8000);
  });
  it('a pre-connection the server closes for idleness is dropped quietly; play() still works', async () => {
    const idleServer = await startServer({ DEFER_START_IDLE_MS: '1500' });
    try {
      const mounted = mount({ src: MUSIC, server: idleServer, bufferSeconds: 2, preload: 'metadata' });
      player = mounted.player;
      await waitFor('the pre-connection', () => player!.timing.metadata !== undefined);
      await waitFor('the server to close it', async () => (await activePeers(idleServer)) === 0, 8000);
      await sleep(1500); // no reconnect of a connection nobody listens to
      expect(await activePeers(idleServer)).to.equal(0);
      expect(player.state).to.equal('idle');
      expect(player.error).to.equal(null);
      expect(player.stats.bytesReceived, 'the preview').to.equal(PRELOAD_METADATA_BYTES);
      await player.play();
      expect(player.state).to.equal('playing');
      // A new connection resumed after the preview.
      await waitFor('bytes after the preview', () => player!.stats.bytesReceived > PRELOAD_METADATA_BYTES);
      player.remove();
      await waitFor('activePeers 0', async () => (await activePeers(idleServer)) === 0, 8000);
    } finally {
      await stopServer(idleServer);
    }
  });
  it('an unused pre-connection is closed after the idle timeout; play() reconnects', async () => {
    const saved = PlayerController.idlePreconnectMs;
    PlayerController.idlePreconnectMs = 300;
    try {
      ({ player } = mount({ src: MUSIC, server, bufferSeconds: 2, preload: 'metadata' }));
      await waitFor('the pre-connection', () => player!.timing.metadata !== undefined);
      await waitFor('the idle close', async () => (await activePeers(server)) === 0, 8000);
      expect(player.state).to.equal('idle');
      await player.play();
      expect(player.state).to.equal('playing');
      expect(player.timing.startSent, 'a new connection, not a start message').to.equal(undefined);
    } finally {
      PlayerController.idlePreconnectMs = saved;
    }
  });
  it('play() while the pre-connection is still opening joins it: one peer, one start message', async () => {
    let played: Promise<void> | undefined;
    const before = peers.created();
    // Right after the pre-connection's `new RTCPeerConnection`: its offer is not even made yet.
    peers.onNextCreated(() => {
      setTimeout(() => (played = player!.play()), 0);
    });
    ({ player } = mount({ src: MUSIC, server, bufferSeconds: 2, preload: 'metadata' }));
    await waitFor('the pre-connection to start', () => played !== undefined);
    await played;
    expect(player.state).to.equal('playing');
    expect(peers.created() - before, 'peers created').to.equal(1);
    expect(player.timing.startSent, 'started on the pre-connection').to.be.a('number');
    expect(player.timing.channelOpen!).to.be.greaterThan(player.timing.playRequested!);
  });
});
