/**
 * Builds the bench page (server/bench/page/) with Vite into `.cache/bench-dist/`, which the server
 * under test serves as its STATIC_DIR. The page imports the project's modules from source (the
 * element, the output tap, the decoder's measuring helper), bundled the way a user's build would.
 */
import path from 'node:path';
import { build } from 'vite';

export interface PageBuild {
  staticDir: string;
  pagePath: string;
}

export async function buildBenchPage(root: string): Promise<PageBuild> {
  const staticDir = path.join(root, '.cache', 'bench-dist');
  await build({
    root,
    configFile: false,
    logLevel: 'warn',
    base: '/',
    publicDir: false,
    build: {
      outDir: staticDir,
      emptyOutDir: true,
      target: 'es2022',
      minify: false,
      rollupOptions: { input: { bench: path.join(root, 'server/bench/page/index.html') } },
    },
  });
  return { staticDir, pagePath: '/server/bench/page/index.html' };
}
