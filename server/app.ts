/**
 * The Koa application: middleware order and routes, no listening (tests mount it on any port).
 * Order: errors (outermost, so everything below becomes a JSON error) → security headers →
 * CORS → API routes → media → static files → 404.
 */
import cors from '@koa/cors';
import Router from '@koa/router';
import Koa from 'koa';
import type { Config } from './config';
import { errorMiddleware } from './errors';
import type { FaultPlan } from './faults/fault-plan';
import type { AudioLibrary } from './library/audio-library';
import type { Logger } from './log';
import type { PeerService } from './peers/peer-service';
import { healthRoutes } from './routes/health';
import { mediaMiddleware } from './routes/media';
import { offerRoutes } from './routes/offer';
import { staticMiddleware } from './routes/static-files';
import { testFaultRoutes } from './routes/test-faults';
import { trackRoutes } from './routes/tracks';
import { securityHeaders } from './security-headers';

export interface AppDeps {
  config: Config;
  library: AudioLibrary;
  peers: PeerService;
  log: Logger;
  /** Present only with RTC_TEST_HOOKS=1. */
  faults?: FaultPlan;
  /** performance.now() at start, for `uptime`. */
  startedAt?: number;
}

/** Headers a cross-origin page must be able to read. */
const EXPOSED_HEADERS = ['Retry-After', 'Server-Timing', 'Content-Range', 'Content-Length', 'Accept-Ranges'];

export function createApp({ config, library, peers, log, faults, startedAt = performance.now() }: AppDeps): Koa {
  const app = new Koa();
  // Errors are answered by errorMiddleware; Koa's default handler would log them all again.
  app.silent = true;
  app.on('error', (error: unknown) => log.debug('koa error', error));

  const anyOrigin = config.corsOrigins.includes('*');
  const allowed = new Set(config.corsOrigins);
  app.use(errorMiddleware((message, error) => log.error(message, error)));
  app.use(securityHeaders);
  app.use(
    cors({
      origin: (ctx) => {
        if (anyOrigin) return '*';
        const origin = ctx.get('Origin');
        return allowed.has(origin) ? origin : '';
      },
      allowMethods: ['GET', 'HEAD', 'POST', 'DELETE', 'OPTIONS'],
      allowHeaders: ['Content-Type', 'Range'],
      exposeHeaders: EXPOSED_HEADERS,
      credentials: false,
      maxAge: 600,
    }),
  );
  app.use(async (ctx, next) => {
    ctx.set('Timing-Allow-Origin', anyOrigin ? '*' : config.corsOrigins.join(' '));
    await next();
  });

  const router = new Router();
  healthRoutes(router, peers, startedAt);
  trackRoutes(router, library);
  offerRoutes(router, { config, library, peers, ...(faults ? { faults } : {}) });
  if (faults) testFaultRoutes(router, faults);
  app.use(router.routes());
  app.use(router.allowedMethods());
  app.use(mediaMiddleware(library));
  app.use(staticMiddleware(config.staticDir));
  return app;
}
