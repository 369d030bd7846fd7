/**
 * Builds the bench page (server/bench/page/) with Vite into `.cache/bench-dist/`, which the server
 * under test serves as its STATIC_DIR. The page imports the project's modules from source;
 * `bench:decode-bench` maps to the decoder's measuring helper when it exists, or to a stand-in
 * that says it is missing (the decode section then reports native only).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { build, type Plugin } from 'vite';

export interface PageBuild {
  staticDir: string;
  pagePath: string;
  modules: Record<string, string>;
}

function virtualModules(root: string): { plugin: Plugin; modules: Record<string, string> } {
  const file = (relative: string) => path.join(root, relative);
  const decodeBench = file('components/decoder/decode-bench.ts');
  const sources: Record<string, string> = {
    'bench:decode-bench': existsSync(decodeBench)
      ? `import * as decodeBench from ${JSON.stringify(decodeBench)};\nexport { decodeBench };\nexport const decodeBenchAvailable = true;`
      : 'export const decodeBench = {};\nexport const decodeBenchAvailable = false;',
  };
  const modules = { decodeBench: existsSync(decodeBench) ? 'components/decoder/decode-bench.ts' : 'missing' };
  const plugin: Plugin = {
    name: 'bench-virtual-modules',
    resolveId: (id) => (id in sources ? `\0${id}` : undefined),
    load: (id) => (id.startsWith('\0') && id.slice(1) in sources ? sources[id.slice(1)] : undefined),
  };
  return { plugin, modules };
}

export async function buildBenchPage(root: string): Promise<PageBuild> {
  const staticDir = path.join(root, '.cache', 'bench-dist');
  const { plugin, modules } = virtualModules(root);
  await build({
    root,
    configFile: false,
    logLevel: 'warn',
    base: '/',
    publicDir: false,
    plugins: [plugin],
    build: {
      outDir: staticDir,
      emptyOutDir: true,
      target: 'es2022',
      minify: false,
      rollupOptions: { input: { bench: path.join(root, 'server/bench/page/index.html') } },
    },
  });
  return { staticDir, pagePath: '/server/bench/page/index.html', modules };
}
