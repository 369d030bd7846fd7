/**
 * The crash pattern of the bench's start-up section (many short-lived peers whose client goes
 * away at every moment), against the real server process: the HTTP server must survive it, and
 * must survive its peer process dying of SIGSEGV (what @roamhq/wrtc's RTCDataChannel::Send does
 * when a remote close lands on wrtc's signaling thread during a send: a native race that no
 * JavaScript guard closes, so the peers live in a supervised child process).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
// @ts-expect-error plain JS harness module without type declarations
import { startServer } from '../testing/server-process.mjs';
import { fakeMp3, tempLibrary, type TempLibrary } from '../testing/fixtures';
import { HttpAnswerError, TestClient } from '../testing/wrtc-client';

interface Spawned {
  url: string;
  child: { pid: number; exitCode: number | null; signalCode: string | null };
  stop(signal?: string): Promise<{ code: number | null; signal: string | null }>;
}
interface Health {
  status: string;
  activePeers: number;
  peersCreated: number;
  peerProcessPid?: number;
  peerProcessRestarts?: number;
  closeReasons: Record<string, number>;
}
const spawn = startServer as (options: { env: Record<string, string> }) => Promise<Spawned>;

let lib: TempLibrary;
before(async () => {
  lib = await tempLibrary();
  await lib.write('long.mp3', fakeMp3(3_000_000));
  await lib.write('small.mp3', fakeMp3(150_000));
});
after(() => lib.remove());

async function health(url: string): Promise<Health> {
  return (await (await fetch(`${url}/api/health`)).json()) as Health;
}

async function until(predicate: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(50);
  }
}

const alive = (server: Spawned) => server.child.exitCode === null && server.child.signalCode === null;

/** How a client leaves: every moment the bench's pages (and real users) leave at. */
const LEAVES = ['during-connect', 'before-answer', 'right-after-open', 'mid-stream', 'waiting-for-start', 'peer-only'] as const;

async function shortLived(url: string, leave: (typeof LEAVES)[number]): Promise<void> {
  const client = new TestClient(url, { src: 'long.mp3', deferStart: leave === 'waiting-for-start', timeoutMs: 5000 });
  if (leave === 'before-answer') client.options.beforeAnswer = async () => client.pc.close();
  const leavesEarly = leave === 'during-connect' || leave === 'before-answer';
  const connecting = client.connect().catch((error: unknown) => {
    // A client that closed itself mid-connect fails its own calls; 503 while the peer process
    // restarts is an answer too; nothing else is expected.
    if (!leavesEarly && !(error instanceof HttpAnswerError && error.status === 503)) throw error;
  });
  try {
    if (leave === 'during-connect') {
      await sleep(Math.random() * 20);
      return;
    }
    await connecting;
    await client.until(() => client.channel.readyState === 'open', 3000).catch(() => undefined);
    if (leave === 'right-after-open') return;
    if (leave === 'mid-stream') await client.until(() => client.result.chunks.length > Math.random() * 8, 3000).catch(() => undefined);
    // Around the server's 400 ms deferStart idle timeout: some leave first, some are closed by it.
    else await sleep(Math.random() * (leave === 'waiting-for-start' ? 700 : 300));
  } finally {
    if (leave === 'peer-only') client.pc.close();
    else client.close();
    await connecting;
  }
}

test('short-lived peers leaving at every moment: the server lives, answers health, and holds no peer afterwards', async () => {
  const server = await spawn({
    env: { AUDIO_DIR: lib.dir, RATE_LIMIT_PER_IP: '0', DEFER_START_IDLE_MS: '400', CHANNEL_OPEN_TIMEOUT_MS: '1500', DISCONNECT_GRACE_MS: '500' },
  });
  try {
    for (let round = 0; round < 4; round++) {
      await Promise.all(LEAVES.flatMap((leave) => [shortLived(server.url, leave), shortLived(server.url, leave)]));
      assert.ok(alive(server), `the server process died in round ${round}`);
      assert.equal((await health(server.url)).status, 'ok');
    }
    await until(async () => (await health(server.url)).activePeers === 0, 15_000, 'activePeers back to 0');
    // Still serving: a whole stream after the churn.
    const client = new TestClient(server.url, { src: 'small.mp3', timeoutMs: 10_000 });
    try {
      assert.equal((await client.stream()).ended, 'complete');
    } finally {
      client.close();
    }
    const end = await health(server.url);
    console.log(`churn: ${end.peersCreated} peers, peer process restarts ${end.peerProcessRestarts}, reasons ${JSON.stringify(end.closeReasons)}`);
    assert.ok(end.peersCreated >= 4 * LEAVES.length * 2 - 8, `peers created: ${end.peersCreated}`);
    assert.ok(alive(server));
  } finally {
    await server.stop('SIGTERM');
  }
});

test('the peer process dying of SIGSEGV mid-stream costs its streams only: the HTTP server answers, respawns it, streams again', async () => {
  const server = await spawn({ env: { AUDIO_DIR: lib.dir, PACE_CHUNKS_PER_SECOND: '2', BURST_BYTES: '0', RATE_LIMIT_PER_IP: '0' } });
  const streaming = new TestClient(server.url, { src: 'long.mp3', timeoutMs: 15_000 });
  try {
    await streaming.connect();
    await streaming.until(() => streaming.result.chunks.length > 0);
    const before = await health(server.url);
    assert.equal(before.activePeers, 1);
    assert.ok(before.peerProcessPid !== undefined && before.peerProcessPid !== server.child.pid, 'peers live in a child process');
    process.kill(before.peerProcessPid, 'SIGSEGV');

    // The client's stream is lost (it notices by its stall timer and resumes from its offset).
    await until(async () => (await health(server.url)).peerProcessRestarts === 1, 5000, 'the death noticed');
    assert.ok(alive(server), 'the HTTP server process survived');
    const during = await health(server.url);
    assert.equal(during.status, 'ok');
    assert.equal(during.activePeers, 0);

    await until(async () => {
      const now = await health(server.url);
      return now.peerProcessRestarts === 1 && now.peerProcessPid !== undefined && now.peerProcessPid !== before.peerProcessPid;
    }, 10_000, 'peer process respawned');
    const after = await health(server.url);
    assert.equal(after.closeReasons['process-died'], 1, 'the lost stream is counted');

    // Offers work again (the first may still get 503 + Retry-After while the process starts).
    let complete = false;
    for (let attempt = 0; attempt < 10 && !complete; attempt++) {
      const client = new TestClient(server.url, { src: 'small.mp3', timeoutMs: 10_000 });
      try {
        complete = (await client.stream()).ended === 'complete';
      } catch (error) {
        if (!(error instanceof HttpAnswerError && error.status === 503 && error.headers.get('Retry-After') !== null)) throw error;
        await sleep(500);
      } finally {
        client.close();
      }
    }
    assert.ok(complete, 'a stream completes after the respawn');
    assert.ok(alive(server));
  } finally {
    streaming.close();
    const exit = await server.stop('SIGTERM');
    assert.deepEqual(exit, { code: 0, signal: null }, 'clean exit, peer process included');
  }
});
