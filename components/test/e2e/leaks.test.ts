// Nothing leaks (issue 4): 50 players created, played and removed leave the server with no peer
// and its file handles and threads back at their baseline, and the page with no open
// RTCPeerConnection, no playback engine and no timers of theirs.
import { expect } from '@open-wc/testing';
import { executeServerCommand } from '@web/test-runner-commands';
import { liveEngineCount } from '../../playback/audio-context.js';
import type { RtcAudioPlayer } from '../../rtc-audio-player.js';
import { MUSIC, type TestServer, activePeers, mount, startServer, stopServer, trackPeerConnections, waitFor } from './helpers.js';

interface ServerStats {
  fds: number;
  threads: number;
  rssKb: number;
}

const stats = async (server: TestServer) => (await executeServerCommand('server-stats', { id: server.id })) as ServerStats;

describe('<rtc-audio-player> resources', () => {
  let server: TestServer;
  const peers = trackPeerConnections();

  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await stopServer(server);
  });

  async function playAndRemove(count: number): Promise<void> {
    const players: RtcAudioPlayer[] = [];
    for (let i = 0; i < count; i++) players.push(mount({ src: MUSIC, server, bufferSeconds: 1 }).player);
    await Promise.all(players.map((player) => player.play()));
    for (const player of players) expect(player.state).to.be.oneOf(['playing', 'waiting']);
    for (const player of players) player.remove();
  }

  it('50 players (after a warm-up batch) created, played and removed: no peer, handle, thread or engine left', async () => {
    // Warm-up at the same concurrency: wrtc keeps threads and sockets sized by the peak number of
    // peers it held at once (not per peer ever made), so the baseline is taken after one batch.
    await playAndRemove(10);
    await waitFor('activePeers 0 after warm-up', async () => (await activePeers(server)) === 0, 10000);
    const baseline = await stats(server);

    for (let batch = 0; batch < 5; batch++) await playAndRemove(10);
    expect(peers.created()).to.equal(60);
    expect(peers.open(), 'open RTCPeerConnections in the page').to.equal(0);
    expect(liveEngineCount(), 'live playback engines').to.equal(0);

    await waitFor('activePeers 0', async () => (await activePeers(server)) === 0, 15000);
    // A closed wrtc peer gives its sockets and threads back only when Node collects its object, so
    // up to one batch's worth (~4 fds and 2 threads each, measured) may linger on an idle server;
    // a leak of the 50 would hold ~13 fds and 2 threads each (webrtc-testing.md), far above this.
    const slack = { fds: 10 * 4 + 5, threads: 10 * 2 + 4 };
    let after = await stats(server);
    await waitFor('fds and threads back near baseline', async () => {
      after = await stats(server);
      return after.fds <= baseline.fds + 4 && after.threads <= baseline.threads + 2;
    }, 5000).catch(() => undefined);
    console.log(`server baseline fds ${baseline.fds} threads ${baseline.threads}; after 50 players fds ${after.fds} threads ${after.threads}`);
    expect(after.fds).to.be.at.most(baseline.fds + slack.fds);
    expect(after.threads).to.be.at.most(baseline.threads + slack.threads);
  });
});
