/**
 * POST /api/offer: validate, admit, negotiate, answer. The answer carries the server's ICE
 * candidates (non-trickle) and a Server-Timing header saying where the server's time went.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import {
  OfferRequestError,
  parseOfferRequest,
  type HttpErrorCode,
  type OfferField,
  type OfferRequest,
  type OfferResponse,
} from '../../components/protocol';
import type { Config } from '../config';
import { HttpError } from '../errors';
import type { FaultPlan, OfferFault } from '../faults/fault-plan';
import { LibraryError, type AudioLibrary } from '../library/audio-library';
import type { PeerService } from '../peers/peer-service';
import { jsonBody } from './json-body';

const FIELD_CODES: Record<OfferField, HttpErrorCode> = {
  body: 'BAD_REQUEST',
  offer: 'BAD_OFFER',
  clientId: 'BAD_CLIENT_ID',
  src: 'BAD_SRC',
  offset: 'BAD_OFFSET',
  deferStart: 'BAD_REQUEST',
  preloadBytes: 'BAD_REQUEST',
  windowEnd: 'BAD_REQUEST',
};

const LIBRARY_STATUS = { BAD_SRC: 400, TRACK_NOT_FOUND: 404, NOT_AUDIO: 415 } as const;

/** A hung offer (test fault) is answered after this at the latest, so nothing waits forever. */
const HANG_MS = 120_000;

export interface OfferDeps {
  config: Config;
  library: AudioLibrary;
  peers: PeerService;
  faults?: FaultPlan;
}

export function offerRoutes(router: Router, { config, library, peers, faults }: OfferDeps): void {
  const limiter =
    config.rateLimitPerIp > 0
      ? new RateLimiterMemory({ points: config.rateLimitPerIp, duration: config.rateLimitWindowSeconds })
      : undefined;

  const anyOrigin = config.corsOrigins.includes('*');
  const allowedOrigins = new Set(config.corsOrigins);
  /**
   * A text/plain offer is a CORS-simple request: the browser sends it without asking first, so
   * the allow-list that a preflight enforces for application/json is enforced here instead —
   * otherwise a page of any origin could make its visitors' browsers create peers here (blind:
   * it could not read the answer). Same-origin pages and clients that send no Origin are not
   * affected, nor is anything when CORS_ORIGINS is `*`.
   */
  const originGate = async (ctx: Context, next: () => Promise<unknown>): Promise<void> => {
    const origin = ctx.get('Origin');
    // (Koa 3's ctx.origin is the Origin header itself: this server's own origin is built here.)
    const own = `${ctx.protocol}://${ctx.host}`;
    if (!anyOrigin && origin !== '' && ctx.request.is('text/plain') !== false && !allowedOrigins.has(origin) && origin !== own) {
      throw new HttpError(403, 'ORIGIN_NOT_ALLOWED', 'this server does not accept offers from pages of this origin (CORS_ORIGINS)');
    }
    await next();
  };

  router.post('/api/offer', stampReceived, originGate, jsonBody(config.jsonLimitBytes, { acceptTextPlain: true }), async (ctx) => {
    const started = performance.now();
    const received = (ctx.state as { offerReceivedAt?: number }).offerReceivedAt ?? started;
    if (limiter) await consume(limiter, ctx.ip);
    const fault = faults?.takeOfferFault();
    if (fault) await injectOfferFault(ctx, fault);
    const request = parse(ctx.request.body);
    const file = await library.resolve(request.src).catch((error: unknown) => {
      if (error instanceof LibraryError) throw new HttpError(LIBRARY_STATUS[error.problem], error.problem, error.message);
      throw error;
    });
    if ((request.offset ?? 0) >= file.size) {
      throw new HttpError(400, 'BAD_OFFSET', `offset must be below the file size (${file.size})`);
    }
    const peerStarted = performance.now();
    const { answer, gatherMs, negotiateMs } = await peers.accept(request, file, faults?.takeStreamFaults());
    const ended = performance.now();
    const body: OfferResponse = { answer };
    // `answer` (from the parsed body to the answer) keeps its meaning across versions; `body` is
    // reading and parsing the request, `peer` the round trip to the peer process, `negotiate` the
    // wrtc set-up inside it (so peer − negotiate is the hop between the processes).
    const metrics: [string, number][] = [
      ['body', started - received],
      ['peer', ended - peerStarted],
      ['negotiate', negotiateMs],
      ['gather', gatherMs],
      ['answer', ended - started],
    ];
    ctx.set('Server-Timing', metrics.map(([name, ms]) => `${name};dur=${ms.toFixed(2)}`).join(', '));
    ctx.set('Cache-Control', 'no-store');
    ctx.body = body;
  });
}

/** When the offer's headers were in: the start of `body` in Server-Timing. */
async function stampReceived(ctx: Context, next: () => Promise<unknown>): Promise<void> {
  (ctx.state as { offerReceivedAt?: number }).offerReceivedAt = performance.now();
  await next();
}

function parse(body: unknown): OfferRequest {
  try {
    return parseOfferRequest(body);
  } catch (error) {
    if (error instanceof OfferRequestError) throw new HttpError(400, FIELD_CODES[error.field], error.message);
    throw new HttpError(400, 'BAD_REQUEST', 'malformed offer request');
  }
}

async function consume(limiter: RateLimiterMemory, key: string): Promise<void> {
  try {
    await limiter.consume(key);
  } catch (rejection) {
    if (!(rejection instanceof RateLimiterRes)) throw rejection;
    const seconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
    throw new HttpError(429, 'RATE_LIMITED', 'too many offers from this address', { 'Retry-After': String(seconds) });
  }
}

const FAULT_CODES: Record<number, HttpErrorCode> = {
  404: 'TRACK_NOT_FOUND',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
  503: 'SERVER_BUSY',
};

async function injectOfferFault(ctx: Context, fault: OfferFault): Promise<void> {
  if (fault.hang) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, HANG_MS);
      // The response closes when the client gives up (or at shutdown): stop waiting then.
      ctx.res.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
  const status = fault.status ?? 503;
  const code = FAULT_CODES[status] ?? (status >= 500 ? 'INTERNAL' : 'BAD_REQUEST');
  const headers: Record<string, string> = fault.retryAfter === undefined ? {} : { 'Retry-After': String(fault.retryAfter) };
  throw new HttpError(status, code, `injected test fault (${status})`, headers);
}
