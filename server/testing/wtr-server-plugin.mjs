// web-test-runner plugin: lets browser tests start, kill and restart real server processes and
// touch files of a scratch audio library, through `executeServerCommand` of
// @web/test-runner-commands. Only the test runner loads this; `npm start` never does.
import { createHash } from 'node:crypto';
import { copyFile, cp, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { processStats, projectRoot, startServer } from './server-process.mjs';

export function serverHarnessPlugin() {
  /** @type {Map<string, { url: string, port: number, child: any, env: object, stop: Function }>} */
  const servers = new Map();
  const scratchDirs = [];
  let nextId = 1;

  const inScratch = (file) => {
    const resolved = path.resolve(file);
    if (!scratchDirs.some((dir) => resolved.startsWith(dir + path.sep))) {
      throw new Error(`refusing to touch ${file}: not inside a scratch library`);
    }
    return resolved;
  };

  const commands = {
    /** { env?, copyLibraryFrom? } → { id, url, audioDir } */
    async 'server-start'(payload = {}) {
      const env = { ...(payload.env ?? {}) };
      let audioDir = env.AUDIO_DIR;
      if (payload.copyLibraryFrom) {
        audioDir = await mkdtemp(path.join(tmpdir(), 'rtc-lib-'));
        scratchDirs.push(audioDir);
        await cp(path.resolve(projectRoot, payload.copyLibraryFrom), audioDir, { recursive: true });
        env.AUDIO_DIR = audioDir;
      }
      const server = await startServer({ env });
      const id = String(nextId++);
      servers.set(id, { ...server, env });
      return { id, url: server.url, audioDir: audioDir ?? null };
    },
    /** { id, signal? } → { code, signal } */
    async 'server-stop'({ id, signal = 'SIGTERM' }) {
      const server = servers.get(id);
      if (!server) throw new Error(`no server ${id}`);
      servers.delete(id);
      return server.stop(signal);
    },
    /** Kills (SIGKILL) and starts again on the same port: { id, downMs? } → { url } */
    async 'server-restart'({ id, downMs = 0 }) {
      const server = servers.get(id);
      if (!server) throw new Error(`no server ${id}`);
      await server.stop('SIGKILL');
      if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
      const again = await startServer({ port: server.port, env: server.env });
      servers.set(id, { ...again, env: server.env });
      return { url: again.url };
    },
    /** Kills without restarting (SIGKILL): { id } */
    async 'server-kill'({ id }) {
      const server = servers.get(id);
      if (!server) throw new Error(`no server ${id}`);
      return server.stop('SIGKILL');
    },
    /** { id } → { pid, fds, files, threads, rssKb } */
    async 'server-stats'({ id }) {
      const server = servers.get(id);
      if (!server) throw new Error(`no server ${id}`);
      return { pid: server.child.pid, ...processStats(server.child.pid) };
    },
    /** sha256 of a project file or scratch file: { path } → hex */
    async 'file-sha256'({ path: file }) {
      const data = await readFile(path.resolve(projectRoot, file));
      return createHash('sha256').update(data).digest('hex');
    },
    /** Truncates a file of a scratch library: { path, size } */
    async 'file-truncate'({ path: file, size }) {
      await truncate(inScratch(file), size);
      return true;
    },
    /** Replaces a scratch file's bytes: { path, base64 } */
    async 'file-write'({ path: file, base64 }) {
      await writeFile(inScratch(file), Buffer.from(base64, 'base64'));
      return true;
    },
    /**
     * Writes a project file `times` times over into a scratch file: { from, to, times }. A file of
     * independent frames (no header, no bit reservoir) repeated is a valid, longer stream.
     */
    async 'file-repeat'({ from, to, times }) {
      if (!Number.isSafeInteger(times) || times < 1 || times > 100_000) throw new Error(`bad times ${times}`);
      const data = await readFile(path.resolve(projectRoot, from));
      await writeFile(inScratch(to), Buffer.concat(Array.from({ length: times }, () => data)));
      return data.length * times;
    },
    /** Copies a project file into a scratch library: { from, to } */
    async 'file-copy'({ from, to }) {
      await copyFile(path.resolve(projectRoot, from), inScratch(to));
      return true;
    },
  };

  return {
    name: 'rtc-server-harness',
    async executeCommand({ command, payload }) {
      const handler = commands[command];
      if (!handler) return undefined; // not ours: let other plugins answer
      return handler(payload);
    },
    async serverStop() {
      await Promise.all([...servers.values()].map((s) => s.stop('SIGTERM')));
      servers.clear();
      await Promise.all(scratchDirs.map((dir) => rm(dir, { recursive: true, force: true })));
    },
  };
}
