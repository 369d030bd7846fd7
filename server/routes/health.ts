/** GET /api/health: liveness plus the peer counts tests and operators watch. */
import type Router from '@koa/router';
import type { HealthResponse } from '../../components/protocol';
import type { PeerService } from '../peers/peer-service';

export function healthRoutes(router: Router, peers: PeerService, startedAt: number): void {
  router.get('/api/health', (ctx) => {
    const stats = peers.stats();
    const body: HealthResponse & Omit<typeof stats, 'activePeers'> & { pid: number; rssBytes: number } = {
      status: 'ok',
      uptime: Math.round((performance.now() - startedAt) / 10) / 100,
      ...stats,
      pid: process.pid,
      rssBytes: process.memoryUsage.rss(),
    };
    ctx.set('Cache-Control', 'no-store');
    ctx.body = body;
  });
}
