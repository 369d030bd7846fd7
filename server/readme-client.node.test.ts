/**
 * An independent client written only from README.md's "Server" and "Wire protocol" sections: it
 * imports nothing from components/ or the other test clients, parses every message by the
 * README's description and checks shapes, codes, order and byte positions strictly, so that any
 * drift between the README (the contract) and the server fails here. Real server processes
 * (server/main.ts), real @roamhq/wrtc peers.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { truncate } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import { setLocalDescriptionWithCandidates } from './peers/local-candidates';
import { fakeMp3, sha256, tempLibrary, type TempLibrary } from './testing/fixtures';
// @ts-expect-error plain JS harness module without type declarations
import { startServer as startServerUntyped } from './testing/server-process.mjs';

const wrtc = createRequire(import.meta.url)('@roamhq/wrtc') as typeof import('@roamhq/wrtc');

// ---- constants the README states -------------------------------------------------------------
const MAX_CHUNK = 65_536;
const MAX_PRELOAD = 262_144;
const FIRST_PREVIEW_MESSAGE = 8_192;
const MAX_SDP = 65_536;
const JSON_LIMIT = 98_304;
const CLIENT_MESSAGE_LIMIT = 4_096;
const CHANNEL_ERROR_CODES = ['FILE_UNAVAILABLE', 'READ_FAILED', 'FILE_CHANGED', 'BAD_MESSAGE', 'SHUTTING_DOWN', 'IDLE_TIMEOUT'];
const HTTP_ERRORS: Record<string, number[]> = {
  BAD_JSON: [400],
  BAD_REQUEST: [400, 405],
  BAD_OFFER: [400],
  BAD_CLIENT_ID: [400],
  BAD_SRC: [400],
  BAD_OFFSET: [400],
  ORIGIN_NOT_ALLOWED: [403],
  TRACK_NOT_FOUND: [404],
  NOT_FOUND: [404],
  PAYLOAD_TOO_LARGE: [413],
  UNSUPPORTED_MEDIA_TYPE: [415],
  NOT_AUDIO: [415],
  RATE_LIMITED: [429],
  SERVER_BUSY: [503],
  INTERNAL: [500],
};
const CLOSE_REASONS = ['complete', 'error', 'send-failed', 'fault', 'negotiation-failed', 'channel-closed', 'connection-failed', 'connection-closed', 'disconnected', 'open-timeout', 'shutdown', 'process-died'];
/** Generous: the machine is shared and has 2 cores. */
const WAIT_MS = 60_000;
/** How long "nothing more arrives" is watched. Correct servers pass whatever the load. */
const QUIET_MS = 600;

// ---- strict shape helpers ----------------------------------------------------------------------
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Throws unless `value` is an object with exactly the required keys plus any of the optional. */
function expectKeys(value: unknown, required: string[], optional: string[] = [], what = 'object'): JsonObject {
  assert.ok(isObject(value), `${what} is a JSON object: ${JSON.stringify(value)}`);
  for (const key of required) assert.ok(Object.hasOwn(value, key), `${what} has "${key}": ${JSON.stringify(value)}`);
  for (const key of Object.keys(value)) {
    assert.ok(required.includes(key) || optional.includes(key), `${what} has no undocumented key "${key}": ${JSON.stringify(value)}`);
  }
  return value;
}

const isInt = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, predicate: () => boolean, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await sleep(10);
  }
}

// ---- HTTP ---------------------------------------------------------------------------------------
interface HttpResult {
  status: number;
  headers: Headers;
  body: unknown;
  raw: Buffer;
}

/** Every response must carry the README's security headers. */
async function http(url: string, init: RequestInit = {}): Promise<HttpResult> {
  const response = await fetch(url, init);
  const raw = Buffer.from(await response.arrayBuffer());
  assert.equal(response.headers.get('x-content-type-options'), 'nosniff', `${url}: nosniff`);
  assert.equal(response.headers.get('referrer-policy'), 'no-referrer', `${url}: Referrer-Policy`);
  const csp = response.headers.get('content-security-policy') ?? '';
  assert.ok(csp.includes("'self'") && csp.includes('blob:'), `${url}: CSP with 'self' and blob: (${csp})`);
  let body: unknown;
  if ((response.headers.get('content-type') ?? '').includes('application/json')) body = JSON.parse(raw.toString('utf8'));
  return { status: response.status, headers: response.headers, body, raw };
}

/** The README's error shape: `{ error: { code, message } }`, the code one of the table's for this status. */
function expectError(result: HttpResult, status: number, code: string): void {
  assert.equal(result.status, status, `status ${result.status} (want ${status} ${code}): ${result.raw.toString('utf8').slice(0, 300)}`);
  assert.match(result.headers.get('content-type') ?? '', /^application\/json/);
  const { error } = expectKeys(result.body, ['error'], [], 'error body');
  const { code: got, message } = expectKeys(error, ['code', 'message'], [], 'error');
  assert.equal(got, code);
  assert.ok(HTTP_ERRORS[code]?.includes(status), `${code} is documented for ${status}`);
  assert.ok(typeof message === 'string' && message.length > 0, 'message is a non-empty string');
  if (status === 429 || status === 503) {
    assert.match(result.headers.get('retry-after') ?? '', /^\d+$/, `${status} carries Retry-After in seconds`);
  }
}

function postOffer(server: string, body: unknown, init: { contentType?: string; origin?: string; raw?: string } = {}): Promise<HttpResult> {
  const headers: Record<string, string> = { 'Content-Type': init.contentType ?? 'application/json' };
  if (init.origin !== undefined) headers.Origin = init.origin;
  return http(`${server}/api/offer`, { method: 'POST', headers, body: init.raw ?? JSON.stringify(body) });
}

async function health(server: string): Promise<JsonObject> {
  const result = await http(`${server}/api/health`);
  assert.equal(result.status, 200);
  return result.body as JsonObject;
}

async function peersCreated(server: string): Promise<number> {
  return (await health(server)).peersCreated as number;
}

async function noActivePeers(server: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const active = (await health(server)).activePeers;
    if (active === 0) return;
    assert.ok(Date.now() < deadline, `${String(active)} peers still active`);
    await sleep(50);
  }
}

// ---- SDP --------------------------------------------------------------------------------------
function sections(sdp: string): string[][] {
  const lines = sdp.split('\r\n');
  if (lines.at(-1) === '') lines.pop();
  const out: string[][] = [[]];
  for (const line of lines) {
    if (line.startsWith('m=')) out.push([]);
    out.at(-1)!.push(line);
  }
  return out;
}

/** The README: non-trickle answer, host candidates at the end of the DataChannel section, port 9, 0.0.0.0. */
function checkAnswer(body: unknown): string {
  const { answer } = expectKeys(body, ['answer'], [], 'offer response');
  const { type, sdp } = expectKeys(answer, ['type', 'sdp'], [], 'answer');
  assert.equal(type, 'answer');
  assert.ok(typeof sdp === 'string' && sdp.startsWith('v=0'), 'answer SDP starts v=0');
  const media = sections(sdp).slice(1);
  const channel = media.filter((section) => /^m=application \d+ UDP\/DTLS\/SCTP webrtc-datachannel/.test(section[0]!));
  assert.equal(channel.length, 1, 'one DataChannel section');
  const section = channel[0]!;
  assert.match(section[0]!, /^m=application 9 /, 'm= line keeps port 9');
  assert.ok(section.includes('c=IN IP4 0.0.0.0'), 'c=IN IP4 0.0.0.0');
  const firstCandidate = section.findIndex((line) => line.startsWith('a=candidate:'));
  assert.ok(firstCandidate > 0, 'at least one a=candidate: line');
  const tail = section.slice(firstCandidate);
  assert.ok(tail.every((line) => line.startsWith('a=candidate:')), `candidates at the end of the section: ${tail.join(' | ')}`);
  const addresses = tail.map((line) => {
    const fields = line.slice('a=candidate:'.length).split(' ');
    assert.equal(fields[6], 'typ');
    assert.equal(fields[7], 'host', 'host candidates');
    return `${fields[2]}/${fields[4]}`;
  });
  assert.equal(new Set(addresses).size, addresses.length, 'one candidate per address');
  return sdp;
}

/** A real offer SDP from a peer that is closed again (for requests that must fail before any peer). */
async function throwawayOfferSdp(): Promise<string> {
  const pc = new wrtc.RTCPeerConnection({ iceServers: [] });
  try {
    pc.createDataChannel('probe');
    return (await setLocalDescriptionWithCandidates(pc, await pc.createOffer(), 1000)).sdp;
  } finally {
    pc.close();
  }
}

// ---- the DataChannel client -------------------------------------------------------------------
interface Metadata {
  src: string;
  totalSize: number;
  totalChunks: number;
  chunkSize: number;
  mimeType: string;
  offset: number;
  duration?: number;
  preloadBytes?: number;
}

interface ListenOptions {
  src: string;
  offset?: number;
  deferStart?: boolean;
  preloadBytes?: number;
  windowEnd?: number;
  contentType?: string;
  /** Rewrites the offer SDP (e.g. its a=max-message-size). */
  sdp?: (sdp: string) => string;
  /** Extra keys inside the body's `offer` object. */
  offerExtra?: JsonObject;
}

type Received = { kind: 'text'; value: JsonObject } | { kind: 'binary'; start: number; length: number };

/**
 * One listener. Every rule the README states about what arrives is checked as it arrives; a
 * breach is recorded (throwing inside a wrtc callback would be lost) and `assertClean` fails on it.
 */
class Listener {
  readonly pc = new wrtc.RTCPeerConnection({ iceServers: [] });
  readonly channel = this.pc.createDataChannel('readme-client');
  readonly received: Received[] = [];
  readonly chunks: Buffer[] = [];
  readonly violations: string[] = [];
  metadata: Metadata | undefined;
  ended: 'complete' | 'error' | undefined;
  channelClosed = false;
  errorCode: string | undefined;
  /** File byte the next binary message must begin at. */
  next = 0;
  /** Highest window end granted so far (offer + `window` messages sent); undefined = no window. */
  window: number | undefined;
  startSent = false;
  paused = false;
  /** A `start` with an offset: the first message after the preview begins there. */
  jumpTo: number | undefined;
  private previewEnd = 0;
  private closed = false;

  constructor(readonly options: ListenOptions) {
    this.channel.binaryType = 'arraybuffer';
    this.window = options.windowEnd;
    this.channel.onmessage = (event: MessageEvent) => {
      try {
        this.receive(event.data);
      } catch (error) {
        this.violations.push(error instanceof Error ? error.message : String(error));
      }
    };
    this.channel.onclose = () => {
      this.channelClosed = true;
      this.closedAt = `after ${this.bytesReceived} bytes, connection ${this.pc.connectionState}, ice ${this.pc.iceConnectionState}`;
    };
  }

  /** How the channel closed, for failure messages. */
  closedAt = '';

  get bytesReceived(): number {
    return this.chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }

  offerBody(sdp: string): JsonObject {
    const body: JsonObject = { offer: { type: 'offer', sdp, ...this.options.offerExtra }, clientId: randomUUID(), src: this.options.src };
    if (this.options.offset !== undefined) body.offset = this.options.offset;
    if (this.options.deferStart !== undefined) body.deferStart = this.options.deferStart;
    if (this.options.preloadBytes !== undefined) body.preloadBytes = this.options.preloadBytes;
    if (this.options.windowEnd !== undefined) body.windowEnd = this.options.windowEnd;
    return body;
  }

  /** Offer → answer (checked) → remote description. Returns the HTTP result (also on errors). */
  private server: string | undefined;

  async connect(server: string): Promise<HttpResult> {
    this.server = server;
    let { sdp } = await setLocalDescriptionWithCandidates(this.pc, await this.pc.createOffer(), 1000);
    if (this.options.sdp) sdp = this.options.sdp(sdp);
    const result = await postOffer(server, this.offerBody(sdp), { contentType: this.options.contentType ?? 'application/json' });
    if (result.status !== 200) return result;
    assert.match(result.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(result.headers.get('cache-control'), 'no-store');
    const answer = checkAnswer(result.body);
    await this.pc.setRemoteDescription({ type: 'answer', sdp: answer });
    return result;
  }

  async open(server: string): Promise<HttpResult> {
    const result = await this.connect(server);
    assert.equal(result.status, 200, `offer answered ${result.status}: ${result.raw.toString('utf8')}`);
    await until('metadata', () => this.metadata !== undefined || this.violations.length > 0 || this.channelClosed);
    this.assertClean();
    return result;
  }

  send(message: JsonObject | string | Uint8Array): void {
    if (isObject(message)) {
      if (message.type === 'start') this.startSent = true;
      if (message.type === 'pause') this.paused = true;
      if (message.type === 'resume') this.paused = false;
      if (message.type === 'window' && typeof message.end === 'number') this.window = Math.max(this.window ?? 0, message.end);
    }
    if (message instanceof Uint8Array) this.channel.send(new Uint8Array(message));
    else this.channel.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  async untilEnded(timeoutMs = WAIT_MS): Promise<void> {
    await until('complete or error', () => this.ended !== undefined || this.violations.length > 0 || this.channelClosed, timeoutMs);
    // A text message that was sent right before the close can still be in the event queue.
    await sleep(20);
    await this.resumeIfDropped();
  }

  /** Connections that dropped before complete and were resumed (README §3). */
  resumes = 0;

  /**
   * README §3: a client whose connection drops before `complete` posts a new offer at its next
   * byte and appends. A loaded machine drops loopback UDP, and the server closes a connection 5 s
   * after `complete` whatever is still in flight, so a drop is a documented event, not a defect;
   * the resumed bytes are checked as strictly as the first connection's. Errors are never resumed.
   */
  private async resumeIfDropped(): Promise<void> {
    const m = this.metadata;
    if (this.ended !== undefined || !this.channelClosed || m === undefined || this.violations.length > 0 || this.server === undefined) return;
    if (this.next >= m.totalSize || this.resumes >= 3 || (this.options.deferStart && !this.startSent && this.next >= this.previewEnd)) return;
    const health = await http(`${this.server}/api/health`);
    console.log(`# README client: ${this.options.src} dropped ${this.closedAt}; resuming at ${this.next}; server closeReasons ${JSON.stringify((health.body as JsonObject).closeReasons)}`);
    const again = new Listener({ src: this.options.src, offset: this.next });
    try {
      await again.open(this.server);
      await again.untilEnded();
      this.violations.push(...again.violations);
      this.chunks.push(...again.chunks);
      this.next = again.next;
      this.ended = again.ended;
      this.errorCode = again.errorCode;
      this.closedAt = again.closedAt;
      this.resumes += 1 + again.resumes;
    } finally {
      again.close();
    }
  }

  async untilBytes(count: number): Promise<void> {
    await until(`${count} bytes`, () => this.bytesReceived >= count || this.ended !== undefined || this.violations.length > 0);
  }

  /** Watches for QUIET_MS and returns how many messages arrived meanwhile. */
  async arrivalsDuringQuiet(): Promise<number> {
    const before = this.received.length;
    await sleep(QUIET_MS);
    return this.received.length - before;
  }

  assertClean(): void {
    assert.deepEqual(this.violations, [], 'the server kept to the README');
  }

  /** The whole stream ended with `complete` and carried exactly the file's bytes from `from`. */
  assertComplete(file: Buffer, from = this.metadata?.offset ?? 0): void {
    this.assertClean();
    assert.equal(this.ended, 'complete', `ended with ${this.ended} ${this.errorCode ?? ''}; channel closed ${this.closedAt}`);
    const bytes = this.bytes();
    assert.equal(bytes.length, file.length - from);
    assert.equal(sha256(bytes), sha256(file.subarray(from)), 'byte-exact');
  }

  /** Detach, close the channel if open, close the peer: once. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.channel.onmessage = null;
    this.channel.onclose = null;
    try {
      if (this.channel.readyState === 'open' || this.channel.readyState === 'connecting') this.channel.close();
    } catch {
      // already closing
    }
    try {
      this.pc.close();
    } catch {
      // already closed
    }
  }

  private receive(data: unknown): void {
    if (this.ended !== undefined) throw new Error(`a message after ${this.ended}: ${typeof data === 'string' ? data : 'binary'}`);
    if (typeof data === 'string') return this.receiveText(data);
    assert.ok(data instanceof ArrayBuffer, 'binary messages are ArrayBuffers');
    this.receiveBinary(Buffer.from(data));
  }

  private receiveText(text: string): void {
    const value: unknown = JSON.parse(text);
    assert.ok(isObject(value), `text message is a JSON object: ${text}`);
    this.received.push({ kind: 'text', value });
    if (this.metadata === undefined) {
      // An error may come instead of metadata only if the channel never got going.
      if (value.type === 'error') return this.receiveError(value);
      assert.equal(value.type, 'metadata', `the first message is metadata: ${text}`);
      assert.equal(this.received.length, 1, 'metadata is the first message');
      return this.receiveMetadata(value);
    }
    if (value.type === 'complete') {
      expectKeys(value, ['type'], [], 'complete');
      assert.equal(this.next, this.metadata.totalSize, `complete after the last byte (at ${this.next})`);
      this.ended = 'complete';
      return;
    }
    if (value.type === 'error') return this.receiveError(value);
    throw new Error(`unexpected text message: ${text}`);
  }

  private receiveError(value: JsonObject): void {
    const { code, message } = expectKeys(value, ['type', 'code', 'message'], [], 'error message');
    assert.ok(typeof code === 'string' && CHANNEL_ERROR_CODES.includes(code), `documented channel error code: ${String(code)}`);
    assert.equal(typeof message, 'string');
    this.errorCode = code;
    this.ended = 'error';
  }

  private receiveMetadata(value: JsonObject): void {
    const m = expectKeys(
      value,
      ['type', 'src', 'totalSize', 'totalChunks', 'chunkSize', 'mimeType', 'offset'],
      ['duration', 'preloadBytes'],
      'metadata',
    );
    assert.equal(m.src, this.options.src, 'metadata.src is the offer src');
    assert.ok(isInt(m.totalSize) && m.totalSize > 0, 'totalSize a positive integer');
    assert.ok(isInt(m.chunkSize) && m.chunkSize > 0 && m.chunkSize <= MAX_CHUNK, 'chunkSize in (0, 65536]');
    assert.equal(m.totalChunks, Math.ceil(m.totalSize / m.chunkSize), 'totalChunks = ceil(totalSize / chunkSize)');
    assert.ok(typeof m.mimeType === 'string' && /^audio\/[a-z0-9.+-]+$/.test(m.mimeType), `mimeType ${String(m.mimeType)}`);
    assert.equal(m.offset, this.options.offset ?? 0, 'metadata.offset is the offer offset');
    if (m.duration !== undefined) assert.ok(typeof m.duration === 'number' && Number.isFinite(m.duration) && m.duration > 0, 'duration > 0');
    const asked = this.options.preloadBytes;
    if (m.preloadBytes !== undefined || (asked !== undefined && asked > 0)) {
      assert.equal(m.preloadBytes, Math.min(asked ?? 0, m.totalSize - m.offset), 'preloadBytes = min(asked, totalSize − offset)');
    }
    this.metadata = m as unknown as Metadata;
    this.next = m.offset;
    this.previewEnd = m.offset + (this.metadata.preloadBytes ?? 0);
  }

  private receiveBinary(bytes: Buffer): void {
    const m = this.metadata;
    if (m === undefined) throw new Error('a binary message before metadata');
    if (this.jumpTo !== undefined && this.next >= this.previewEnd) {
      this.next = this.jumpTo;
      this.jumpTo = undefined;
    }
    const start = this.next;
    const end = start + bytes.length;
    this.received.push({ kind: 'binary', start, length: bytes.length });
    assert.ok(bytes.length > 0 && bytes.length <= m.chunkSize, `message of ${bytes.length} bytes ≤ chunkSize ${m.chunkSize}`);
    assert.ok(end <= m.totalSize, `message ends at ${end} ≤ totalSize`);
    if (this.window !== undefined) assert.ok(start < this.window, `message begins at ${start} < window end ${this.window}`);
    if (start < this.previewEnd) {
      assert.ok(end <= this.previewEnd, `preview message [${start}, ${end}) stays inside the preview (ends ${this.previewEnd})`);
      if (start === m.offset) assert.equal(bytes.length, Math.min(FIRST_PREVIEW_MESSAGE, this.previewEnd - start), 'first preview message is 8 KiB');
      else assert.ok(bytes.length === m.chunkSize || end === this.previewEnd, `preview messages are chunkSize but the last (${bytes.length})`);
    } else {
      if (this.options.deferStart) assert.ok(this.startSent, `message at ${start} before start`);
      assert.ok(bytes.length === m.chunkSize || end === m.totalSize, `a ${bytes.length}-byte message at ${start} that is not the last`);
    }
    this.next = end;
    this.chunks.push(bytes);
  }
}

async function listen(options: ListenOptions, body: (listener: Listener) => Promise<void>): Promise<void> {
  const listener = new Listener(options);
  try {
    await body(listener);
  } finally {
    listener.close();
  }
}

// ---- fixtures -----------------------------------------------------------------------------------
let lib: TempLibrary;
const files = new Map<string, Buffer>();

async function addFile(name: string, bytes: Buffer): Promise<void> {
  files.set(name, bytes);
  await lib.write(name, bytes);
}

const file = (name: string): Buffer => files.get(name)!;

before(async () => {
  lib = await tempLibrary();
  await addFile('big.mp3', fakeMp3(700_001));
  await addFile('small.mp3', fakeMp3(5_000));
  await addFile('albums/one.mp3', fakeMp3(131_072));
  await addFile('edge.mp3', fakeMp3(65_536));
  await addFile('shrink.mp3', fakeMp3(400_000));
  await addFile('.hidden.mp3', fakeMp3(1_000));
  await addFile('empty.mp3', Buffer.alloc(0));
  await addFile('notes.txt', Buffer.from('not audio'));
  await addFile('fake.mp3', Buffer.from('this is text with an .mp3 name'));
});

after(async () => {
  await lib.remove();
});

interface Server {
  url: string;
  child: ChildProcess;
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}
const startServer = startServerUntyped as (options: { env: Record<string, string>; timeoutMs: number }) => Promise<Server>;

function withServer(env: Record<string, string>): { url: () => string; server: () => Server } {
  let server: Server | undefined;
  before(async () => {
    server = await startServer({ env: { AUDIO_DIR: lib.dir, RATE_LIMIT_PER_IP: '0', ...env }, timeoutMs: WAIT_MS });
  });
  after(async () => {
    await server?.stop();
  });
  return { url: () => server!.url, server: () => server! };
}

// ---- the tests ---------------------------------------------------------------------------------
describe('README client: HTTP endpoints', { timeout: 300_000 }, () => {
  const srv = withServer({ PACE_CHUNKS_PER_SECOND: '0' });
  let sdp = '';
  before(async () => {
    sdp = await throwawayOfferSdp();
  });
  const valid = (extra: JsonObject = {}): JsonObject => ({ offer: { type: 'offer', sdp }, clientId: randomUUID(), src: 'big.mp3', ...extra });

  test('GET /api/health: status, uptime, activePeers and the documented counters', async () => {
    const result = await http(`${srv.url()}/api/health`);
    assert.equal(result.status, 200);
    const h = expectKeys(
      result.body,
      ['status', 'uptime', 'activePeers'],
      ['maxPeers', 'peersCreated', 'peersClosed', 'closeReasons', 'peerProcessPid', 'peerProcessRestarts', 'pid', 'rssBytes'],
      'health',
    );
    assert.equal(h.status, 'ok');
    assert.ok(typeof h.uptime === 'number' && h.uptime >= 0);
    for (const key of ['activePeers', 'maxPeers', 'peersCreated', 'peersClosed', 'peerProcessRestarts', 'pid', 'rssBytes']) {
      assert.ok(isInt(h[key]) && h[key] >= 0, `${key} a non-negative integer`);
    }
    assert.equal(h.maxPeers, 300, 'MAX_PEERS default');
    assert.equal(h.pid, srv.server().child.pid);
    assert.ok(isInt(h.peerProcessPid) || h.peerProcessPid === null, 'peerProcessPid');
    const reasons = h.closeReasons;
    assert.ok(isObject(reasons), 'closeReasons an object');
    for (const [reason, count] of Object.entries(reasons)) {
      assert.ok(CLOSE_REASONS.includes(reason), `documented close reason ${reason}`);
      assert.ok(isInt(count) && count > 0, `closeReasons.${reason}`);
    }
    assert.equal(result.headers.get('cache-control'), 'no-store');
  });

  test('GET /api/tracks: the library’s streamable files with src, size, mimeType, duration', async () => {
    const result = await http(`${srv.url()}/api/tracks`);
    assert.equal(result.status, 200);
    assert.ok(Array.isArray(result.body));
    const bySrc = new Map<string, JsonObject>();
    for (const track of result.body) {
      const t = expectKeys(track, ['src', 'size', 'mimeType'], ['duration'], 'track');
      assert.equal(typeof t.src, 'string');
      assert.ok(isInt(t.size) && t.size > 0);
      assert.match(String(t.mimeType), /^audio\//);
      if (t.duration !== undefined) assert.ok(typeof t.duration === 'number' && t.duration > 0);
      bySrc.set(t.src as string, t);
    }
    for (const name of ['big.mp3', 'small.mp3', 'albums/one.mp3', 'edge.mp3']) {
      assert.ok(bySrc.has(name), `${name} listed`);
      assert.equal(bySrc.get(name)!.size, file(name).length);
      assert.equal(bySrc.get(name)!.mimeType, 'audio/mpeg');
    }
    for (const name of ['.hidden.mp3', 'empty.mp3', 'notes.txt', 'fake.mp3']) assert.ok(!bySrc.has(name), `${name} not listed`);
  });

  test('GET /media/<src>: whole file, and byte ranges (206 / Content-Range)', async () => {
    const big = file('big.mp3');
    const whole = await http(`${srv.url()}/media/big.mp3`);
    assert.equal(whole.status, 200);
    assert.equal(whole.headers.get('accept-ranges'), 'bytes');
    assert.equal(whole.headers.get('content-type'), 'audio/mpeg');
    assert.equal(sha256(whole.raw), sha256(big));
    const cases: Array<[string, number, number]> = [
      ['bytes=100-199', 100, 199],
      ['bytes=700000-', 700_000, big.length - 1],
      ['bytes=-10', big.length - 10, big.length - 1],
      ['bytes=0-99999999', 0, big.length - 1],
    ];
    for (const [range, first, last] of cases) {
      const part = await http(`${srv.url()}/media/big.mp3`, { headers: { Range: range } });
      assert.equal(part.status, 206, range);
      assert.equal(part.headers.get('content-range'), `bytes ${first}-${last}/${big.length}`, range);
      assert.equal(Number(part.headers.get('content-length')), last - first + 1, range);
      assert.ok(part.raw.equals(big.subarray(first, last + 1)), range);
    }
    const nested = await http(`${srv.url()}/media/albums/one.mp3`, { headers: { Range: 'bytes=0-3' } });
    assert.equal(nested.status, 206);
    assert.ok(nested.raw.equals(file('albums/one.mp3').subarray(0, 4)));
    for (const range of [`bytes=${big.length}-`, 'bytes=-0']) {
      const unsatisfiable = await http(`${srv.url()}/media/big.mp3`, { headers: { Range: range } });
      assert.equal(unsatisfiable.status, 416, range);
      assert.equal(unsatisfiable.headers.get('content-range'), `bytes */${big.length}`, range);
      assert.equal(unsatisfiable.raw.length, 0, 'empty body');
    }
    for (const range of ['bytes=0-1,5-6', 'items=0-1', 'bytes=9-5']) {
      const whole = await http(`${srv.url()}/media/big.mp3`, { headers: { Range: range } });
      assert.equal(whole.status, 200, range);
      assert.equal(sha256(whole.raw), sha256(big), range);
    }
    const head = await http(`${srv.url()}/media/big.mp3`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(Number(head.headers.get('content-length')), big.length);
    assert.equal(head.raw.length, 0);
    const put = await http(`${srv.url()}/media/big.mp3`, { method: 'PUT', body: 'x' });
    expectError(put, 405, 'BAD_REQUEST');
    assert.equal(put.headers.get('allow'), 'GET, HEAD');
  });

  test('GET /media/<src>: refused and missing files get the JSON errors', async () => {
    expectError(await http(`${srv.url()}/media/missing.mp3`), 404, 'TRACK_NOT_FOUND');
    expectError(await http(`${srv.url()}/media/.hidden.mp3`), 400, 'BAD_SRC');
    expectError(await http(`${srv.url()}/media/%2e%2e%2fetc%2fpasswd`), 400, 'BAD_SRC');
    expectError(await http(`${srv.url()}/media/fake.mp3`), 415, 'NOT_AUDIO');
    expectError(await http(`${srv.url()}/media/empty.mp3`), 415, 'NOT_AUDIO');
    expectError(await http(`${srv.url()}/media/notes.txt`), 415, 'NOT_AUDIO');
  });

  test('unknown route 404 NOT_FOUND; known route, wrong method 405 BAD_REQUEST', async () => {
    expectError(await http(`${srv.url()}/api/nothing-here`), 404, 'NOT_FOUND');
    const get = await http(`${srv.url()}/api/offer`);
    expectError(get, 405, 'BAD_REQUEST');
    assert.match(get.headers.get('allow') ?? '', /POST/);
    expectError(await http(`${srv.url()}/api/tracks`, { method: 'POST', body: '{}', headers: { 'Content-Type': 'application/json' } }), 405, 'BAD_REQUEST');
  });

  test('POST /api/offer: malformed bodies get their documented errors and make no peer', async () => {
    const url = srv.url();
    await sleep(300); // health's peer counts come from the peer process every 100 ms
    const createdBefore = await peersCreated(url);
    const cases: Array<[string, number, string, Parameters<typeof postOffer>[2]]> = [
      ['not JSON', 400, 'BAD_JSON', { raw: '{"offer": ' }],
      ['JSON array', 400, 'BAD_REQUEST', { raw: '[]' }],
      ['JSON null', 400, 'BAD_JSON', { raw: 'null' }],
      ['JSON string', 400, 'BAD_JSON', { raw: '"offer"' }],
      ['JSON number', 400, 'BAD_JSON', { raw: '5' }],
      ['__proto__ key', 400, 'BAD_JSON', { raw: `{"__proto__": {"x": 1}, "offer": {"type": "offer", "sdp": ${JSON.stringify(sdp)}}, "clientId": "a", "src": "big.mp3"}` }],
      ['form content type', 415, 'UNSUPPORTED_MEDIA_TYPE', { contentType: 'application/x-www-form-urlencoded' }],
      ['text/plain in latin1', 415, 'UNSUPPORTED_MEDIA_TYPE', { contentType: 'text/plain; charset=iso-8859-1' }],
      ['oversize body', 413, 'PAYLOAD_TOO_LARGE', { raw: JSON.stringify({ ...valid(), pad: 'x'.repeat(JSON_LIMIT) }) }],
    ];
    const failures: string[] = [];
    const check = (what: string, result: HttpResult, status: number, code: string): void => {
      try {
        expectError(result, status, code);
      } catch (error) {
        failures.push(`${what}: ${error instanceof Error ? error.message.replace(/\s+/g, ' ') : String(error)}`);
      }
    };
    for (const [what, status, code, init] of cases) check(what, await postOffer(url, valid(), init), status, code);
    const bodies: Array<[string, unknown, number, string]> = [
      ['unknown key', valid({ extra: 1 }), 400, 'BAD_REQUEST'],
      ['deferStart not boolean', valid({ deferStart: 'yes' }), 400, 'BAD_REQUEST'],
      ['offer missing', { clientId: 'abc', src: 'big.mp3' }, 400, 'BAD_OFFER'],
      ['offer type answer', valid({ offer: { type: 'answer', sdp } }), 400, 'BAD_OFFER'],
      ['offer not an object', valid({ offer: sdp }), 400, 'BAD_OFFER'],
      ['offer.sdp missing', valid({ offer: { type: 'offer' } }), 400, 'BAD_OFFER'],
      ['SDP not v=0', valid({ offer: { type: 'offer', sdp: 'hello' } }), 400, 'BAD_OFFER'],
      ['SDP without DataChannel', valid({ offer: { type: 'offer', sdp: sdp.replace(/m=application[^\r]*/, 'm=audio 9 UDP/TLS/RTP/SAVPF 111') } }), 400, 'BAD_OFFER'],
      ['SDP too long', valid({ offer: { type: 'offer', sdp: sdp + 'a=x\r\n'.repeat(Math.ceil(MAX_SDP / 5)) } }), 400, 'BAD_OFFER'],
      ['clientId missing', { offer: { type: 'offer', sdp }, src: 'big.mp3' }, 400, 'BAD_CLIENT_ID'],
      ['clientId empty', valid({ clientId: '' }), 400, 'BAD_CLIENT_ID'],
      ['clientId 65 chars', valid({ clientId: 'a'.repeat(65) }), 400, 'BAD_CLIENT_ID'],
      ['clientId bad char', valid({ clientId: 'a b' }), 400, 'BAD_CLIENT_ID'],
      ['clientId number', valid({ clientId: 42 }), 400, 'BAD_CLIENT_ID'],
      ['src missing', { offer: { type: 'offer', sdp }, clientId: 'abc' }, 400, 'BAD_SRC'],
      ['src empty', valid({ src: '' }), 400, 'BAD_SRC'],
      ['src traversing', valid({ src: '../etc/passwd' }), 400, 'BAD_SRC'],
      ['src traversing inside', valid({ src: 'albums/../big.mp3' }), 400, 'BAD_SRC'],
      ['src absolute', valid({ src: '/etc/passwd' }), 400, 'BAD_SRC'],
      ['src dotfile', valid({ src: '.hidden.mp3' }), 400, 'BAD_SRC'],
      ['src dot folder', valid({ src: '.git/x.mp3' }), 400, 'BAD_SRC'],
      ['src backslash', valid({ src: 'albums\\one.mp3' }), 400, 'BAD_SRC'],
      ['src percent', valid({ src: 'big%2emp3' }), 400, 'BAD_SRC'],
      ['src control char', valid({ src: 'big\u0001.mp3' }), 400, 'BAD_SRC'],
      ['src 1025 chars', valid({ src: `${'a'.repeat(1021)}.mp3` }), 400, 'BAD_SRC'],
      ['src number', valid({ src: 7 }), 400, 'BAD_SRC'],
      ['src unknown', valid({ src: 'missing.mp3' }), 404, 'TRACK_NOT_FOUND'],
      ['src 1024 chars unknown', valid({ src: `${'a'.repeat(250)}/`.repeat(4).concat('b'.repeat(16), '.mp3') }), 404, 'TRACK_NOT_FOUND'],
      ['src segment over 255 bytes', valid({ src: `${'a'.repeat(252)}.mp3` }), 400, 'BAD_SRC'],
      ['src empty segment', valid({ src: 'albums//one.mp3' }), 400, 'BAD_SRC'],
      ['src trailing slash', valid({ src: 'albums/' }), 400, 'BAD_SRC'],
      ['src dot segment', valid({ src: './big.mp3' }), 400, 'BAD_SRC'],
      ['src a folder', valid({ src: 'albums' }), 404, 'TRACK_NOT_FOUND'],
      ['src not audio', valid({ src: 'notes.txt' }), 415, 'NOT_AUDIO'],
      ['src .mp3 without magic', valid({ src: 'fake.mp3' }), 415, 'NOT_AUDIO'],
      ['src empty file', valid({ src: 'empty.mp3' }), 415, 'NOT_AUDIO'],
      ['offset negative', valid({ offset: -1 }), 400, 'BAD_OFFSET'],
      ['offset fraction', valid({ offset: 1.5 }), 400, 'BAD_OFFSET'],
      ['offset = totalSize', valid({ offset: file('big.mp3').length }), 400, 'BAD_OFFSET'],
      ['offset string', valid({ offset: '5' }), 400, 'BAD_OFFSET'],
      ['preloadBytes without deferStart', valid({ preloadBytes: 1000 }), 400, 'BAD_REQUEST'],
      ['preloadBytes with deferStart false', valid({ deferStart: false, preloadBytes: 1 }), 400, 'BAD_REQUEST'],
      ['preloadBytes over 262144', valid({ deferStart: true, preloadBytes: MAX_PRELOAD + 1 }), 400, 'BAD_REQUEST'],
      ['preloadBytes negative', valid({ deferStart: true, preloadBytes: -1 }), 400, 'BAD_REQUEST'],
      ['windowEnd = offset', valid({ offset: 10, windowEnd: 10 }), 400, 'BAD_REQUEST'],
      ['windowEnd fraction', valid({ windowEnd: 10.5 }), 400, 'BAD_REQUEST'],
      ['windowEnd below offset', valid({ offset: 10, windowEnd: 5 }), 400, 'BAD_REQUEST'],
      // The first failing check decides, in the README's order: the body's shape field by field,
      // then src against the library, then offset against the file's size.
      ['bad clientId and bad src', valid({ clientId: '', src: '../x' }), 400, 'BAD_CLIENT_ID'],
      ['empty src and bad offset', valid({ src: '', offset: -1 }), 400, 'BAD_SRC'],
      ['traversing src and bad offset', valid({ src: '../x', offset: -1 }), 400, 'BAD_OFFSET'],
      ['traversing src and bad windowEnd', valid({ src: '../x', windowEnd: 0 }), 400, 'BAD_REQUEST'],
      ['unknown src and offset past it', valid({ src: 'missing.mp3', offset: 10 ** 9 }), 404, 'TRACK_NOT_FOUND'],
      ['unknown key and bad offer', { offer: 1, clientId: 'a', src: 'big.mp3', extra: 1 }, 400, 'BAD_REQUEST'],
    ];
    for (const [what, body, status, code] of bodies) check(what, await postOffer(url, body), status, code);
    assert.deepEqual(failures, []);
    await sleep(300);
    assert.equal(await peersCreated(url), createdBefore, 'no peer was made for a refused offer');
  });

  test('POST /api/offer as text/plain and as application/json; charset=utf-8: same answer', async () => {
    for (const contentType of ['text/plain', 'text/plain;charset=UTF-8', 'application/json; charset=utf-8']) {
      await listen({ src: 'small.mp3', contentType }, async (listener) => {
        const result = await listener.open(srv.url());
        const timing = result.headers.get('server-timing') ?? '';
        const durations = new Map<string, number>();
        for (const part of timing.split(',')) {
          const match = /^\s*([a-z]+);dur=([0-9.]+)\s*$/.exec(part);
          assert.ok(match, `Server-Timing entry "${part}"`);
          durations.set(match[1]!, Number(match[2]));
        }
        assert.deepEqual([...durations.keys()].sort(), ['answer', 'body', 'gather', 'negotiate', 'peer'], timing);
        await listener.untilEnded();
        listener.assertComplete(file('small.mp3'));
      });
    }
    await noActivePeers(srv.url());
  });
});

describe('README client: the DataChannel stream', { timeout: 600_000 }, () => {
  const srv = withServer({ PACE_CHUNKS_PER_SECOND: '0' });

  test('offer → answer → metadata → every chunk → complete, byte-exact', async () => {
    for (const src of ['big.mp3', 'small.mp3', 'edge.mp3', 'albums/one.mp3']) {
      await listen({ src }, async (listener) => {
        await listener.open(srv.url());
        const m = listener.metadata!;
        assert.equal(m.chunkSize, MAX_CHUNK, 'wrtc offers a=max-message-size:262144, so 65536');
        assert.equal(m.totalSize, file(src).length);
        assert.equal(m.mimeType, 'audio/mpeg');
        await listener.untilEnded();
        listener.assertComplete(file(src), 0);
        if (listener.resumes === 0) {
          const binaries = listener.received.filter((r) => r.kind === 'binary');
          assert.equal(binaries.length, m.totalChunks, 'a whole-file stream is totalChunks messages');
          assert.equal(listener.received.at(-1)!.kind, 'text');
        }
      });
    }
    await noActivePeers(srv.url());
  });

  test('chunkSize follows the offer’s a=max-message-size (smaller, absent, 0)', async () => {
    const cases: Array<[string, (sdp: string) => string, number]> = [
      ['16384', (sdp) => sdp.replace(/a=max-message-size:\d+/, 'a=max-message-size:16384'), 16_384],
      ['absent', (sdp) => sdp.replace(/a=max-message-size:\d+\r\n/, ''), MAX_CHUNK],
      ['0 (no limit)', (sdp) => sdp.replace(/a=max-message-size:\d+/, 'a=max-message-size:0'), MAX_CHUNK],
      ['1000', (sdp) => sdp.replace(/a=max-message-size:\d+/, 'a=max-message-size:1000'), 1_000],
    ];
    for (const [what, rewrite, chunkSize] of cases) {
      await listen({ src: 'albums/one.mp3', sdp: rewrite }, async (listener) => {
        await listener.open(srv.url());
        assert.equal(listener.metadata!.chunkSize, chunkSize, what);
        await listener.untilEnded();
        listener.assertComplete(file('albums/one.mp3'));
      });
    }
  });

  test('offset resume: metadata describes the whole file, bytes from offset on', async () => {
    const big = file('big.mp3');
    for (const offset of [1, 65_536, 100_000, big.length - 1]) {
      await listen({ src: 'big.mp3', offset }, async (listener) => {
        await listener.open(srv.url());
        assert.equal(listener.metadata!.offset, offset);
        assert.equal(listener.metadata!.totalSize, big.length);
        assert.equal(listener.metadata!.totalChunks, Math.ceil(big.length / MAX_CHUNK));
        await listener.untilEnded();
        listener.assertComplete(big, offset);
      });
    }
    // A drop and a resume: the two parts join byte-exact.
    let head: Buffer = Buffer.alloc(0);
    await listen({ src: 'big.mp3', windowEnd: 150_000 }, async (listener) => {
      await listener.open(srv.url());
      await listener.untilBytes(196_608);
      head = listener.bytes();
    });
    await listen({ src: 'big.mp3', offset: head.length }, async (listener) => {
      await listener.open(srv.url());
      await listener.untilEnded();
      listener.assertComplete(big, head.length);
      assert.equal(sha256(Buffer.concat([head, listener.bytes()])), sha256(big));
    });
    await noActivePeers(srv.url());
  });

  test('deferStart: only metadata until start; then the whole stream', async () => {
    await listen({ src: 'big.mp3', deferStart: true }, async (listener) => {
      await listener.open(srv.url());
      assert.equal(listener.metadata!.preloadBytes, undefined, 'no preloadBytes when none was asked');
      assert.equal(await listener.arrivalsDuringQuiet(), 0, 'nothing before start');
      listener.send({ type: 'start' });
      listener.send({ type: 'start' }); // harmless repeat
      await listener.untilEnded();
      listener.assertComplete(file('big.mp3'));
    });
  });

  test('deferStart + preloadBytes: the preview, nothing until start, then the rest in order', async () => {
    const big = file('big.mp3');
    for (const [offset, preloadBytes] of [[0, 100_000], [1_000, MAX_PRELOAD], [0, 5_000], [0, 0]] as const) {
      await listen({ src: 'big.mp3', offset, deferStart: true, preloadBytes }, async (listener) => {
        await listener.open(srv.url());
        await listener.untilBytes(preloadBytes);
        assert.equal(listener.bytesReceived, preloadBytes);
        assert.equal(await listener.arrivalsDuringQuiet(), 0, 'nothing past the preview before start');
        assert.ok(listener.bytes().equals(big.subarray(offset, offset + preloadBytes)), 'the preview is the file bytes from offset');
        listener.send({ type: 'start' });
        await listener.untilEnded();
        listener.assertComplete(big, offset);
      });
    }
  });

  test('a preview that reaches the end of the file is followed by complete without start', async () => {
    await listen({ src: 'small.mp3', deferStart: true, preloadBytes: 100_000 }, async (listener) => {
      await listener.open(srv.url());
      assert.equal(listener.metadata!.preloadBytes, file('small.mp3').length);
      await listener.untilEnded();
      listener.assertComplete(file('small.mp3'));
    });
  });

  test('start with an offset on a deferStart connection: the stream begins there', async () => {
    const big = file('big.mp3');
    await listen({ src: 'big.mp3', deferStart: true }, async (listener) => {
      await listener.open(srv.url());
      listener.jumpTo = 200_000; // the README: binary messages begin at the start's offset
      listener.send({ type: 'start', offset: 200_000 });
      await listener.untilEnded();
      listener.assertComplete(big, 200_000);
    });
  });

  test('start is ignored on a connection without deferStart', async () => {
    await listen({ src: 'big.mp3', windowEnd: 1 }, async (listener) => {
      await listener.open(srv.url());
      await listener.untilBytes(1);
      listener.send({ type: 'start' });
      listener.send({ type: 'start', offset: 0 });
      listener.send({ type: 'window', end: 2 ** 53 - 1 });
      await listener.untilEnded();
      listener.assertComplete(file('big.mp3'));
    });
  });

  test('start with an offset after a preview: the preview, then the stream from that offset', async () => {
    const big = file('big.mp3');
    await listen({ src: 'big.mp3', deferStart: true, preloadBytes: 100_000 }, async (listener) => {
      await listener.open(srv.url());
      await listener.untilBytes(100_000);
      listener.jumpTo = 400_000; // the README: after the preview, the stream begins at start's offset
      listener.send({ type: 'start', offset: 400_000 });
      await listener.untilEnded();
      listener.assertClean();
      assert.equal(listener.ended, 'complete');
      assert.ok(listener.bytes().equals(Buffer.concat([big.subarray(0, 100_000), big.subarray(400_000)])));
    });
  });

  test('preloadBytes 0 is allowed without deferStart; extra keys inside offer are ignored', async () => {
    await listen({ src: 'small.mp3', preloadBytes: 0, offerExtra: { note: 1 } }, async (listener) => {
      await listener.open(srv.url());
      assert.equal(listener.metadata!.preloadBytes, undefined);
      await listener.untilEnded();
      listener.assertComplete(file('small.mp3'));
    });
  });

  test('windowEnd + window: no message begins at or after the granted end; the credit flow is byte-exact', async () => {
    const big = file('big.mp3');
    const W = 100_000;
    await listen({ src: 'big.mp3', windowEnd: W }, async (listener) => {
      await listener.open(srv.url());
      let granted = W;
      while (listener.ended === undefined) {
        // The last message the window allows begins below `granted`; wait for it, then for quiet.
        const stop = Math.min(big.length, Math.ceil(granted / MAX_CHUNK) * MAX_CHUNK);
        await listener.untilBytes(stop);
        if (stop < big.length) {
          assert.equal(await listener.arrivalsDuringQuiet(), 0, `the server holds at ${stop} (window ${granted})`);
          assert.equal(listener.bytesReceived, stop);
          assert.ok(listener.bytesReceived - granted < MAX_CHUNK, 'at most chunkSize − 1 bytes past the window');
          // A lower or equal end changes nothing.
          listener.send({ type: 'window', end: granted - 1 });
          assert.equal(await listener.arrivalsDuringQuiet(), 0, 'a lower window end changes nothing');
          granted = listener.bytesReceived + W;
          listener.send({ type: 'window', end: granted });
        } else await listener.untilEnded();
      }
      listener.assertComplete(big);
    });
  });

  test('windowEnd on a chunk boundary: no message begins at windowEnd itself', async () => {
    await listen({ src: 'big.mp3', windowEnd: 2 * MAX_CHUNK }, async (listener) => {
      await listener.open(srv.url());
      await listener.untilBytes(2 * MAX_CHUNK);
      assert.equal(await listener.arrivalsDuringQuiet(), 0, 'held at windowEnd');
      assert.equal(listener.bytesReceived, 2 * MAX_CHUNK);
      listener.send({ type: 'window', end: 2 * MAX_CHUNK + 1 });
      await listener.untilBytes(3 * MAX_CHUNK);
      assert.equal(await listener.arrivalsDuringQuiet(), 0, 'one more message, then held again');
      listener.send({ type: 'window', end: 2 ** 53 - 1 });
      await listener.untilEnded();
      listener.assertComplete(file('big.mp3'));
    });
  });

  test('windowEnd includes the preview; a window end past the file means everything', async () => {
    const big = file('big.mp3');
    await listen({ src: 'big.mp3', deferStart: true, preloadBytes: 200_000, windowEnd: 50_000 }, async (listener) => {
      await listener.open(srv.url());
      // 8 KiB first, then a whole chunk that begins below 50,000: the server holds at 73,728.
      await listener.untilBytes(FIRST_PREVIEW_MESSAGE + MAX_CHUNK);
      assert.equal(await listener.arrivalsDuringQuiet(), 0, 'the window holds the preview');
      assert.equal(listener.bytesReceived, FIRST_PREVIEW_MESSAGE + MAX_CHUNK);
      listener.send({ type: 'window', end: 2 ** 53 - 1 });
      await listener.untilBytes(200_000);
      assert.equal(await listener.arrivalsDuringQuiet(), 0, 'and then start is still needed');
      listener.send({ type: 'start' });
      await listener.untilEnded();
      listener.assertComplete(big);
    });
  });

  test('window on a connection without windowEnd turns the window on', async () => {
    await listen({ src: 'big.mp3', deferStart: true }, async (listener) => {
      await listener.open(srv.url());
      listener.send({ type: 'window', end: 1 });
      listener.send({ type: 'start' });
      await listener.untilBytes(MAX_CHUNK);
      assert.equal(await listener.arrivalsDuringQuiet(), 0, 'one message begins below 1, then the hold');
      assert.equal(listener.bytesReceived, MAX_CHUNK);
      listener.send({ type: 'window', end: file('big.mp3').length * 2 });
      await listener.untilEnded();
      listener.assertComplete(file('big.mp3'));
    });
  });

  test('pause holds the stream even when the window is raised; resume continues at the next byte', async () => {
    await listen({ src: 'big.mp3', windowEnd: 1 }, async (listener) => {
      await listener.open(srv.url());
      await listener.untilBytes(MAX_CHUNK);
      listener.send({ type: 'pause' });
      listener.send({ type: 'pause' }); // idempotent
      listener.send({ type: 'window', end: 2 ** 53 - 1 });
      assert.equal(await listener.arrivalsDuringQuiet(), 0, 'paused');
      listener.send({ type: 'resume' });
      listener.send({ type: 'resume' });
      await listener.untilEnded();
      listener.assertComplete(file('big.mp3'));
    });
  });

  test('pause before start: start begins nothing until resume', async () => {
    await listen({ src: 'big.mp3', deferStart: true }, async (listener) => {
      await listener.open(srv.url());
      listener.send({ type: 'pause' });
      listener.send({ type: 'start' });
      assert.equal(await listener.arrivalsDuringQuiet(), 0, 'paused start sends nothing');
      listener.send({ type: 'resume' });
      await listener.untilEnded();
      listener.assertComplete(file('big.mp3'));
    });
    await noActivePeers(srv.url());
  });

  test('malformed client messages get BAD_MESSAGE and the connection closes', async () => {
    const hostile: Array<[string, JsonObject | string | Uint8Array, ListenOptions?]> = [
      ['not JSON', 'pause'],
      ['JSON array', '[]'],
      ['JSON null', 'null'],
      ['unknown type', { type: 'seek', offset: 0 }],
      ['pause with a field', { type: 'pause', now: true }],
      ['resume with a field', { type: 'resume', x: 1 }],
      ['window without end', { type: 'window' }],
      ['window end negative', { type: 'window', end: -1 }],
      ['window end fraction', { type: 'window', end: 1.5 }],
      ['window end over 2^53 − 1', { type: 'window', end: 2 ** 53 }],
      ['window end a string', { type: 'window', end: '5' }],
      ['a binary message', Uint8Array.of(1, 2, 3)],
      ['over 4096 characters', `{"type":"pause"${' '.repeat(CLIENT_MESSAGE_LIMIT)}}`],
      ['start with another offset', { type: 'start', offset: 5 }, { src: 'big.mp3', deferStart: true, offset: 10, windowEnd: 11 }],
      ['start with an offset on a connection without deferStart', { type: 'start', offset: 5 }, { src: 'big.mp3', windowEnd: 1 }],
      ['start offset = totalSize', { type: 'start', offset: 700_001 }, { src: 'big.mp3', deferStart: true }],
      ['start offset a fraction', { type: 'start', offset: 1.5 }, { src: 'big.mp3', deferStart: true }],
      ['start with a field other than offset', { type: 'start', note: 'x' }, { src: 'big.mp3', deferStart: true }],
    ];
    const failures: string[] = [];
    for (const [what, message, options] of hostile) {
      await listen(options ?? { src: 'big.mp3', windowEnd: 1 }, async (listener) => {
        try {
          await listener.open(srv.url());
          if (what === 'start with another offset') listener.send({ type: 'start' });
          if (!options?.deferStart || what === 'start with another offset') await listener.untilBytes(1);
          listener.send(message);
          await listener.untilEnded(20_000);
          listener.assertClean();
          assert.equal(listener.ended, 'error', what);
          assert.equal(listener.errorCode, 'BAD_MESSAGE', what);
          // The server closes the connection itself (after up to 3 s).
          await until(`${what}: the server closes the channel`, () => listener.channelClosed);
        } catch (error) {
          failures.push(`${what}: ${error instanceof Error ? error.message.replace(/\s+/g, ' ') : String(error)}`);
        }
      });
    }
    assert.deepEqual(failures, []);
    await noActivePeers(srv.url());
  });

  test('FILE_CHANGED: a file that shrinks after the offer', async () => {
    await listen({ src: 'shrink.mp3', deferStart: true }, async (listener) => {
      await listener.open(srv.url());
      await truncate(`${lib.dir}/shrink.mp3`, 100_000);
      listener.send({ type: 'start' });
      await listener.untilEnded();
      listener.assertClean();
      assert.equal(listener.errorCode, 'FILE_CHANGED');
      assert.ok(listener.bytes().equals(file('shrink.mp3').subarray(0, listener.bytesReceived)), 'what came was right');
    });
    await noActivePeers(srv.url());
  });
});

describe('README client: idle timeouts', { timeout: 300_000 }, () => {
  const srv = withServer({ PACE_CHUNKS_PER_SECOND: '0', DEFER_START_IDLE_MS: '1000', PAUSED_IDLE_MS: '1000', CHANNEL_OPEN_TIMEOUT_MS: '1500', COMPLETE_LINGER_MS: '1500' });

  test('COMPLETE_LINGER_MS: the server closes a completed connection the client leaves open', async () => {
    await listen({ src: 'small.mp3' }, async (listener) => {
      await listener.open(srv.url());
      await listener.untilEnded();
      listener.assertComplete(file('small.mp3'));
      await until('the server closes the channel after complete', () => listener.channelClosed);
    });
  });


  test('CHANNEL_OPEN_TIMEOUT_MS: a peer whose channel never opens is closed (closeReasons.open-timeout)', async () => {
    const before = (await health(srv.url())).closeReasons as JsonObject;
    // An answered offer whose client is gone before it could connect.
    const sdp = await throwawayOfferSdp();
    const result = await postOffer(srv.url(), { offer: { type: 'offer', sdp }, clientId: 'gone', src: 'small.mp3' });
    assert.equal(result.status, 200);
    checkAnswer(result.body);
    await noActivePeers(srv.url());
    await sleep(300);
    const after = (await health(srv.url())).closeReasons as JsonObject;
    assert.equal(after['open-timeout'], ((before['open-timeout'] as number | undefined) ?? 0) + 1);
  });

  test('IDLE_TIMEOUT: a deferStart channel without start, a stream held by its window, a paused stream', async () => {
    const cases: Array<[string, ListenOptions, JsonObject?]> = [
      ['no start', { src: 'big.mp3', deferStart: true }],
      ['window used up', { src: 'big.mp3', windowEnd: 1 }],
      ['paused', { src: 'big.mp3', windowEnd: 1 }, { type: 'pause' }],
    ];
    for (const [what, options, message] of cases) {
      await listen(options, async (listener) => {
        await listener.open(srv.url());
        if (message) listener.send(message);
        await listener.untilEnded();
        listener.assertClean();
        assert.equal(listener.errorCode, 'IDLE_TIMEOUT', what);
        // Resuming at the next byte gets the rest.
        await listen({ src: 'big.mp3', offset: listener.bytesReceived }, async (again) => {
          await again.open(srv.url());
          await again.untilEnded();
          again.assertComplete(file('big.mp3'), listener.bytesReceived);
        });
      });
    }
  });
});

describe('README client: admission (MAX_PEERS, CORS_ORIGINS)', { timeout: 300_000 }, () => {
  const srv = withServer({ PACE_CHUNKS_PER_SECOND: '0', MAX_PEERS: '1', CORS_ORIGINS: 'http://allowed.example' });

  test('503 SERVER_BUSY with Retry-After above MAX_PEERS', async () => {
    await listen({ src: 'big.mp3', deferStart: true }, async (holder) => {
      await holder.open(srv.url());
      const second = new Listener({ src: 'small.mp3' });
      try {
        const busy = await second.connect(srv.url());
        expectError(busy, 503, 'SERVER_BUSY');
        assert.equal(busy.headers.get('retry-after'), '2');
      } finally {
        second.close();
      }
    });
    await noActivePeers(srv.url());
  });

  test('text/plain from an unlisted origin: 403 ORIGIN_NOT_ALLOWED before any peer; listed origin and JSON pass', async () => {
    const sdp = await throwawayOfferSdp();
    const body = { offer: { type: 'offer', sdp }, clientId: 'abc', src: 'big.mp3' };
    const created = await peersCreated(srv.url());
    expectError(await postOffer(srv.url(), body, { contentType: 'text/plain', origin: 'http://evil.example' }), 403, 'ORIGIN_NOT_ALLOWED');
    expectError(await postOffer(srv.url(), { ...body, src: '../x' }, { contentType: 'text/plain', origin: 'http://evil.example' }), 403, 'ORIGIN_NOT_ALLOWED');
    assert.equal(await peersCreated(srv.url()), created);
    // The listed origin (and an application/json offer, which a browser preflights) is answered.
    expectError(await postOffer(srv.url(), { ...body, src: '../x' }, { contentType: 'text/plain', origin: 'http://allowed.example' }), 400, 'BAD_SRC');
    expectError(await postOffer(srv.url(), { ...body, src: '../x' }, { origin: 'http://evil.example' }), 400, 'BAD_SRC');
    // The server's own origin, and a client that sends no Origin, are not affected either.
    expectError(await postOffer(srv.url(), { ...body, src: '../x' }, { contentType: 'text/plain', origin: srv.url() }), 400, 'BAD_SRC');
    expectError(await postOffer(srv.url(), { ...body, src: '../x' }, { contentType: 'text/plain' }), 400, 'BAD_SRC');
    const preflight = await http(`${srv.url()}/api/offer`, {
      method: 'OPTIONS',
      headers: { Origin: 'http://allowed.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' },
    });
    assert.ok(preflight.status === 204 || preflight.status === 200, `preflight ${preflight.status}`);
    assert.equal(preflight.headers.get('access-control-allow-origin'), 'http://allowed.example');
    assert.equal(preflight.headers.get('access-control-max-age'), '600');
    assert.equal(preflight.headers.get('access-control-allow-credentials'), null, 'no credentials, ever');
  });
});

describe('README client: rate limit', { timeout: 300_000 }, () => {
  const srv = withServer({ PACE_CHUNKS_PER_SECOND: '0', RATE_LIMIT_PER_IP: '2', RATE_LIMIT_WINDOW_SECONDS: '60' });

  test('over RATE_LIMIT_PER_IP offers: 429 RATE_LIMITED with Retry-After; refused offers count, unparsable ones do not', async () => {
    expectError(await postOffer(srv.url(), undefined, { raw: '{' }), 400, 'BAD_JSON');
    expectError(await postOffer(srv.url(), { offer: { type: 'offer', sdp: 'v=0' }, clientId: 'a', src: '../x' }), 400, 'BAD_OFFER');
    await listen({ src: 'small.mp3' }, async (listener) => {
      await listener.open(srv.url());
      await listener.untilEnded();
      listener.assertComplete(file('small.mp3'));
    });
    const third = new Listener({ src: 'small.mp3' });
    try {
      const result = await third.connect(srv.url());
      expectError(result, 429, 'RATE_LIMITED');
      assert.ok(Number(result.headers.get('retry-after')) >= 1 && Number(result.headers.get('retry-after')) <= 60);
    } finally {
      third.close();
    }
  });
});

describe('README client: shutdown', { timeout: 300_000 }, () => {
  const srv = withServer({ PACE_CHUNKS_PER_SECOND: '0' });

  test('SIGTERM: every listener is told SHUTTING_DOWN and the process exits 0', async () => {
    await listen({ src: 'big.mp3', windowEnd: 1 }, async (listener) => {
      await listener.open(srv.url());
      const exit = srv.server().stop('SIGTERM');
      await listener.untilEnded();
      listener.assertClean();
      assert.equal(listener.errorCode, 'SHUTTING_DOWN');
      assert.deepEqual(await exit, { code: 0, signal: null });
    });
  });
});
