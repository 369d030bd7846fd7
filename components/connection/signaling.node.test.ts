// Error mapping of requestAnswer against a real HTTP server (node:http on loopback) that answers
// whatever each test scripts. The real Koa server is exercised by signaling.test.ts in the browser.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PlayerError } from '../errors.js';
import type { OfferRequest } from '../protocol.js';
import { JSON_TYPE, TEXT_TYPE, offerContentType, offerUrl, requestAnswer } from './signaling.js';

type Handler = (request: IncomingMessage, body: string, response: ServerResponse) => void;
let handler: Handler = (_req, _body, res) => res.end();
let base = '';
const server = createServer((request, response) => {
  let body = '';
  request.setEncoding('utf8');
  request.on('data', (chunk: string) => (body += chunk));
  request.on('end', () => handler(request, body, response));
});

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

const request: OfferRequest = {
  offer: { type: 'offer', sdp: 'v=0\r\n' },
  clientId: 'client-1',
  src: 'a.mp3',
  offset: 5,
};

const json = (res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(value));
};

async function rejection(promise: Promise<unknown>): Promise<PlayerError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof PlayerError, `not a PlayerError: ${String(error)}`);
    return error;
  }
  assert.fail('expected a rejection');
}

test('offerUrl: same origin, trailing slashes', () => {
  assert.equal(offerUrl(''), '/api/offer');
  assert.equal(offerUrl('http://h:1'), 'http://h:1/api/offer');
  assert.equal(offerUrl('http://h:1/'), 'http://h:1/api/offer');
  assert.equal(offerUrl('http://h:1/base//'), 'http://h:1/base/api/offer');
});

test('posts the request as JSON to /api/offer and returns the answer with Server-Timing', async () => {
  let seen: { method?: string; url?: string; type?: string; body?: unknown } = {};
  handler = (req, body, res) => {
    seen = { method: req.method, url: req.url, type: req.headers['content-type'], body: JSON.parse(body) };
    json(res, 200, { answer: { type: 'answer', sdp: 'v=0\r\nanswer' } }, { 'Server-Timing': 'answer;dur=3.5, gather;dur=1' });
  };
  const result = await requestAnswer(`${base}/`, request);
  assert.deepEqual(seen, { method: 'POST', url: '/api/offer', type: 'application/json', body: request });
  assert.deepEqual(result.answer, { type: 'answer', sdp: 'v=0\r\nanswer' });
  assert.deepEqual(result.serverTiming, [
    { name: 'answer', duration: 3.5 },
    { name: 'gather', duration: 1 },
  ]);
});

test('offerContentType: JSON same-origin and outside a browser, text/plain (no CORS preflight) cross-origin', () => {
  const page = { href: 'https://site.test/player/', origin: 'https://site.test' };
  assert.equal(offerContentType('/api/offer', page), JSON_TYPE);
  assert.equal(offerContentType('https://site.test/api/offer', page), JSON_TYPE);
  assert.equal(offerContentType('https://audio.site.test/api/offer', page), TEXT_TYPE);
  assert.equal(offerContentType('http://site.test/api/offer', page), TEXT_TYPE); // another scheme is another origin
  assert.equal(offerContentType('https://site.test:8443/api/offer', page), TEXT_TYPE);
  assert.equal(offerContentType('https://audio.test/api/offer', undefined), JSON_TYPE);
});

/** Runs `body` as if in a page of another origin than the test server (Node's fetch has no CORS). */
async function asCrossOriginPage<T>(body: () => Promise<T>): Promise<T> {
  const had = Object.getOwnPropertyDescriptor(globalThis, 'location');
  Object.defineProperty(globalThis, 'location', { value: { href: 'https://page.test/', origin: 'https://page.test' }, configurable: true });
  try {
    return await body();
  } finally {
    if (had) Object.defineProperty(globalThis, 'location', had);
    else delete (globalThis as { location?: unknown }).location;
  }
}

test('cross-origin: the offer goes as text/plain, the same JSON', async () => {
  const seen: { type?: string; body?: unknown }[] = [];
  handler = (req, body, res) => {
    seen.push({ type: req.headers['content-type'], body: JSON.parse(body) });
    json(res, 200, { answer: { type: 'answer', sdp: 'v=0\r\nanswer' } });
  };
  const result = await asCrossOriginPage(() => requestAnswer(base, request));
  assert.deepEqual(seen, [{ type: TEXT_TYPE, body: request }]);
  assert.equal(result.answer.sdp, 'v=0\r\nanswer');
});

test('cross-origin against a server without text/plain offers (415): asked again once as JSON', async () => {
  const types: string[] = [];
  handler = (req, _body, res) => {
    types.push(req.headers['content-type'] ?? '');
    if (req.headers['content-type'] === JSON_TYPE) json(res, 200, { answer: { type: 'answer', sdp: 'v=0\r\nanswer' } });
    else json(res, 415, { error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'request body must be application/json' } });
  };
  const result = await asCrossOriginPage(() => requestAnswer(base, request));
  assert.deepEqual(types, [TEXT_TYPE, JSON_TYPE]);
  assert.equal(result.answer.sdp, 'v=0\r\nanswer');

  // A 415 for JSON too is the server's last word: one retry, then SIGNALING_HTTP, fatal.
  types.length = 0;
  handler = (req, _body, res) => {
    types.push(req.headers['content-type'] ?? '');
    json(res, 415, { error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'nope' } });
  };
  const error = await rejection(asCrossOriginPage(() => requestAnswer(base, request)));
  assert.deepEqual(types, [TEXT_TYPE, JSON_TYPE]);
  assert.deepEqual([error.code, error.status, error.detail, error.fatal], ['SIGNALING_HTTP', 415, 'UNSUPPORTED_MEDIA_TYPE', true]);

  // Any other refusal of the text/plain offer is final at once (no second request).
  types.length = 0;
  handler = (req, _body, res) => {
    types.push(req.headers['content-type'] ?? '');
    json(res, 400, { error: { code: 'BAD_JSON', message: 'request body is not a valid JSON object' } });
  };
  const bad = await rejection(asCrossOriginPage(() => requestAnswer(base, request)));
  assert.deepEqual(types, [TEXT_TYPE]);
  assert.deepEqual([bad.code, bad.status, bad.detail], ['SIGNALING_HTTP', 400, 'BAD_JSON']);
});

test('404 with an error body: SIGNALING_HTTP, fatal, server code and message', async () => {
  handler = (_req, _body, res) => json(res, 404, { error: { code: 'TRACK_NOT_FOUND', message: 'no track "a.mp3"' } });
  const error = await rejection(requestAnswer(base, request));
  assert.equal(error.code, 'SIGNALING_HTTP');
  assert.equal(error.status, 404);
  assert.equal(error.detail, 'TRACK_NOT_FOUND');
  assert.equal(error.message, 'no track "a.mp3"');
  assert.equal(error.fatal, true);
  assert.equal(error.retryAfterMs, undefined);
});

test('503 and 429 honour Retry-After and are not fatal', async () => {
  handler = (_req, _body, res) => json(res, 503, { error: { code: 'SERVER_BUSY', message: 'full' } }, { 'Retry-After': '2' });
  const busy = await rejection(requestAnswer(base, request));
  assert.deepEqual([busy.code, busy.status, busy.detail, busy.retryAfterMs, busy.fatal], ['SIGNALING_HTTP', 503, 'SERVER_BUSY', 2000, false]);
  const date = new Date(Date.now() + 3000).toUTCString();
  handler = (_req, _body, res) => json(res, 429, { error: { code: 'RATE_LIMITED', message: 'slow down' } }, { 'Retry-After': date });
  const limited = await rejection(requestAnswer(base, request));
  assert.equal(limited.status, 429);
  assert.equal(limited.fatal, false);
  assert.ok(limited.retryAfterMs! > 1000 && limited.retryAfterMs! <= 3000, String(limited.retryAfterMs));
});

test('500 with a non-JSON body: SIGNALING_HTTP, no detail, a message naming the status', async () => {
  handler = (_req, _body, res) => {
    res.writeHead(500, { 'Content-Type': 'text/html' });
    res.end('<h1>oops</h1>');
  };
  const error = await rejection(requestAnswer(base, request));
  assert.deepEqual([error.code, error.status, error.detail, error.fatal], ['SIGNALING_HTTP', 500, undefined, false]);
  assert.match(error.message, /500/);
});

test('2xx without a usable answer: SIGNALING_BAD_RESPONSE', async () => {
  for (const body of ['not json', '{}', '{"answer":{"type":"offer","sdp":"x"}}', '{"answer":{"type":"answer","sdp":""}}']) {
    handler = (_req, _body, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(body);
    };
    const error = await rejection(requestAnswer(base, request));
    assert.equal(error.code, 'SIGNALING_BAD_RESPONSE', body);
    assert.equal(error.status, 200);
  }
});

test('no answer within timeoutMs: SIGNALING_TIMEOUT (headers never sent)', async () => {
  handler = () => {}; // hang
  const started = Date.now();
  const error = await rejection(requestAnswer(base, request, { timeoutMs: 150 }));
  assert.equal(error.code, 'SIGNALING_TIMEOUT');
  assert.ok(Date.now() - started < 2000);
});

test('body never finishes within timeoutMs: SIGNALING_TIMEOUT too', async () => {
  handler = (_req, _body, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.write('{"answer":');
  };
  const error = await rejection(requestAnswer(base, request, { timeoutMs: 150 }));
  assert.equal(error.code, 'SIGNALING_TIMEOUT');
});

test('connection refused: SIGNALING_UNREACHABLE', async () => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  const error = await rejection(requestAnswer(`http://127.0.0.1:${port}`, request));
  assert.equal(error.code, 'SIGNALING_UNREACHABLE');
  assert.equal(error.fatal, false);
});

test('connection reset mid-request: SIGNALING_UNREACHABLE', async () => {
  handler = (req) => req.socket.destroy();
  const error = await rejection(requestAnswer(base, request));
  assert.equal(error.code, 'SIGNALING_UNREACHABLE');
});

test('caller abort, before and during the request: ABORTED', async () => {
  const early = new AbortController();
  early.abort();
  assert.equal((await rejection(requestAnswer(base, request, { signal: early.signal }))).code, 'ABORTED');
  handler = () => {};
  const late = new AbortController();
  setTimeout(() => late.abort(), 50);
  const error = await rejection(requestAnswer(base, request, { signal: late.signal, timeoutMs: 5000 }));
  assert.equal(error.code, 'ABORTED');
});
