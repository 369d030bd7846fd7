/**
 * The real app on an ephemeral port inside the test process (for tests that want to look at the
 * PeerManager directly). Tests about process lifetime use `startServer` (server-process.mjs).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../app';
import { loadConfig, type Config } from '../config';
import { FaultPlan } from '../faults/fault-plan';
import { AudioLibrary } from '../library/audio-library';
import { createLogger } from '../log';
import { PeerManager } from '../peers/peer-manager';

export interface TestServer {
  url: string;
  config: Config;
  peers: PeerManager;
  library: AudioLibrary;
  faults: FaultPlan | undefined;
  close(): Promise<void>;
}

export async function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  const config = loadConfig({ HOST: '127.0.0.1', PORT: '0', ...env });
  const log = createLogger(process.env.SERVER_LOGS ? 'debug' : 'silent');
  const library = new AudioLibrary(config.audioDir);
  const peers = new PeerManager(config, library, log);
  const faults = config.testHooks ? new FaultPlan() : undefined;
  const app = createApp({ config, library, peers, log, ...(faults ? { faults } : {}) });
  const server = http.createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    config,
    peers,
    library,
    faults,
    async close() {
      await peers.closeAll();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
