/** The test-only fault hooks (RTC_TEST_HOOKS=1) do what the brief's contract says. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { parseErrorBody } from '../components/protocol';
import { fakeMp3, tempLibrary, type TempLibrary } from './testing/fixtures';
import { startTestServer, type TestServer } from './testing/in-process-server';
import { makeOfferSdp, streamTrack, TestClient } from './testing/wrtc-client';

let lib: TempLibrary;
let server: TestServer;
let sdp: string;

before(async () => {
  lib = await tempLibrary();
  await lib.write('t.mp3', fakeMp3(400_000));
  server = await startTestServer({ AUDIO_DIR: lib.dir, RTC_TEST_HOOKS: '1', PACE_CHUNKS_PER_SECOND: '0' });
  sdp = await makeOfferSdp();
});

after(async () => {
  await server.close();
  await lib.remove();
});

const faults = (body: unknown) =>
  fetch(`${server.url}/__test/faults`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
const clearFaults = () => fetch(`${server.url}/__test/faults`, { method: 'DELETE' });
const offer = (signal?: AbortSignal) =>
  fetch(`${server.url}/api/offer`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ offer: { type: 'offer', sdp }, clientId: randomUUID(), src: 't.mp3' }),
    ...(signal ? { signal } : {}),
  });

async function codeOf(response: Response): Promise<string | undefined> {
  return parseErrorBody(await response.json())?.code;
}

test('offerStatus + offerRetryAfter + offerCount answer that many offers with the fault, then normally', async () => {
  assert.equal((await faults({ offerStatus: 503, offerRetryAfter: 2, offerCount: 2 })).status, 204);
  for (let i = 0; i < 2; i++) {
    const response = await offer();
    assert.equal(response.status, 503);
    assert.equal(response.headers.get('retry-after'), '2');
    assert.equal(await codeOf(response), 'SERVER_BUSY');
  }
  const normal = await offer();
  assert.equal(normal.status, 200);
  await normal.json();
  for (const [status, code] of [[500, 'INTERNAL'], [404, 'TRACK_NOT_FOUND'], [429, 'RATE_LIMITED']] as const) {
    await faults({ offerStatus: status });
    const response = await offer();
    assert.equal(response.status, status);
    assert.equal(await codeOf(response), code);
  }
});

test('offerHang holds the answer until the client gives up; DELETE clears every fault', async () => {
  await faults({ offerHang: true });
  await assert.rejects(offer(AbortSignal.timeout(300)), /abort|timeout/i);
  await faults({ offerStatus: 500, offerCount: 5 });
  assert.equal((await clearFaults()).status, 204);
  const response = await offer();
  assert.equal(response.status, 200);
  await response.json();
});

test('closeAfterBytes cuts the next stream (no complete); stallAfterBytes freezes it with the channel open', async () => {
  await faults({ closeAfterBytes: 100_000 });
  const { client, result } = await streamTrack(server.url, { src: 't.mp3' });
  assert.equal(result.ended, 'closed');
  // Whole chunks up to the first at or past 100000 bytes, then the channel closes.
  assert.equal(client.bytes().length, 131_072, `received ${client.bytes().length} bytes, ${JSON.stringify(result.order.slice(-3))}`);
  assert.ok(!result.messages.some((m) => m.type === 'complete'));

  await faults({ stallAfterBytes: 65_536 });
  const staller = new TestClient(server.url, { src: 't.mp3' });
  try {
    await staller.connect();
    await staller.until(() => staller.bytes().length >= 65_536);
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal(staller.bytes().length, 65_536, 'nothing after the stall point');
    assert.equal(staller.channel.readyState, 'open', 'the stalled channel stays open');
  } finally {
    staller.close();
  }

  // one stream only: the next is whole again
  const again = await streamTrack(server.url, { src: 't.mp3' });
  assert.equal(again.result.ended, 'complete');
});

test('a malformed fault body is 400 BAD_REQUEST', async () => {
  assert.equal(await codeOf(await faults({ offerStatus: 200 })), 'BAD_REQUEST');
  assert.equal(await codeOf(await faults({ nonsense: 1 })), 'BAD_REQUEST');
  await clearFaults();
});
