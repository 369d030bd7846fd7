/**
 * A real @roamhq/wrtc client peer for Node tests and measurements: offer → POST /api/offer →
 * answer → DataChannel, collecting what the server sends. Not a mock: the same protocol path a
 * browser takes (offer posted as soon as the local description is set, no gathering wait).
 */
import { randomUUID } from 'node:crypto';
import {
  encodeMessage,
  parseServerMessage,
  type ClientMessage,
  type MetadataMessage,
  type OfferRequest,
  type ServerMessage,
} from '../../components/protocol';
import { wrtc } from '../peers/wrtc';
import { setLocalDescriptionWithCandidates } from '../peers/local-candidates';

export interface ClientOptions {
  src: string;
  offset?: number;
  deferStart?: boolean;
  /** The offer's preloadBytes (with deferStart). */
  preloadBytes?: number;
  /** The offer's windowEnd (flow control). */
  windowEnd?: number;
  clientId?: string;
  /** Rewrites the offer's a=max-message-size (to make the server use smaller chunks). */
  maxMessageSize?: number;
  /** Runs after the server answered, before the answer is applied (so before the channel opens). */
  beforeAnswer?: () => Promise<void>;
  /** Gives up (rejects `done`) after this long. */
  timeoutMs?: number;
}

export interface ClientTiming {
  peerCreated: number;
  answerReceived?: number;
  channelOpen?: number;
  metadata?: number;
  firstChunk?: number;
  end?: number;
  /** Server-Timing header of the answer. */
  serverTiming?: string;
}

export interface StreamResult {
  /** Every text message, in order, parsed. */
  messages: ServerMessage[];
  metadata?: MetadataMessage;
  chunks: Uint8Array[];
  /** Order of arrival: 'text' or 'binary', to check metadata-first / complete-last. */
  order: Array<'text' | 'binary'>;
  ended: 'complete' | 'error' | 'closed' | 'timeout';
}

export class HttpAnswerError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Headers,
  ) {
    super(`POST /api/offer answered ${status}: ${JSON.stringify(body)}`);
  }
}

export class TestClient {
  readonly pc = new wrtc.RTCPeerConnection({ iceServers: [] });
  readonly channel = this.pc.createDataChannel('audio', { ordered: true });
  readonly timing: ClientTiming = { peerCreated: performance.now() };
  readonly result: StreamResult = { messages: [], chunks: [], order: [], ended: 'timeout' };
  /** Resolves when the stream ends (complete, error, channel closed, or timeout). */
  readonly done: Promise<StreamResult>;
  private finish!: (ended: StreamResult['ended']) => void;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    readonly server: string,
    readonly options: ClientOptions,
  ) {
    this.channel.binaryType = 'arraybuffer';
    this.done = new Promise((resolve) => {
      this.finish = (ended) => {
        if (this.result.ended !== 'timeout' || this.settled) return;
        this.settled = true;
        this.result.ended = ended;
        this.timing.end = performance.now();
        clearTimeout(this.timer);
        resolve(this.result);
      };
    });
    this.channel.onopen = () => (this.timing.channelOpen ??= performance.now());
    this.channel.onmessage = (event: MessageEvent) => this.received(event.data);
    this.channel.onclose = () => setImmediate(() => this.finish('closed'));
  }

  private settled = false;

  /** Creates the offer, posts it, applies the answer. Throws HttpAnswerError on an HTTP error. */
  async connect(): Promise<void> {
    let { sdp } = await setLocalDescriptionWithCandidates(this.pc, await this.pc.createOffer(), 1000);
    if (this.options.maxMessageSize !== undefined) {
      sdp = sdp.replace(/a=max-message-size:\d+/, `a=max-message-size:${this.options.maxMessageSize}`);
    }
    const body: OfferRequest = { offer: { type: 'offer', sdp }, clientId: this.options.clientId ?? randomUUID(), src: this.options.src };
    if (this.options.offset !== undefined) body.offset = this.options.offset;
    if (this.options.deferStart !== undefined) body.deferStart = this.options.deferStart;
    if (this.options.preloadBytes !== undefined) body.preloadBytes = this.options.preloadBytes;
    if (this.options.windowEnd !== undefined) body.windowEnd = this.options.windowEnd;
    const response = await fetch(`${this.server}/api/offer`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    const json: unknown = await response.json();
    if (!response.ok) throw new HttpAnswerError(response.status, json, response.headers);
    this.timing.answerReceived = performance.now();
    this.timing.serverTiming = response.headers.get('Server-Timing') ?? undefined;
    const { answer } = json as { answer: RTCSessionDescriptionInit };
    await this.options.beforeAnswer?.();
    await this.pc.setRemoteDescription(answer);
    this.timer = setTimeout(() => this.finish('timeout'), this.options.timeoutMs ?? 20_000);
  }

  /** Connects and waits for the stream to end. */
  async stream(): Promise<StreamResult> {
    await this.connect();
    return this.done;
  }

  send(message: ClientMessage | string): void {
    this.channel.send(typeof message === 'string' ? message : encodeMessage(message));
  }

  /** All binary bytes received, concatenated. */
  bytes(): Buffer {
    return Buffer.concat(this.result.chunks);
  }

  /** Resolves once `predicate` holds (polled), or rejects after `timeoutMs`. */
  async until(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error('condition not met in time');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    this.channel.onopen = null;
    this.channel.onmessage = null;
    this.channel.onclose = null;
    try {
      if (this.channel.readyState === 'open' || this.channel.readyState === 'connecting') this.channel.close();
    } catch {
      // closing already
    }
    try {
      this.pc.close();
    } catch {
      // closed already
    }
    this.finish('closed');
  }

  private received(data: unknown): void {
    if (typeof data === 'string') {
      this.result.order.push('text');
      const message = parseServerMessage(data);
      this.result.messages.push(message);
      if (message.type === 'metadata') {
        this.result.metadata = message;
        this.timing.metadata ??= performance.now();
      } else if (message.type === 'complete') this.finish('complete');
      else this.finish('error');
      return;
    }
    this.result.order.push('binary');
    this.timing.firstChunk ??= performance.now();
    this.result.chunks.push(new Uint8Array(data as ArrayBuffer));
  }
}

/** Streams one track to the end and closes the client. */
export async function streamTrack(server: string, options: ClientOptions): Promise<{ client: TestClient; result: StreamResult }> {
  const client = new TestClient(server, options);
  try {
    const result = await client.stream();
    return { client, result };
  } finally {
    client.close();
  }
}

/** A stream as a resuming client gets it: all its bytes, and how many times it reconnected. */
export interface ResumedStream {
  bytes: Buffer;
  ended: StreamResult['ended'];
  resumes: number;
}

/**
 * Streams a track the way the element does after a drop: when the channel closes, or nothing
 * arrives for `stallMs`, before `complete`, it reconnects with `offset` = the bytes it has and
 * appends what comes (at most `maxResumes` times). A peer process that died mid-stream (a native
 * wrtc crash, contained by the server) then costs a resume, not the track.
 */
export async function streamResuming(server: string, options: ClientOptions, stallMs = 3000, maxResumes = 3): Promise<ResumedStream> {
  const parts: Uint8Array[] = [];
  let received = 0;
  for (let resumes = 0; ; resumes++) {
    const client = new TestClient(server, { ...options, ...(received > 0 ? { offset: (options.offset ?? 0) + received } : {}) });
    try {
      await client.connect();
      let seen = -1;
      let lastProgress = Date.now();
      while (!(await settledWithin(client.done, 50))) {
        const progress = client.result.messages.length + client.result.chunks.length;
        if (progress !== seen) (seen = progress), (lastProgress = Date.now());
        else if (Date.now() - lastProgress > stallMs) break;
      }
      parts.push(...client.result.chunks);
      received += client.result.chunks.reduce((n, chunk) => n + chunk.byteLength, 0);
      const ended = client.result.ended;
      if (ended === 'complete' || ended === 'error' || resumes >= maxResumes) {
        return { bytes: Buffer.concat(parts), ended: ended === 'timeout' ? 'timeout' : ended, resumes };
      }
    } finally {
      client.close();
    }
  }
}

async function settledWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const done = promise.then(() => true);
  try {
    return await Promise.race([done, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A real DataChannel offer's SDP (the peer that made it is closed again). */
export async function makeOfferSdp(): Promise<string> {
  const pc = new wrtc.RTCPeerConnection({ iceServers: [] });
  try {
    pc.createDataChannel('probe');
    return (await setLocalDescriptionWithCandidates(pc, await pc.createOffer(), 1000)).sdp;
  } finally {
    pc.close();
  }
}
