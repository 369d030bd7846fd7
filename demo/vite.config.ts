// Builds the demo page (index.html + demo/) and the drop-in element bundle into dist/:
//   dist/index.html, dist/assets/*            the demo page (hashed names)
//   dist/rtc-audio-player.js                  <script type="module" src="…/rtc-audio-player.js">,
//                                             Lit and every module of the element bundled in
//   dist/rtc-audio-player-assets/*            its worker scripts, loaded relative to it
// `npm start` serves dist/ at `/`. The page loads the element exactly as a user's page would:
// through a plain <script vite-ignore src="./rtc-audio-player.js"> tag, never by importing it, so
// the page and the element share no chunk and the drop-in file stays self-contained.
//
// Dev: `npx vite --config demo/vite.config.ts` (with `npm start` or `tsx server/main.ts` on :8080
// for the API) serves the element straight from its TypeScript source.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const elementEntry = path.join(root, 'components', 'rtc-audio-player.ts');
const ELEMENT_BUNDLE = 'rtc-audio-player.js';
const apiServer = process.env.RTC_API_SERVER ?? 'http://127.0.0.1:8080';

/** In dev, answer `/rtc-audio-player.js` with the element's source entry (Vite transforms it). */
function elementInDev(): Plugin {
  return {
    name: 'rtc-audio-player:dev-element',
    apply: 'serve',
    configureServer(server) {
      server.middlewares.use((req, _res, next) => {
        if (req.url?.split('?')[0] === `/${ELEMENT_BUNDLE}`) req.url = '/components/rtc-audio-player.ts';
        next();
      });
    },
  };
}

const hasElement = existsSync(elementEntry);
if (!hasElement) console.warn(`demo/vite.config.ts: ${elementEntry} missing, building the page only`);

export default defineConfig({
  root,
  // Relative URLs everywhere, so dist/ works under any path prefix and the element's own assets
  // (e.g. worklet modules) resolve against the script's URL, wherever a user hosts it.
  base: './',
  publicDir: false,
  plugins: [elementInDev()],
  server: {
    proxy: { '/api': apiServer, '/media': apiServer },
  },
  build: {
    outDir: path.join(root, 'dist'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    rollupOptions: {
      input: {
        index: path.join(root, 'index.html'),
        ...(hasElement ? { 'rtc-audio-player': elementEntry } : {}),
      },
      // Keep the element's module graph in one chunk: a drop-in file must not import siblings.
      preserveEntrySignatures: 'exports-only',
      output: {
        entryFileNames: (chunk) => (chunk.name === 'rtc-audio-player' ? ELEMENT_BUNDLE : 'assets/[name]-[hash].js'),
        // Script assets are the element's workers (e.g. the mpg123 WASM decoder), loaded relative
        // to rtc-audio-player.js: stable names, so a user copies `rtc-audio-player.js` plus
        // `rtc-audio-player-assets/` once and updates them in place.
        assetFileNames: (asset) =>
          asset.names.some((name) => name.endsWith('.js')) ? 'rtc-audio-player-assets/[name][extname]' : 'assets/[name]-[hash][extname]',
      },
    },
  },
});
