/**
 * Entry point: `node --import tsx server/main.ts`. Reads the config, listens, prints the one
 * "listening on" line, and on SIGINT/SIGTERM (or a crash) closes every peer before exiting —
 * @roamhq/wrtc segfaults at exit when peers are still open.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from './app';
import { ConfigError, loadConfig, type Config } from './config';
import { FaultPlan } from './faults/fault-plan';
import { AudioLibrary } from './library/audio-library';
import { createLogger } from './log';
import { PeerHost } from './peers/peer-host';
import { PeerManager } from './peers/peer-manager';
import type { PeerService } from './peers/peer-service';

const log = createLogger();

function configOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`rtc-audio-player: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}

const config = configOrExit();
const startedAt = performance.now();
const library = new AudioLibrary(config.audioDir);
const peers: PeerService = config.peerProcess ? new PeerHost(config.maxPeers, log, process.env, (file) => library.cachedDuration(file)) : new PeerManager(config, library, log);
const faults = config.testHooks ? new FaultPlan() : undefined;
if (faults) log.warn('RTC_TEST_HOOKS=1: test fault routes are enabled');
const app = createApp({ config, library, peers, log, startedAt, ...(faults ? { faults } : {}) });

const server = http.createServer(app.callback());
// Slow or silent clients must not hold sockets for Node's generous defaults (60 s / 300 s).
server.headersTimeout = 10_000;
server.requestTimeout = 30_000;
server.keepAliveTimeout = 5_000;

server.on('error', (error) => {
  log.error('cannot listen', error);
  void shutdown(1);
});

server.listen(config.port, config.host, () => {
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  process.stdout.write(`rtc-audio-player listening on http://${host}:${port}\n`);
  // Warm the duration cache so the first metadata can carry one.
  void library.list().catch(() => undefined);
});

let stopping: Promise<void> | undefined;

function shutdown(code: number): Promise<void> {
  stopping ??= (async () => {
    log.info(`shutting down (${peers.activePeers} peers)`);
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    await peers.closeAll();
    log.debug('peers closed');
    // In-flight requests get until the timeout; then every socket is cut.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([closed, new Promise((resolve) => (timer = setTimeout(resolve, config.shutdownTimeoutMs)))]);
    clearTimeout(timer);
    server.closeAllConnections();
    log.debug('http server closed');
    process.exit(code);
  })();
  return stopping;
}

process.once('SIGINT', () => void shutdown(0));
process.once('SIGTERM', () => void shutdown(0));
process.on('uncaughtException', (error) => {
  log.error('uncaught exception; closing peers and exiting', error);
  void shutdown(1);
});
process.on('unhandledRejection', (reason) => {
  log.error('unhandled rejection; closing peers and exiting', reason);
  void shutdown(1);
});
