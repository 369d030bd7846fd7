// StreamConnection's protocol checks against a scripted peer that breaks the protocol on purpose.
// Both ends are real WebRTC (@roamhq/wrtc in this Node process, over loopback); only the "server"
// is a script, because the real server never misbehaves. The real server is in *.test.ts.
// Run inside the loopback namespace (npm test does).
import { setTimeout as sleep } from 'node:timers/promises';
import { after, afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { PlayerError } from '../errors.js';
import { encodeMessage, type MetadataMessage, type OfferRequest, type ServerMessage } from '../protocol.js';
import { StreamConnection, type StreamConnectionOptions } from './stream-connection.js';

const wrtc = createRequire(import.meta.url)('@roamhq/wrtc') as typeof import('@roamhq/wrtc');
// StreamConnection uses the page's RTCPeerConnection; here wrtc's stands in for Chromium's.
(globalThis as { RTCPeerConnection?: unknown }).RTCPeerConnection = wrtc.RTCPeerConnection;

type Channel = InstanceType<typeof wrtc.RTCDataChannel>;
type Script = (channel: Channel, request: OfferRequest, received: string[]) => void | Promise<void>;

interface Scripted {
  url: string;
  /** Text messages the client sent on the channel. */
  received: string[];
  /** Replaces the answer's SDP (to test a bad answer). */
  mangleAnswer?: (sdp: string) => string;
  /** Replaces the offer's SDP before the scripted peer sees it. */
  mangleOffer?: (sdp: string) => string;
}

const servers: Server[] = [];
const serverPeers: InstanceType<typeof wrtc.RTCPeerConnection>[] = [];
const clients: StreamConnection[] = [];

/** A signaling endpoint on loopback whose peer runs `script` once the client's channel opens. */
async function scriptedServer(script: Script): Promise<Scripted> {
  const scripted: Scripted = { url: '', received: [] };
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', async () => {
      const request = JSON.parse(body) as OfferRequest;
      const pc = new wrtc.RTCPeerConnection({ iceServers: [] });
      serverPeers.push(pc);
      pc.ondatachannel = ({ channel }) => {
        channel.binaryType = 'arraybuffer';
        channel.onmessage = ({ data }) => scripted.received.push(String(data));
        const run = () => void script(channel, request, scripted.received);
        if (channel.readyState === 'open') run();
        else channel.onopen = run;
      };
      await pc.setRemoteDescription(
        scripted.mangleOffer ? { type: 'offer', sdp: scripted.mangleOffer(request.offer.sdp) } : request.offer,
      );
      await pc.setLocalDescription(await pc.createAnswer());
      // Non-trickle: answer once gathering is done (host candidates only, fast on loopback).
      const deadline = Date.now() + 2000;
      while (pc.iceGatheringState !== 'complete' && Date.now() < deadline) await sleep(5);
      const sdp = pc.localDescription!.sdp;
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ answer: { type: 'answer', sdp: scripted.mangleAnswer ? scripted.mangleAnswer(sdp) : sdp } }));
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  scripted.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return scripted;
}


const metadata = (totalSize: number, offset = 0, chunkSize = 1000): MetadataMessage => ({
  type: 'metadata',
  src: 'a.mp3',
  totalSize,
  totalChunks: Math.ceil(totalSize / chunkSize),
  chunkSize,
  mimeType: 'audio/mpeg',
  offset,
});
const text = (message: ServerMessage) => encodeMessage(message);
const bytes = (length: number, fill: number) => new Uint8Array(length).fill(fill);

class Recorder {
  calls: string[] = [];
  chunks: Uint8Array[] = [];
  offsets: number[] = [];
  error: PlayerError | undefined;
  states: string[] = [];
  connection: StreamConnection | undefined;
  readonly ended: Promise<void>;
  #end!: () => void;
  constructor() {
    this.ended = new Promise((resolve) => (this.#end = resolve));
  }
  listener = {
    metadata: () => this.#call('metadata'),
    chunk: (chunk: Uint8Array, offset: number) => {
      this.chunks.push(chunk);
      this.offsets.push(offset);
      this.#call('chunk');
    },
    complete: () => {
      this.#call('complete');
      this.#end();
    },
    error: (error: PlayerError) => {
      this.error = error;
      this.#call(`error:${error.code}`);
      this.#end();
    },
  };
  #call(name: string) {
    this.calls.push(name);
    this.states.push(this.connection?.state ?? '?');
  }
}

function client(url: string, options: Partial<StreamConnectionOptions> = {}) {
  const recorder = new Recorder();
  const connection = new StreamConnection({ server: url, src: 'a.mp3', clientId: 'test-client', ...options }, recorder.listener);
  recorder.connection = connection;
  clients.push(connection);
  return { connection, recorder };
}

async function openRejection(connection: StreamConnection): Promise<PlayerError> {
  try {
    await connection.open();
  } catch (error) {
    assert.ok(error instanceof PlayerError);
    return error;
  }
  assert.fail('open() resolved');
}

afterEach(async () => {
  for (const connection of clients.splice(0)) connection.close();
  for (const pc of serverPeers.splice(0)) pc.close();
  await sleep(20);
});
after(() => {
  for (const server of servers) server.close();
});

test('a well-behaved script: metadata, chunks with their file offsets, complete', async () => {
  const server = await scriptedServer((channel) => {
    channel.send(text(metadata(2500)));
    channel.send(bytes(1000, 1));
    channel.send(bytes(1000, 2));
    channel.send(bytes(500, 3));
    channel.send(text({ type: 'complete' }));
  });
  const { connection, recorder } = client(server.url);
  const meta = await connection.open();
  assert.equal(meta.totalSize, 2500);
  await recorder.ended;
  assert.deepEqual(recorder.calls, ['metadata', 'chunk', 'chunk', 'chunk', 'complete']);
  assert.deepEqual(recorder.offsets, [0, 1000, 2000]);
  assert.equal(connection.nextOffset, 2500);
  assert.equal(connection.state, 'complete');
  assert.ok(recorder.chunks.every((chunk) => chunk instanceof Uint8Array));
});

test('a chunk before metadata: PROTOCOL, rejecting open()', async () => {
  const server = await scriptedServer((channel) => channel.send(bytes(10, 0)));
  const { connection, recorder } = client(server.url);
  const error = await openRejection(connection);
  assert.equal(error.code, 'PROTOCOL');
  assert.equal(error.fatal, true);
  assert.match(error.message, /before the metadata/);
  assert.deepEqual(recorder.calls, []);
  assert.equal(connection.state, 'closed');
});

test('unparseable or unknown text: PROTOCOL', async () => {
  for (const message of ['not json', '{"type":"hello"}', '{"type":"metadata","src":"a"}']) {
    const server = await scriptedServer((channel) => channel.send(message));
    const { connection } = client(server.url);
    const error = await openRejection(connection);
    assert.equal(error.code, 'PROTOCOL', message);
    assert.match(error.message, /invalid message/);
  }
});

test('metadata for another offset than requested: PROTOCOL', async () => {
  const server = await scriptedServer((channel) => channel.send(text(metadata(5000, 0))));
  const { connection } = client(server.url, { offset: 1200 });
  const error = await openRejection(connection);
  assert.equal(error.code, 'PROTOCOL');
  assert.match(error.message, /byte 0.*byte 1200/);
});

test('a resumed stream: chunks are numbered from the requested offset', async () => {
  const server = await scriptedServer((channel, request) => {
    channel.send(text(metadata(3000, request.offset)));
    channel.send(bytes(1000, 1));
    channel.send(bytes(800, 2));
    channel.send(text({ type: 'complete' }));
  });
  const { connection, recorder } = client(server.url, { offset: 1200 });
  await connection.open();
  await recorder.ended;
  assert.deepEqual(recorder.offsets, [1200, 2200]);
  assert.equal(connection.nextOffset, 3000);
});

test('bytes past totalSize: PROTOCOL to the listener, once, after closing; nextOffset stays at the last good byte', async () => {
  const server = await scriptedServer((channel) => {
    channel.send(text(metadata(1500)));
    channel.send(bytes(1000, 1));
    channel.send(bytes(1000, 2));
    channel.send(bytes(1000, 3));
  });
  const { connection, recorder } = client(server.url);
  await connection.open();
  await recorder.ended;
  await sleep(100);
  assert.deepEqual(recorder.calls, ['metadata', 'chunk', 'error:PROTOCOL']);
  assert.equal(recorder.states.at(-1), 'closed');
  assert.match(recorder.error!.message, /past the file/);
  assert.equal(connection.nextOffset, 1000);
});

test('a second metadata, or complete before the last byte: PROTOCOL', async () => {
  const twice = await scriptedServer((channel) => {
    channel.send(text(metadata(1500)));
    channel.send(text(metadata(1500)));
  });
  const first = client(twice.url);
  await first.connection.open();
  await first.recorder.ended;
  assert.match(first.recorder.error!.message, /second metadata/);

  const early = await scriptedServer((channel) => {
    channel.send(text(metadata(1500)));
    channel.send(bytes(1000, 1));
    channel.send(text({ type: 'complete' }));
  });
  const second = client(early.url);
  await second.connection.open();
  await second.recorder.ended;
  assert.deepEqual(second.recorder.calls, ['metadata', 'chunk', 'error:PROTOCOL']);
  assert.match(second.recorder.error!.message, /complete arrived after byte 1000 of 1500/);
});

test('server error messages: STREAM_ERROR with the code; fatal unless retryable', async () => {
  for (const [code, fatal] of [['FILE_UNAVAILABLE', true], ['SHUTTING_DOWN', false], ['READ_FAILED', false], ['FILE_CHANGED', true]] as const) {
    const server = await scriptedServer((channel) => {
      channel.send(text(metadata(1500)));
      channel.send(bytes(1000, 1));
      channel.send(text({ type: 'error', code, message: `it broke: ${code}` }));
    });
    const { connection, recorder } = client(server.url);
    await connection.open();
    await recorder.ended;
    assert.deepEqual(recorder.calls, ['metadata', 'chunk', 'error:STREAM_ERROR']);
    assert.equal(recorder.error!.detail, code);
    assert.equal(recorder.error!.fatal, fatal, code);
    assert.equal(recorder.error!.message, `it broke: ${code}`);
    assert.equal(connection.nextOffset, 1000);
  }
});

test('an error message before metadata rejects open() with STREAM_ERROR', async () => {
  const server = await scriptedServer((channel) => channel.send(text({ type: 'error', code: 'FILE_UNAVAILABLE', message: 'gone' })));
  const error = await openRejection(client(server.url).connection);
  assert.deepEqual([error.code, error.detail, error.fatal], ['STREAM_ERROR', 'FILE_UNAVAILABLE', true]);
});

test('the server closes the channel mid-stream: what was sent arrives, then CONNECTION_LOST', async () => {
  const server = await scriptedServer((channel) => {
    channel.send(text(metadata(10_000)));
    for (let i = 0; i < 4; i += 1) channel.send(bytes(1000, i));
    channel.close();
  });
  const { connection, recorder } = client(server.url);
  await connection.open();
  await recorder.ended;
  assert.deepEqual(recorder.calls, ['metadata', 'chunk', 'chunk', 'chunk', 'chunk', 'error:CONNECTION_LOST']);
  assert.equal(recorder.error!.fatal, false);
  assert.equal(connection.nextOffset, 4000);
});

test('no metadata within openTimeoutMs: CONNECTION_FAILED', async () => {
  const server = await scriptedServer(() => undefined);
  const { connection } = client(server.url, { openTimeoutMs: 400 });
  const started = performance.now();
  const error = await openRejection(connection);
  assert.equal(error.code, 'CONNECTION_FAILED');
  assert.match(error.message, /no metadata within 400 ms/);
  assert.ok(performance.now() - started < 3000);
});

test('candidates that lead nowhere: CONNECTION_FAILED when the channel does not open in time', async () => {
  const server = await scriptedServer(() => undefined);
  // Every candidate on port 9 (discard): no ICE check reaches either side. (wrtc, unlike Chromium
  // in a loopback-only namespace, has host candidates in its offer already, so both need it.)
  const nowhere = (sdp: string) => sdp.replace(/^(a=candidate:\S+ \d+ \S+ \d+ \S+ )\d+/gm, '$19');
  server.mangleAnswer = server.mangleOffer = nowhere;
  const { connection, recorder } = client(server.url, { openTimeoutMs: 800 });
  const error = await openRejection(connection);
  assert.equal(error.code, 'CONNECTION_FAILED');
  assert.match(error.message, /did not open within 800 ms/);
  assert.deepEqual(recorder.calls, []);
  assert.equal(connection.timing.channelOpen, undefined);
});

test('deferStart: the offer asks for it, start(offset) sends one start message, chunks follow', async () => {
  let seenRequest: OfferRequest | undefined;
  const server = await scriptedServer((channel, request, received) => {
    seenRequest = request;
    channel.send(text(metadata(3000)));
    const poll = setInterval(() => {
      if (received.length === 0) return;
      clearInterval(poll);
      const { offset } = JSON.parse(received[0]!) as { offset: number };
      channel.send(bytes(3000 - offset, 7));
      channel.send(text({ type: 'complete' }));
    }, 5);
  });
  const { connection, recorder } = client(server.url, { deferStart: true, stallTimeoutMs: 200 });
  await connection.open();
  assert.equal(seenRequest?.deferStart, true);
  assert.equal(connection.state, 'open');
  await sleep(400); // longer than stallTimeoutMs: a channel waiting for start() is not stalled
  assert.deepEqual(recorder.calls, ['metadata']);
  connection.start(2000);
  await recorder.ended;
  assert.deepEqual(server.received, ['{"type":"start","offset":2000}']);
  assert.deepEqual(recorder.calls, ['metadata', 'chunk', 'complete']);
  assert.deepEqual(recorder.offsets, [2000]);
});

test('an answer the browser rejects: SIGNALING_BAD_RESPONSE', async () => {
  const server = await scriptedServer(() => undefined);
  server.mangleAnswer = (sdp) => sdp.replace(/a=fingerprint:[^\r\n]*\r\n/g, '');
  const error = await openRejection(client(server.url).connection);
  assert.equal(error.code, 'SIGNALING_BAD_RESPONSE');
});

test('stall: no message for stallTimeoutMs while streaming', async () => {
  const server = await scriptedServer((channel) => {
    channel.send(text(metadata(3000)));
    channel.send(bytes(1000, 1));
  });
  const { connection, recorder } = client(server.url, { stallTimeoutMs: 300 });
  await connection.open();
  const started = performance.now();
  await recorder.ended;
  assert.deepEqual(recorder.calls, ['metadata', 'chunk', 'error:STALLED']);
  assert.ok(performance.now() - started >= 250);
  assert.equal(recorder.states.at(-1), 'closed');
});
