/// <reference types="mocha" />
// requestAnswer and StreamConnection.open() against the real server's signaling endpoint,
// including its injected faults (RTC_TEST_HOOKS=1). The error mapping in detail is in
// signaling.node.test.ts; here: that the real server, through the browser's fetch and CORS,
// yields the same PlayerErrors, and that no failed attempt leaves a peer behind.
import { expect } from '@open-wc/testing';
import { executeServerCommand } from '@web/test-runner-commands';
import { PlayerError } from '../errors.js';
import { requestAnswer } from './signaling.js';
import { StreamConnection } from './stream-connection.js';
import { Recorder, TONE, activePeers, clearFaults, rejectionOf, setFaults, startServer, stopServer, waitFor, type TestServer } from './test-server.js';

async function realOffer(): Promise<{ pc: RTCPeerConnection; sdp: string }> {
  const pc = new RTCPeerConnection({ iceServers: [] });
  pc.createDataChannel('audio', { ordered: true });
  await pc.setLocalDescription(await pc.createOffer());
  return { pc, sdp: pc.localDescription!.sdp };
}

describe('signaling against the real server', function () {
  this.timeout(60000);
  let server: TestServer;
  const peers: RTCPeerConnection[] = [];

  const ask = async (options: { src?: string; offset?: number; timeoutMs?: number; signal?: AbortSignal } = {}) => {
    const { pc, sdp } = await realOffer();
    peers.push(pc);
    const { src = TONE, offset, ...rest } = options;
    return requestAnswer(
      `${server.url}/`,
      { offer: { type: 'offer', sdp }, clientId: crypto.randomUUID(), src, ...(offset === undefined ? {} : { offset }) },
      rest,
    );
  };

  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await stopServer(server);
  });
  afterEach(async () => {
    for (const pc of peers.splice(0)) pc.close();
    await clearFaults(server);
    await waitFor('activePeers to return to 0', async () => (await activePeers(server)) === 0, 8000);
  });

  it('answers an offer (trailing slash on the server URL is fine)', async () => {
    const result = await ask();
    // Complete the handshake so that closing our side tells the server at once.
    await peers[0]!.setRemoteDescription(result.answer);
    await waitFor('the peer to connect', () => peers[0]!.connectionState === 'connected');
    expect(result.answer.type).to.equal('answer');
    expect(result.answer.sdp).to.match(/^v=0/);
    expect(result.answer.sdp).to.match(/a=candidate:/); // answered with at least one candidate
    expect(result.serverTiming).to.be.an('array');
  });

  it('404 unknown track: fatal, with the server code and message', async () => {
    const error = await rejectionOf(ask({ src: 'missing/nothing.mp3' }));
    expect(error).to.be.instanceOf(PlayerError);
    expect([error.code, error.status, error.detail, error.fatal]).to.deep.equal(['SIGNALING_HTTP', 404, 'TRACK_NOT_FOUND', true]);
    expect(error.message).to.be.a('string').and.not.match(/HTTP 404/); // the server's own words
  });

  it('400 offset out of range: fatal BAD_OFFSET', async () => {
    const error = await rejectionOf(ask({ offset: 10_000_000 }));
    expect([error.code, error.status, error.detail, error.fatal]).to.deep.equal(['SIGNALING_HTTP', 400, 'BAD_OFFSET', true]);
  });

  it('503 with Retry-After: not fatal, retryAfterMs from the header', async () => {
    await setFaults(server, { offerStatus: 503, offerRetryAfter: 2 });
    const error = await rejectionOf(ask());
    expect([error.code, error.status, error.fatal]).to.deep.equal(['SIGNALING_HTTP', 503, false]);
    expect(error.retryAfterMs).to.equal(2000);
  });

  it('500: not fatal, no Retry-After', async () => {
    await setFaults(server, { offerStatus: 500 });
    const error = await rejectionOf(ask());
    expect([error.code, error.status, error.fatal, error.retryAfterMs]).to.deep.equal(['SIGNALING_HTTP', 500, false, undefined]);
  });

  it('a hanging server: SIGNALING_TIMEOUT after timeoutMs', async () => {
    await setFaults(server, { offerHang: true });
    const started = performance.now();
    const error = await rejectionOf(ask({ timeoutMs: 400 }));
    expect(error.code).to.equal('SIGNALING_TIMEOUT');
    expect(performance.now() - started).to.be.within(350, 3000);
  });

  it('caller abort during a hanging request: ABORTED', async () => {
    await setFaults(server, { offerHang: true });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const error = await rejectionOf(ask({ signal: controller.signal, timeoutMs: 5000 }));
    expect(error.code).to.equal('ABORTED');
  });

  it('faults through StreamConnection.open(): the error rejects open(), the listener hears nothing', async () => {
    await setFaults(server, { offerStatus: 503, offerRetryAfter: 1 });
    const recorder = new Recorder();
    const connection = new StreamConnection({ server: server.url, src: TONE, clientId: crypto.randomUUID() }, recorder);
    const error = await rejectionOf(connection.open());
    expect([error.code, error.status, error.retryAfterMs]).to.deep.equal(['SIGNALING_HTTP', 503, 1000]);
    expect(connection.state).to.equal('closed');
    expect(recorder.calls).to.deep.equal([]);

    await setFaults(server, { offerHang: true });
    const hanging = new StreamConnection({ server: server.url, src: TONE, clientId: crypto.randomUUID(), signalingTimeoutMs: 300 }, recorder);
    expect((await rejectionOf(hanging.open())).code).to.equal('SIGNALING_TIMEOUT');
    expect(recorder.calls).to.deep.equal([]);
  });

  it('close() during a hanging request: open() rejects ABORTED at once', async () => {
    await setFaults(server, { offerHang: true });
    const recorder = new Recorder();
    const connection = new StreamConnection({ server: server.url, src: TONE, clientId: crypto.randomUUID() }, recorder);
    const opening = connection.open();
    await waitFor('the offer to be sent', () => connection.timing.offerSent !== undefined);
    const closedAt = performance.now();
    connection.close();
    expect((await rejectionOf(opening)).code).to.equal('ABORTED');
    // "At once" against the 10 s signaling timeout it would otherwise wait for (slack for a busy machine).
    expect(performance.now() - closedAt).to.be.below(3000);
    expect(recorder.calls).to.deep.equal([]);
  });
});

describe('signaling to a server that is not there', function () {
  this.timeout(60000);

  it('a closed port: SIGNALING_UNREACHABLE, not fatal', async () => {
    const server = await startServer();
    await executeServerCommand('server-kill', { id: server.id });
    const { pc, sdp } = await realOffer();
    try {
      const error = await rejectionOf(requestAnswer(server.url, { offer: { type: 'offer', sdp }, clientId: 'c1', src: TONE }));
      expect([error.code, error.fatal]).to.deep.equal(['SIGNALING_UNREACHABLE', false]);
      const connection = new StreamConnection({ server: server.url, src: TONE, clientId: 'c2' }, new Recorder());
      expect((await rejectionOf(connection.open())).code).to.equal('SIGNALING_UNREACHABLE');
    } finally {
      pc.close();
      await stopServer(server).catch(() => undefined);
    }
  });
});
