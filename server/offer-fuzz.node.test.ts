/**
 * Mutated SDP offers (lines dropped, duplicated, values replaced by junk) must never crash the
 * process (wrtc segfaults on some inputs): each is answered 200 or 400 BAD_OFFER, and every
 * peer they created is closed again. Deterministic: a fixed-seed generator.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { parseErrorBody } from '../components/protocol';
import { fakeMp3, tempLibrary, type TempLibrary } from './testing/fixtures';
import { startTestServer, type TestServer } from './testing/in-process-server';
import { makeOfferSdp } from './testing/wrtc-client';

let lib: TempLibrary;
let server: TestServer;

before(async () => {
  lib = await tempLibrary();
  await lib.write('a.mp3', fakeMp3(1000));
  server = await startTestServer({ AUDIO_DIR: lib.dir, RATE_LIMIT_PER_IP: '0', CHANNEL_OPEN_TIMEOUT_MS: '500' });
});

after(async () => {
  await server.close();
  await lib.remove();
});

function generator(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
}

test('100 mutated offers: only 200 or 400 BAD_OFFER, the process survives, no peer is left', async () => {
  const lines = (await makeOfferSdp()).split('\r\n').filter(Boolean);
  const random = generator(42);
  const junk = ['', '0', '-1', '99999999999999999999', 'x'.repeat(5000), '\u0000', `sha-256 ${'AB:'.repeat(200)}`, '::', '*'];
  const statuses = new Map<number, number>();
  for (let i = 0; i < 100; i++) {
    const mutated = [...lines];
    for (let k = 0, ops = 1 + Math.floor(random() * 3); k < ops; k++) {
      const at = 1 + Math.floor(random() * (mutated.length - 1));
      const keep = mutated[at]!.startsWith('m=application'); // else it is refused before wrtc sees it
      const value = junk[Math.floor(random() * junk.length)]!;
      switch (Math.floor(random() * 4)) {
        case 0:
          if (!keep) mutated.splice(at, 1);
          break;
        case 1:
          mutated.splice(at, 0, mutated[at]!);
          break;
        case 2:
          if (!keep) mutated[at] = mutated[at]!.replace(/:(.*)$/, `:${value}`);
          break;
        default:
          mutated.splice(at, 0, `a=${value}`);
      }
    }
    const response = await fetch(`${server.url}/api/offer`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ offer: { type: 'offer', sdp: `${mutated.join('\r\n')}\r\n` }, clientId: 'fuzz', src: 'a.mp3' }),
    });
    const body: unknown = await response.json();
    statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
    if (response.status !== 200) {
      assert.equal(response.status, 400, JSON.stringify(body));
      assert.equal(parseErrorBody(body)?.code, 'BAD_OFFER');
    }
  }
  assert.ok((statuses.get(400) ?? 0) > 0 && (statuses.get(200) ?? 0) > 0, JSON.stringify([...statuses]));
  // Answered offers whose client never connects are closed by the channel-open timeout.
  const deadline = Date.now() + 5000;
  while (server.peers.activePeers > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(server.peers.activePeers, 0);
});
