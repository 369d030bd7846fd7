/**
 * The wire protocol between the browser element and the server: HTTP signaling bodies and the
 * messages on the DataChannel. Both sides import this module, so the shapes cannot drift.
 * No DOM and no Node imports here: it must load in the browser, in Node and in a worklet-free
 * bundle alike.
 *
 * Every parser takes `unknown` (or a string) and either returns a fully typed value or throws a
 * {@link ProtocolError} with a stable code; nothing downstream ever sees an unchecked shape.
 */

/** Largest binary message the server sends; smaller when the peer negotiated a smaller SCTP max. */
export const MAX_CHUNK_SIZE = 65536;
/** The server keeps the DataChannel's `bufferedAmount` under this many bytes (design: 256 KiB). */
export const HIGH_WATER_MARK = 256 * 1024;
/** Upper bound of an SDP offer we accept; a DataChannel-only offer is a few KiB. */
export const MAX_SDP_LENGTH = 64 * 1024;
/** `clientId`: a UUID or a token of at most 64 characters of `[A-Za-z0-9_-]` (a UUID matches too). */
export const CLIENT_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** Longest `src` accepted, in characters. */
export const MAX_SRC_LENGTH = 1024;
/** Largest `preloadBytes` an offer may ask for (a few seconds of audio; native preload="metadata" fetches more). */
export const MAX_PRELOAD_BYTES = 256 * 1024;

// ---------------------------------------------------------------------------------------------
// Errors

/** Codes of HTTP error bodies (`{ error: { code, message } }`). Stable: clients switch on them. */
export const HTTP_ERROR_CODES = [
  'BAD_JSON', // 400: body is not parseable JSON
  'BAD_REQUEST', // 400: JSON, but not an object of the expected shape / unknown keys
  'BAD_OFFER', // 400: offer missing, not type "offer", or SDP unusable (no DataChannel section, rejected by the peer)
  'BAD_CLIENT_ID', // 400
  'BAD_SRC', // 400: src empty, too long, absolute, traversal, dotfile, control characters
  'BAD_OFFSET', // 400: offset not an integer in [0, totalSize)
  'ORIGIN_NOT_ALLOWED', // 403: a text/plain offer from a page origin CORS_ORIGINS does not list
  'NOT_FOUND', // 404: no such route
  'TRACK_NOT_FOUND', // 404: src is well-formed but names no file of the library
  'PAYLOAD_TOO_LARGE', // 413
  'UNSUPPORTED_MEDIA_TYPE', // 415: request body is not application/json (or, for an offer, utf-8 text/plain)
  'NOT_AUDIO', // 415: the file exists but is empty or not an audio format we stream
  'RATE_LIMITED', // 429, with Retry-After
  'SERVER_BUSY', // 503, with Retry-After: peer limit reached or shutting down
  'INTERNAL', // 500: a real server fault
] as const;
export type HttpErrorCode = (typeof HTTP_ERROR_CODES)[number];

export interface ErrorBody {
  error: { code: HttpErrorCode; message: string };
}

/** Codes the server sends in `{ type: "error" }` on the DataChannel before closing it. */
export const STREAM_ERROR_CODES = [
  'FILE_UNAVAILABLE', // the file vanished or could not be opened after the offer was accepted
  'READ_FAILED', // an I/O error while reading
  'FILE_CHANGED', // the file shrank or changed under us mid-stream (truncated on disk)
  'BAD_MESSAGE', // the client sent a message the server cannot parse or accept
  'SHUTTING_DOWN', // the server is closing every peer
  'IDLE_TIMEOUT', // a deferred-start channel waited too long for `start`
] as const;
export type StreamErrorCode = (typeof STREAM_ERROR_CODES)[number];

/** Whether a client may usefully reconnect (with `offset`) after this stream error. */
export function isRetryableStreamError(code: StreamErrorCode): boolean {
  return code === 'SHUTTING_DOWN' || code === 'IDLE_TIMEOUT' || code === 'READ_FAILED';
}

export type ProtocolErrorCode = 'INVALID_JSON' | 'INVALID_MESSAGE';

/** Thrown by every parser here. `code` is stable; `message` is for humans. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  constructor(
    readonly code: ProtocolErrorCode,
    message: string,
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP: POST /api/offer, GET /api/health, GET /api/tracks

export interface SessionDescription<T extends 'offer' | 'answer'> {
  type: T;
  sdp: string;
}

export interface OfferRequest {
  offer: SessionDescription<'offer'>;
  clientId: string;
  /** Path of a file in the server's audio library, relative to it, `/`-separated. */
  src: string;
  /** First byte to send, 0 ≤ offset < totalSize. Default 0. Used to resume after a drop. */
  offset?: number;
  /**
   * When true the server sends `metadata` as soon as the channel opens and then waits for a
   * client `{ type: "start" }` before the first binary chunk (preconnect / `preload="metadata"`).
   * Default false: chunks follow metadata at once.
   */
  deferStart?: boolean;
  /**
   * Only with `deferStart`: the server sends this many bytes from `offset` (fewer if the file
   * ends first) right after the metadata, as binary messages of at most `chunkSize`, and then
   * waits for `start`, which continues after them. The "preview" that lets `preload="metadata"`
   * decode the first seconds before play(). 0 ≤ preloadBytes ≤ MAX_PRELOAD_BYTES; default 0.
   */
  preloadBytes?: number;
  /**
   * Flow control (optional): the server begins no binary message at a file byte ≥ windowEnd
   * until a `window` message raises it; a message that begins below it is sent whole. Must be
   * greater than `offset` (default 0). Absent: no window, the stream runs as fast as pacing allows.
   */
  windowEnd?: number;
}

export interface OfferResponse {
  answer: SessionDescription<'answer'>;
}

export interface HealthResponse {
  status: 'ok';
  /** Seconds since the server started. */
  uptime: number;
  /** Peer connections currently held (connecting, open or closing). */
  activePeers: number;
}

export interface TrackInfo {
  src: string;
  size: number;
  mimeType: string;
  /** Seconds, when the server could read it from the file's headers. */
  duration?: number;
}

const OFFER_KEYS = new Set(['offer', 'clientId', 'src', 'offset', 'deferStart', 'preloadBytes', 'windowEnd']);

const isCount = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(message: string): never {
  throw new ProtocolError('INVALID_MESSAGE', message);
}

/** Which HTTP code a failed {@link parseOfferRequest} maps to, by the field at fault. */
export type OfferField = 'body' | 'offer' | 'clientId' | 'src' | 'offset' | 'deferStart' | 'preloadBytes' | 'windowEnd';

export class OfferRequestError extends ProtocolError {
  constructor(
    readonly field: OfferField,
    message: string,
  ) {
    super('INVALID_MESSAGE', message);
  }
}

/**
 * Validates a decoded JSON body of `POST /api/offer`. Checks shape and bounds only; whether the
 * SDP is acceptable to the peer and whether `src`/`offset` name real bytes is the server's call.
 */
export function parseOfferRequest(body: unknown): OfferRequest {
  const bad = (field: OfferField, message: string): never => {
    throw new OfferRequestError(field, message);
  };
  if (!isRecord(body)) bad('body', 'request body must be a JSON object');
  const record = body as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!OFFER_KEYS.has(key)) bad('body', `unknown field "${key.slice(0, 40)}"`);
  }
  const { offer, clientId, src, offset, deferStart, preloadBytes, windowEnd } = record;
  if (!isRecord(offer)) bad('offer', '"offer" must be an object { type: "offer", sdp }');
  const o = offer as Record<string, unknown>;
  if (o.type !== 'offer') bad('offer', '"offer.type" must be "offer"');
  if (typeof o.sdp !== 'string' || o.sdp.length === 0) bad('offer', '"offer.sdp" must be a non-empty string');
  const sdp = o.sdp as string;
  if (sdp.length > MAX_SDP_LENGTH) bad('offer', `"offer.sdp" is longer than ${MAX_SDP_LENGTH} characters`);
  if (!/^v=0\r?\n/.test(sdp)) bad('offer', '"offer.sdp" is not an SDP session description');
  if (!/^m=application \d+ [A-Z/]*SCTP[A-Z/]* webrtc-datachannel\r?$/m.test(sdp)) {
    bad('offer', '"offer.sdp" has no DataChannel (m=application ... webrtc-datachannel) section');
  }
  if (typeof clientId !== 'string' || !CLIENT_ID_PATTERN.test(clientId)) {
    bad('clientId', '"clientId" must be 1-64 characters of [A-Za-z0-9_-] (a UUID works)');
  }
  if (typeof src !== 'string' || src.length === 0) bad('src', '"src" must be a non-empty string');
  if ((src as string).length > MAX_SRC_LENGTH) bad('src', `"src" is longer than ${MAX_SRC_LENGTH} characters`);
  if (offset !== undefined && (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0)) {
    bad('offset', '"offset" must be a non-negative integer');
  }
  if (deferStart !== undefined && typeof deferStart !== 'boolean') bad('deferStart', '"deferStart" must be a boolean');
  if (preloadBytes !== undefined) {
    if (typeof preloadBytes !== 'number' || !Number.isSafeInteger(preloadBytes) || preloadBytes < 0 || preloadBytes > MAX_PRELOAD_BYTES) {
      bad('preloadBytes', `"preloadBytes" must be an integer in [0, ${MAX_PRELOAD_BYTES}]`);
    }
    if (preloadBytes !== 0 && deferStart !== true) bad('preloadBytes', '"preloadBytes" needs "deferStart": true');
  }
  if (windowEnd !== undefined && (!isCount(windowEnd) || windowEnd <= ((offset as number | undefined) ?? 0))) {
    bad('windowEnd', '"windowEnd" must be an integer greater than "offset" (default 0)');
  }
  const request: OfferRequest = {
    offer: { type: 'offer', sdp },
    clientId: clientId as string,
    src: src as string,
  };
  if (offset !== undefined) request.offset = offset as number;
  if (deferStart !== undefined) request.deferStart = deferStart as boolean;
  if (preloadBytes !== undefined && preloadBytes !== 0) request.preloadBytes = preloadBytes as number;
  if (windowEnd !== undefined) request.windowEnd = windowEnd as number;
  return request;
}

/** Validates the JSON of a successful `POST /api/offer` response. */
export function parseOfferResponse(body: unknown): OfferResponse {
  if (!isRecord(body) || !isRecord(body.answer)) fail('response has no "answer" object');
  const answer = (body as { answer: Record<string, unknown> }).answer;
  if (answer.type !== 'answer' || typeof answer.sdp !== 'string' || answer.sdp.length === 0) {
    fail('"answer" must be { type: "answer", sdp: string }');
  }
  return { answer: { type: 'answer', sdp: answer.sdp as string } };
}

/** Validates an HTTP error body; returns undefined when the body is not one (a proxy's HTML, say). */
export function parseErrorBody(body: unknown): ErrorBody['error'] | undefined {
  if (!isRecord(body) || !isRecord(body.error)) return undefined;
  const { code, message } = body.error;
  if (typeof code !== 'string' || typeof message !== 'string') return undefined;
  if (!(HTTP_ERROR_CODES as readonly string[]).includes(code)) return undefined;
  return { code: code as HttpErrorCode, message };
}

// ---------------------------------------------------------------------------------------------
// DataChannel: server → client text messages (binary messages are raw file bytes)

export interface MetadataMessage {
  type: 'metadata';
  src: string;
  /** Size of the whole file in bytes, whatever the offset. */
  totalSize: number;
  /** ceil(totalSize / chunkSize): chunks of the whole file, whatever the offset. */
  totalChunks: number;
  /** Size of every binary message but the last, which may be shorter. */
  chunkSize: number;
  mimeType: string;
  /** Byte of the file the first binary message starts at (the request's offset, default 0). */
  offset: number;
  /** Seconds, when the server could read it from the file's headers. */
  duration?: number;
  /**
   * Bytes from `offset` that follow this message before `start` (the offer's `preloadBytes`,
   * capped at the file's end). Absent when none.
   */
  preloadBytes?: number;
}

export interface CompleteMessage {
  type: 'complete';
}

export interface StreamErrorMessage {
  type: 'error';
  code: StreamErrorCode;
  message: string;
}

export type ServerMessage = MetadataMessage | CompleteMessage | StreamErrorMessage;

function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ProtocolError('INVALID_JSON', 'message is not valid JSON');
  }
}

/** Parses one text message the server sent on the DataChannel. */
export function parseServerMessage(text: string): ServerMessage {
  const value = parseJsonText(text);
  if (!isRecord(value)) fail('message must be a JSON object');
  const m = value as Record<string, unknown>;
  switch (m.type) {
    case 'metadata': {
      const { src, totalSize, totalChunks, chunkSize, mimeType, offset, duration, preloadBytes } = m;
      if (typeof src !== 'string') fail('metadata.src must be a string');
      if (!isCount(totalSize) || !isCount(totalChunks)) fail('metadata.totalSize/totalChunks must be counts');
      if (!isCount(chunkSize) || chunkSize === 0) fail('metadata.chunkSize must be a positive integer');
      if (typeof mimeType !== 'string') fail('metadata.mimeType must be a string');
      const start = offset === undefined ? 0 : offset;
      if (!isCount(start) || (start > 0 && start >= (totalSize as number))) fail('metadata.offset out of range');
      const message: MetadataMessage = {
        type: 'metadata',
        src: src as string,
        totalSize: totalSize as number,
        totalChunks: totalChunks as number,
        chunkSize: chunkSize as number,
        mimeType: mimeType as string,
        offset: start as number,
      };
      if (typeof duration === 'number' && Number.isFinite(duration) && duration > 0) message.duration = duration;
      if (preloadBytes !== undefined) {
        if (!isCount(preloadBytes) || (start as number) + preloadBytes > (totalSize as number)) fail('metadata.preloadBytes must be a count that ends within the file');
        if (preloadBytes > 0) message.preloadBytes = preloadBytes;
      }
      return message;
    }
    case 'complete':
      return { type: 'complete' };
    case 'error': {
      const { code, message } = m;
      if (typeof code !== 'string' || !(STREAM_ERROR_CODES as readonly string[]).includes(code)) {
        fail('error.code is not a known stream error code');
      }
      return { type: 'error', code: code as StreamErrorCode, message: typeof message === 'string' ? message : '' };
    }
    default:
      return fail('unknown message type');
  }
}

// ---------------------------------------------------------------------------------------------
// DataChannel: client → server text messages

/**
 * Sent on a `deferStart` channel to begin the chunk stream at `offset`; default: the offer's
 * offset, plus the preview's length when the offer asked for `preloadBytes` (the stream continues
 * after the preview).
 */
export interface StartMessage {
  type: 'start';
  offset?: number;
}

/**
 * Receive-side flow control. `pause`: the client holds enough; the server sends no binary message
 * after the one it is sending, until `resume`, which continues at exactly the next byte. Valid on
 * any connection once metadata was sent, idempotent; a client that never sends them gets the
 * stream as fast as the server's pacing allows. No other fields.
 */
export interface PauseMessage {
  type: 'pause';
}
export interface ResumeMessage {
  type: 'resume';
}

/**
 * Receive-side flow control by credit: the server begins no binary message at a file byte ≥ `end`
 * (a message that begins below it is sent whole). Raises the window only: an `end` at or below
 * the current one changes nothing. The first `window` on a connection whose offer had no
 * `windowEnd` turns the window on. Valid on any connection once metadata was sent; no other fields.
 */
export interface WindowMessage {
  type: 'window';
  end: number;
}

export type ClientMessage = StartMessage | PauseMessage | ResumeMessage | WindowMessage;

/** Longest client message accepted, in characters. */
export const MAX_CLIENT_MESSAGE_LENGTH = 4096;

/** Parses one text message a client sent on the DataChannel. */
export function parseClientMessage(text: string): ClientMessage {
  if (text.length > MAX_CLIENT_MESSAGE_LENGTH) fail('message too long');
  const value = parseJsonText(text);
  if (!isRecord(value)) fail('message must be a JSON object');
  const m = value as Record<string, unknown>;
  switch (m.type) {
    case 'start':
      if (Object.keys(m).some((key) => key !== 'type' && key !== 'offset')) fail('"start" takes only "offset"');
      if (m.offset !== undefined && !isCount(m.offset)) fail('start.offset must be a non-negative integer');
      return m.offset === undefined ? { type: 'start' } : { type: 'start', offset: m.offset as number };
    case 'pause':
    case 'resume':
      // Strict: a field here is a client that thinks it means something (resume at an offset, say).
      if (Object.keys(m).length !== 1) fail(`"${m.type}" takes no other fields`);
      return { type: m.type };
    case 'window':
      if (!isCount(m.end)) fail('window.end must be a non-negative integer');
      if (Object.keys(m).length !== 2) fail('"window" takes only "end"');
      return { type: 'window', end: m.end as number };
    default:
      return fail('unknown message type');
  }
}

/** Serialises a message for `send`; the one place either side turns a message into text. */
export function encodeMessage(message: ServerMessage | ClientMessage): string {
  return JSON.stringify(message);
}

/** Number of chunks of the whole file, as `metadata.totalChunks` reports it. */
export function totalChunksOf(totalSize: number, chunkSize: number): number {
  return Math.ceil(totalSize / chunkSize);
}
