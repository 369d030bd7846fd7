/**
 * The real server process (server/main.ts, spawned): peers and their fds/threads return to
 * baseline after many listeners, and SIGTERM with live peers tells them and exits cleanly.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
// @ts-expect-error plain JS harness module without type declarations
import { processStats, startServer } from './testing/server-process.mjs';
import { fakeMp3, sha256, tempLibrary, type TempLibrary } from './testing/fixtures';
import { streamResuming, TestClient } from './testing/wrtc-client';

interface Spawned {
  url: string;
  child: { pid: number };
  stop(signal?: string): Promise<{ code: number | null; signal: string | null }>;
}
type Stats = { fds: number; files: number; threads: number; rssKb: number };
const stats = processStats as (pid: number) => Stats;
const spawn = startServer as (options: { env: Record<string, string> }) => Promise<Spawned>;

let lib: TempLibrary;
const small = fakeMp3(200_000);

before(async () => {
  lib = await tempLibrary();
  await lib.write('small.mp3', small);
  await lib.write('long.mp3', fakeMp3(4_000_000));
});

after(() => lib.remove());

async function health(url: string): Promise<{ activePeers: number; peerProcessRestarts: number }> {
  return (await (await fetch(`${url}/api/health`)).json()) as { activePeers: number; peerProcessRestarts: number };
}

async function until(predicate: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('after 50 listeners (streamed to the end or left mid-stream) activePeers is 0 and fds/threads are back near baseline', async () => {
  const server = await spawn({ env: { AUDIO_DIR: lib.dir, RTC_TEST_HOOKS: '0' } });
  try {
    let resumes = 0;
    const run = async (leaveEarly: boolean) => {
      if (!leaveEarly) {
        // A listener that completes resumes after a drop, as the element does: @roamhq/wrtc can
        // crash its peer process (a race in RTCDataChannel::Send when a leaver's channel closes),
        // which the server contains and the clients ride out; a hang is still a failure.
        const stream = await streamResuming(server.url, { src: 'small.mp3', timeoutMs: 20_000 });
        resumes += stream.resumes;
        assert.equal(stream.ended, 'complete', `ended ${stream.ended} after ${stream.resumes} resumes and ${stream.bytes.length} bytes`);
        assert.equal(sha256(stream.bytes), sha256(small), 'resumed byte-exact');
        return;
      }
      const client = new TestClient(server.url, { src: 'long.mp3', timeoutMs: 20_000 });
      try {
        await client.connect();
        await client.until(() => client.result.chunks.length > 0);
      } finally {
        client.close();
      }
    };
    await run(false); // warm-up: wrtc's shared threads exist from here on
    await until(async () => (await health(server.url)).activePeers === 0, 5000);
    const baseline = stats(server.child.pid);
    for (let batch = 0; batch < 5; batch++) {
      await Promise.all(Array.from({ length: 10 }, (_, i) => run(i % 3 === 0)));
    }
    const restarts = (await health(server.url)).peerProcessRestarts;
    console.log(`listeners resumed ${resumes} times; peer process restarts ${restarts}`);
    assert.ok(resumes === 0 || restarts > 0, `${resumes} resumes without a peer process crash`);
    const started = Date.now();
    await until(async () => (await health(server.url)).activePeers === 0, 5000);
    const settleMs = Date.now() - started;
    // wrtc frees a closed peer's threads/sockets when its wrapper is collected (NativeReclaimer).
    const peak = stats(server.child.pid);
    const near = (s: Stats) => s.fds <= baseline.fds + 4 && s.threads <= baseline.threads + 4;
    await until(async () => near(stats(server.child.pid)), 8000).catch(() => undefined);
    const reclaimMs = Date.now() - started - settleMs;
    const now = stats(server.child.pid);
    console.log(
      `leak check: baseline ${JSON.stringify(baseline)}; right after 50 peers ${JSON.stringify(peak)}; ` +
        `${reclaimMs} ms later ${JSON.stringify(now)}; activePeers 0 after ${settleMs} ms`,
    );
    assert.ok(now.fds <= baseline.fds + 4, `fds ${baseline.fds} → ${now.fds}`);
    assert.ok(now.files <= baseline.files, `open files ${baseline.files} → ${now.files}`);
    assert.ok(now.threads <= baseline.threads + 4, `threads ${baseline.threads} → ${now.threads}`);
  } finally {
    await server.stop('SIGTERM');
  }
});

test('SIGTERM with live peers: clients hear SHUTTING_DOWN, the process exits 0 without a crash', async () => {
  const server = await spawn({ env: { AUDIO_DIR: lib.dir, PACE_CHUNKS_PER_SECOND: '2', BURST_BYTES: '0' } });
  const clients = Array.from({ length: 3 }, () => new TestClient(server.url, { src: 'long.mp3', timeoutMs: 15_000 }));
  try {
    await Promise.all(clients.map((client) => client.connect()));
    await Promise.all(clients.map((client) => client.until(() => client.result.chunks.length > 0)));
    const exit = await server.stop('SIGTERM');
    assert.deepEqual(exit, { code: 0, signal: null });
    for (const client of clients) {
      const result = await client.done;
      const last = result.messages.at(-1);
      assert.equal(last?.type === 'error' ? last.code : result.ended, 'SHUTTING_DOWN');
    }
  } finally {
    for (const client of clients) client.close();
    await server.stop('SIGKILL');
  }
});
