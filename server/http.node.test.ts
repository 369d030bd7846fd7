/**
 * The HTTP surface against the real app on an ephemeral port: every endpoint, every error status
 * and code, CORS and security headers. No peer may be left behind by a refused offer.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFile, symlink, writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { HTTP_ERROR_CODES, MAX_PRELOAD_BYTES, parseErrorBody, type TrackInfo } from '../components/protocol';
import { fakeMp3, sha256, tempLibrary, type TempLibrary } from './testing/fixtures';
import { startTestServer, type TestServer } from './testing/in-process-server';
import { makeOfferSdp, streamTrack } from './testing/wrtc-client';

let lib: TempLibrary;
let server: TestServer;
let sdp: string;
const track = fakeMp3(100_000);

before(async () => {
  lib = await tempLibrary();
  await lib.write('one.mp3', track);
  await lib.write('sub/dir/two.mp3', fakeMp3(5000));
  await lib.write('empty.mp3', new Uint8Array(0));
  await lib.write('text.mp3', 'this is not audio, only text pretending\n');
  await lib.write('notes.txt', 'not listed');
  await lib.write('.hidden.mp3', fakeMp3(100));
  await lib.write('.secret/three.mp3', fakeMp3(100));
  await writeFile(path.join(lib.dir, '..', 'rtc-outside.mp3'), fakeMp3(100));
  await symlink(path.join(lib.dir, '..', 'rtc-outside.mp3'), path.join(lib.dir, 'escape.mp3'));
  // A real MP3 (2 s, LAME) for what needs real audio: magic check and duration.
  execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=2', '-c:a', 'libmp3lame', '-b:a', '128k', path.join(lib.dir, 'real.mp3')]);
  server = await startTestServer({ AUDIO_DIR: lib.dir, STATIC_DIR: path.join(lib.dir, 'no-static') });
  sdp = await makeOfferSdp();
});

after(async () => {
  await server.close();
  await lib.remove();
});

const post = (body: unknown, init: { type?: string; raw?: string } = {}) =>
  fetch(`${server.url}/api/offer`, {
    method: 'POST',
    headers: { 'Content-Type': init.type ?? 'application/json' },
    body: init.raw ?? JSON.stringify(body),
  });

const offerBody = (extra: Record<string, unknown> = {}) => ({
  offer: { type: 'offer', sdp },
  clientId: randomUUID(),
  src: 'one.mp3',
  ...extra,
});

async function until(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    assert.ok(Date.now() < deadline, 'condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** GET with the path sent exactly as written (no URL normalisation). */
function rawGet(rawPath: string): Promise<{ status: number; code: string | undefined }> {
  return new Promise((resolve, reject) => {
    const request = http.get(`${server.url}/`, { path: rawPath }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => {
        let code: string | undefined;
        try {
          code = parseErrorBody(JSON.parse(text))?.code;
        } catch {
          code = undefined;
        }
        resolve({ status: response.statusCode ?? 0, code });
      });
    });
    request.on('error', reject);
  });
}

async function expectError(response: Response, status: number, code: string): Promise<void> {
  const body: unknown = await response.json();
  assert.equal(response.status, status, JSON.stringify(body));
  const error = parseErrorBody(body);
  assert.ok(error, `not an error body: ${JSON.stringify(body)}`);
  assert.equal(error.code, code);
  assert.ok(error.message.length > 0);
  assert.ok((HTTP_ERROR_CODES as readonly string[]).includes(error.code));
}

test('GET /api/health reports status, uptime and activePeers', async () => {
  const response = await fetch(`${server.url}/api/health`);
  assert.equal(response.status, 200);
  const body = (await response.json()) as Record<string, unknown>;
  assert.equal(body.status, 'ok');
  assert.equal(typeof body.uptime, 'number');
  assert.equal(body.activePeers, 0);
});

test('GET /api/tracks lists audio files recursively, skipping dotfiles, non-audio and escapes', async () => {
  const response = await fetch(`${server.url}/api/tracks`);
  assert.equal(response.status, 200);
  const tracks = (await response.json()) as TrackInfo[];
  assert.deepEqual(
    tracks.map((t) => t.src),
    ['one.mp3', 'real.mp3', 'sub/dir/two.mp3'],
  );
  const real = tracks.find((t) => t.src === 'real.mp3');
  assert.equal(real?.mimeType, 'audio/mpeg');
  assert.ok(real?.duration !== undefined && Math.abs(real.duration - 2) < 0.1, `duration ${real?.duration}`);
  assert.deepEqual(tracks[0], { src: 'one.mp3', size: track.length, mimeType: 'audio/mpeg', ...(tracks[0]!.duration ? { duration: tracks[0]!.duration } : {}) });
});

test('a real MP3 streams with its duration in the metadata', async () => {
  const { client, result } = await streamTrack(server.url, { src: 'real.mp3' });
  assert.equal(result.ended, 'complete');
  assert.ok(result.metadata?.duration !== undefined && Math.abs(result.metadata.duration - 2) < 0.1);
  assert.equal(sha256(client.bytes()), sha256(await readFile(path.join(lib.dir, 'real.mp3'))));
});

test('GET /media/<src> serves the bytes with Range support', async () => {
  const whole = await fetch(`${server.url}/media/one.mp3`);
  assert.equal(whole.status, 200);
  assert.equal(whole.headers.get('content-type'), 'audio/mpeg');
  assert.equal(whole.headers.get('accept-ranges'), 'bytes');
  assert.equal(sha256(new Uint8Array(await whole.arrayBuffer())), sha256(track));

  const part = await fetch(`${server.url}/media/one.mp3`, { headers: { Range: 'bytes=10-19' } });
  assert.equal(part.status, 206);
  assert.equal(part.headers.get('content-range'), `bytes 10-19/${track.length}`);
  assert.deepEqual(new Uint8Array(await part.arrayBuffer()), new Uint8Array(track.subarray(10, 20)));

  const suffix = await fetch(`${server.url}/media/one.mp3`, { headers: { Range: 'bytes=-500' } });
  assert.equal(suffix.status, 206);
  assert.deepEqual(new Uint8Array(await suffix.arrayBuffer()), new Uint8Array(track.subarray(track.length - 500)));

  const beyond = await fetch(`${server.url}/media/one.mp3`, { headers: { Range: `bytes=${track.length}-` } });
  assert.equal(beyond.status, 416);
  assert.equal(beyond.headers.get('content-range'), `bytes */${track.length}`);
  await beyond.arrayBuffer();

  const nested = await fetch(`${server.url}/media/sub/dir/two.mp3`);
  assert.equal(nested.status, 200);
  await nested.arrayBuffer();

  const head = await fetch(`${server.url}/media/one.mp3`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-length'), String(track.length));
});

test('GET /media refuses hostile paths and unknown or non-audio files', async () => {
  // fetch() would normalise these paths away: send them raw.
  assert.deepEqual(await rawGet('/media/%2e%2e/rtc-outside.mp3'), { status: 400, code: 'BAD_SRC' });
  assert.deepEqual(await rawGet('/media/../rtc-outside.mp3'), { status: 400, code: 'BAD_SRC' });
  assert.deepEqual(await rawGet('/media/sub/%2E%2E/%2E%2E/rtc-outside.mp3'), { status: 400, code: 'BAD_SRC' });
  assert.deepEqual(await rawGet('/media/..%2f..%2frtc-outside.mp3'), { status: 400, code: 'BAD_SRC' });
  assert.deepEqual(await rawGet('/media/%00.mp3'), { status: 400, code: 'BAD_SRC' });
  assert.deepEqual(await rawGet('/../../etc/passwd'), { status: 404, code: 'NOT_FOUND' });
  await expectError(await fetch(`${server.url}/media/%252e%252e%252frtc-outside.mp3`), 400, 'BAD_SRC');
  await expectError(await fetch(`${server.url}/media/escape.mp3`), 404, 'TRACK_NOT_FOUND');
  await expectError(await fetch(`${server.url}/media/.hidden.mp3`), 400, 'BAD_SRC');
  await expectError(await fetch(`${server.url}/media/nope.mp3`), 404, 'TRACK_NOT_FOUND');
  await expectError(await fetch(`${server.url}/media/text.mp3`), 415, 'NOT_AUDIO');
  await expectError(await fetch(`${server.url}/media/%E0%A4%A`), 400, 'BAD_SRC');
});

test('POST /api/offer: body errors are 400 BAD_JSON / 413 / 415 with JSON bodies', async () => {
  await expectError(await post(undefined, { raw: '{"offer": ' }), 400, 'BAD_JSON');
  await expectError(await post(undefined, { raw: '"just a string"' }), 400, 'BAD_JSON');
  await expectError(await post(undefined, { raw: 'offer=1', type: 'application/x-www-form-urlencoded' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
  await expectError(await post(undefined, { raw: '{}', type: 'text/html' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
  await expectError(await post(offerBody({ pad: 'x'.repeat(200_000) })), 413, 'PAYLOAD_TOO_LARGE');
  await expectError(await post([1, 2]), 400, 'BAD_REQUEST');
  await expectError(await post(offerBody({ extra: 1 })), 400, 'BAD_REQUEST');
  await expectError(await post(undefined, { raw: JSON.stringify(offerBody()).replace('{', '{"__proto__":{"x":1},') }), 400, 'BAD_JSON'); // prototype poisoning refused by the parser
  assert.equal(({} as Record<string, unknown>).x, undefined);
});

test('POST /api/offer as text/plain (a CORS-simple request): the same JSON, the same rules and errors', async () => {
  const text = (body: unknown, raw?: string, type = 'text/plain;charset=UTF-8') => post(body, { type, ...(raw === undefined ? {} : { raw }) });
  // Accepted offers get a peer each: on a server of their own, so that it can close them.
  const own = await startTestServer({ AUDIO_DIR: lib.dir });
  try {
    for (const type of ['text/plain;charset=UTF-8', 'text/plain']) {
      const ok = await fetch(`${own.url}/api/offer`, { method: 'POST', headers: { 'Content-Type': type }, body: JSON.stringify(offerBody()) });
      assert.equal(ok.status, 200, type);
      const answer = (await ok.json()) as { answer: { type: string; sdp: string } };
      assert.equal(answer.answer.type, 'answer');
      assert.match(answer.answer.sdp, /^a=candidate:/m);
    }
    assert.equal(own.peers.activePeers, 2);
  } finally {
    await own.close();
  }
  await expectError(await text(undefined, '{"offer": '), 400, 'BAD_JSON');
  await expectError(await text(undefined, 'offer=1&src=a.mp3'), 400, 'BAD_JSON');
  await expectError(await text(undefined, '"just a string"'), 400, 'BAD_JSON');
  await expectError(await text(undefined, JSON.stringify(offerBody()).replace('{', '{"__proto__":{"x":1},')), 400, 'BAD_JSON');
  assert.equal(({} as Record<string, unknown>).x, undefined);
  await expectError(await text(offerBody({ extra: 1 })), 400, 'BAD_REQUEST');
  await expectError(await text(offerBody({ src: '../rtc-outside.mp3' })), 400, 'BAD_SRC');
  await expectError(await text(offerBody({ pad: 'x'.repeat(200_000) })), 413, 'PAYLOAD_TOO_LARGE');
  await expectError(await text(offerBody(), undefined, 'text/plain; charset=iso-8859-1'), 415, 'UNSUPPORTED_MEDIA_TYPE');
});

test('POST /api/offer: field errors name the field', async () => {
  await expectError(await post(offerBody({ offer: { type: 'answer', sdp } })), 400, 'BAD_OFFER');
  await expectError(await post(offerBody({ offer: { type: 'offer', sdp: 'hello' } })), 400, 'BAD_OFFER');
  await expectError(await post(offerBody({ clientId: 'has spaces' })), 400, 'BAD_CLIENT_ID');
  await expectError(await post(offerBody({ clientId: 'x'.repeat(65) })), 400, 'BAD_CLIENT_ID');
  await expectError(await post(offerBody({ clientId: 42 })), 400, 'BAD_CLIENT_ID');
  await expectError(await post(offerBody({ offset: -1 })), 400, 'BAD_OFFSET');
  await expectError(await post(offerBody({ offset: 1.5 })), 400, 'BAD_OFFSET');
  await expectError(await post(offerBody({ offset: track.length })), 400, 'BAD_OFFSET');
  await expectError(await post(offerBody({ deferStart: 'yes' })), 400, 'BAD_REQUEST');
  await expectError(await post(offerBody({ deferStart: true, preloadBytes: -1 })), 400, 'BAD_REQUEST');
  await expectError(await post(offerBody({ deferStart: true, preloadBytes: 1.5 })), 400, 'BAD_REQUEST');
  await expectError(await post(offerBody({ deferStart: true, preloadBytes: MAX_PRELOAD_BYTES + 1 })), 400, 'BAD_REQUEST');
  await expectError(await post(offerBody({ preloadBytes: 1024 })), 400, 'BAD_REQUEST'); // only with deferStart
  await expectError(await post(offerBody({ windowEnd: 0 })), 400, 'BAD_REQUEST'); // not above the offset
  await expectError(await post(offerBody({ windowEnd: 'all' })), 400, 'BAD_REQUEST');
});

test('POST /api/offer: hostile src values are refused, none reaches a file outside the library', async () => {
  const hostile = ['../rtc-outside.mp3', '/etc/passwd', 'sub/../../rtc-outside.mp3', '.hidden.mp3', '.secret/three.mp3',
    'one.mp3\u0000', 'a\r\nb.mp3', '..\\rtc-outside.mp3', '%2e%2e/rtc-outside.mp3', 'sub//dir/two.mp3', ''];
  for (const src of hostile) {
    const response = await post(offerBody({ src }));
    assert.equal(response.status, 400, `${JSON.stringify(src)} → ${response.status}`);
    const error = parseErrorBody(await response.json());
    assert.equal(error?.code, 'BAD_SRC', JSON.stringify(src));
  }
  await expectError(await post(offerBody({ src: 'escape.mp3' })), 404, 'TRACK_NOT_FOUND');
});

test('POST /api/offer: unknown track 404, empty or non-audio file 415', async () => {
  await expectError(await post(offerBody({ src: 'missing.mp3' })), 404, 'TRACK_NOT_FOUND');
  await expectError(await post(offerBody({ src: 'sub' })), 404, 'TRACK_NOT_FOUND');
  await expectError(await post(offerBody({ src: 'empty.mp3' })), 415, 'NOT_AUDIO');
  await expectError(await post(offerBody({ src: 'text.mp3' })), 415, 'NOT_AUDIO');
  await expectError(await post(offerBody({ src: 'notes.txt' })), 415, 'NOT_AUDIO');
});

test('POST /api/offer: an SDP the peer connection rejects is 400 BAD_OFFER and leaves no peer', async () => {
  await until(() => server.peers.activePeers === 0);
  const broken = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n';
  await expectError(await post(offerBody({ offer: { type: 'offer', sdp: broken } })), 400, 'BAD_OFFER');
  const garbled = sdp.replace(/a=fingerprint:[^\r\n]*/, 'a=fingerprint:sha-256 ZZ');
  await expectError(await post(offerBody({ offer: { type: 'offer', sdp: garbled } })), 400, 'BAD_OFFER');
  assert.equal(server.peers.activePeers, 0, 'the refused offers left a peer');
});

test('a valid offer is answered with candidates and Server-Timing', async () => {
  const response = await post(offerBody());
  assert.equal(response.status, 200);
  const body = (await response.json()) as { answer: { type: string; sdp: string } };
  assert.equal(body.answer.type, 'answer');
  assert.match(body.answer.sdp, /^a=candidate:/m);
  assert.match(response.headers.get('server-timing') ?? '', /answer;dur=[\d.]+/);
  assert.match(response.headers.get('server-timing') ?? '', /gather;dur=[\d.]+/);
  const metrics = Object.fromEntries(
    (response.headers.get('server-timing') ?? '').split(',').map((entry) => {
      const [name, dur] = entry.trim().split(';dur=');
      return [name, Number(dur)];
    }),
  );
  for (const name of ['body', 'peer', 'negotiate', 'gather', 'answer']) assert.ok(metrics[name]! >= 0, `${name} in ${JSON.stringify(metrics)}`);
  assert.ok(metrics.negotiate! <= metrics.peer! && metrics.peer! <= metrics.answer! && metrics.gather! <= metrics.negotiate!, JSON.stringify(metrics));
  assert.equal(server.peers.activePeers, 1); // never connected: the open timeout (or close()) ends it
});

test('unknown routes are 404 NOT_FOUND JSON; test hooks are not registered without RTC_TEST_HOOKS', async () => {
  await expectError(await fetch(`${server.url}/api/nope`), 404, 'NOT_FOUND');
  await expectError(await fetch(`${server.url}/nothing-here.html`), 404, 'NOT_FOUND');
  await expectError(await fetch(`${server.url}/__test/faults`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"offerStatus":500}' }), 404, 'NOT_FOUND');
  await expectError(await fetch(`${server.url}/__test/faults`, { method: 'DELETE' }), 404, 'NOT_FOUND');
});

test('CORS: any origin by default, no credentials, Retry-After and Server-Timing exposed; security headers', async () => {
  const preflight = await fetch(`${server.url}/api/offer`, {
    method: 'OPTIONS',
    headers: { Origin: 'http://elsewhere.test', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' },
  });
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers.get('access-control-allow-origin'), '*');
  assert.equal(preflight.headers.get('access-control-allow-credentials'), null);
  const response = await fetch(`${server.url}/api/health`, { headers: { Origin: 'http://elsewhere.test' } });
  await response.json();
  assert.equal(response.headers.get('access-control-allow-origin'), '*');
  assert.match(response.headers.get('access-control-expose-headers') ?? '', /Retry-After/);
  assert.match(response.headers.get('access-control-expose-headers') ?? '', /Server-Timing/);
  assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
  assert.match(response.headers.get('content-security-policy') ?? '', /frame-ancestors/);
  assert.ok(response.headers.get('referrer-policy'));
});

test('CORS allow-list: only listed origins are echoed', async () => {
  const listed = await startTestServer({ AUDIO_DIR: lib.dir, CORS_ORIGINS: 'http://good.test, http://also.test' });
  try {
    const good = await fetch(`${listed.url}/api/health`, { headers: { Origin: 'http://also.test' } });
    await good.json();
    assert.equal(good.headers.get('access-control-allow-origin'), 'http://also.test');
    const bad = await fetch(`${listed.url}/api/health`, { headers: { Origin: 'http://evil.test' } });
    await bad.json();
    assert.equal(bad.headers.get('access-control-allow-origin'), null);
    // A text/plain offer skips the preflight, so the server itself turns unlisted origins away,
    // before any peer exists; listed origins, the server's own and Origin-less clients get through.
    const textOffer = (origin?: string) =>
      fetch(`${listed.url}/api/offer`, {
        method: 'POST',
        headers: { 'Content-Type': 'text/plain;charset=UTF-8', ...(origin === undefined ? {} : { Origin: origin }) },
        body: JSON.stringify(offerBody()),
      });
    await expectError(await textOffer('http://evil.test'), 403, 'ORIGIN_NOT_ALLOWED');
    await expectError(await textOffer('null'), 403, 'ORIGIN_NOT_ALLOWED');
    assert.equal(listed.peers.activePeers, 0, 'a refused origin created a peer');
    for (const origin of ['http://good.test', listed.url, undefined]) {
      const accepted = await textOffer(origin);
      assert.equal(accepted.status, 200, `${origin} → ${accepted.status}`);
      await accepted.json();
    }
  } finally {
    await listed.close();
  }
});

test('admission control: MAX_PEERS full → 503 SERVER_BUSY with Retry-After; rate limit → 429', async () => {
  const small = await startTestServer({ AUDIO_DIR: lib.dir, MAX_PEERS: '1', RATE_LIMIT_PER_IP: '3' });
  try {
    const first = await fetch(`${small.url}/api/offer`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(offerBody()) });
    assert.equal(first.status, 200);
    await first.json();
    const second = await fetch(`${small.url}/api/offer`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(offerBody()) });
    assert.ok(Number(second.headers.get('retry-after')) >= 1);
    await expectError(second, 503, 'SERVER_BUSY');
    await expectError(await fetch(`${small.url}/api/offer`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' }), 400, 'BAD_OFFER');
    const limited = await fetch(`${small.url}/api/offer`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    await expectError(limited, 429, 'RATE_LIMITED');
  } finally {
    await small.close();
    assert.equal(small.peers.activePeers, 0);
  }
});

test('static files: / is index.html with a CSP, other files typed, dotfiles and escapes not served; 405 in JSON', async () => {
  const site = await tempLibrary();
  await site.write('index.html', '<!doctype html><title>demo</title>');
  await site.write('assets/app.js', 'export {};');
  await site.write('.env', 'SECRET=1');
  await writeFile(path.join(site.dir, '..', 'rtc-site-secret.html'), 'secret');
  await symlink(path.join(site.dir, '..', 'rtc-site-secret.html'), path.join(site.dir, 'leak.html'));
  const web = await startTestServer({ AUDIO_DIR: lib.dir, STATIC_DIR: site.dir });
  try {
    const index = await fetch(`${web.url}/`);
    assert.equal(index.status, 200);
    assert.equal(index.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.match(await index.text(), /<title>demo<\/title>/);
    const csp = index.headers.get('content-security-policy') ?? '';
    for (const directive of ["default-src 'self'", 'blob:', "connect-src 'self'", "frame-ancestors 'self'"]) assert.ok(csp.includes(directive), directive);
    const script = await fetch(`${web.url}/assets/app.js`);
    assert.equal(script.headers.get('content-type'), 'text/javascript; charset=utf-8');
    await script.text();
    await expectError(await fetch(`${web.url}/.env`), 404, 'NOT_FOUND');
    await expectError(await fetch(`${web.url}/leak.html`), 404, 'NOT_FOUND');
    await expectError(await fetch(`${web.url}/api/offer`), 405, 'BAD_REQUEST');
  } finally {
    await web.close();
    await site.remove();
  }
});
