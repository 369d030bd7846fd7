/** GET /api/tracks: the library as `[{ src, size, mimeType, duration? }]`. */
import type Router from '@koa/router';
import type { TrackInfo } from '../../components/protocol';
import type { AudioLibrary } from '../library/audio-library';

export function trackRoutes(router: Router, library: AudioLibrary): void {
  router.get('/api/tracks', async (ctx) => {
    const tracks: TrackInfo[] = await library.list();
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = tracks;
  });
}
