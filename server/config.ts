/**
 * Server configuration: the environment, validated once at start-up into a typed object, so no
 * module reads `process.env` itself and a bad value fails loudly before the server listens.
 */
import path from 'node:path';

export interface Config {
  host: string;
  port: number;
  audioDir: string;
  staticDir: string;
  /** `['*']` allows any origin (no credentials are ever allowed). */
  corsOrigins: string[];
  testHooks: boolean;
  /** Peer connections held at once; above it offers get 503 SERVER_BUSY (wrtc costs ~13 fds/peer). */
  maxPeers: number;
  /** Offers per IP per `rateLimitWindowSeconds`; 0 disables the limit. */
  rateLimitPerIp: number;
  rateLimitWindowSeconds: number;
  /**
   * Steady rate after the start-up burst, in 64 KiB chunks per second; fractions allowed (0.25 =
   * one chunk every 4 s ≈ 128 kbit/s, audio rate); 0 = unpaced (throughput bench).
   */
  paceChunksPerSecond: number;
  /** Bytes sent as fast as flow control allows before pacing starts. */
  burstBytes: number;
  /** Wall time from the first chunk during which sending is unpaced. */
  burstMs: number;
  /** A peer whose DataChannel has not opened by then is closed. */
  channelOpenTimeoutMs: number;
  /** A deferStart channel that got no `start` by then is closed with IDLE_TIMEOUT. */
  deferStartIdleMs: number;
  /** A stream the client paused (flow control) and did not resume by then is closed with IDLE_TIMEOUT. */
  pausedIdleMs: number;
  /** A completed stream whose client has not closed it by then is closed by the server. */
  completeLingerMs: number;
  /** Longest wait for the first local ICE candidate before answering. */
  gatherTimeoutMs: number;
  /** How long a `disconnected` peer may stay so before it is closed. */
  disconnectGraceMs: number;
  /** Request bodies above this are 413. */
  jsonLimitBytes: number;
  shutdownTimeoutMs: number;
  /**
   * Peers live in a supervised child process (PeerHost) so a native wrtc crash cannot take the
   * HTTP server down; PEER_PROCESS=0 keeps them in this process (debugging).
   */
  peerProcess: boolean;
}

type Env = Record<string, string | undefined>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer in [${min}, ${max}], got "${raw}"`);
  }
  return value;
}

/**
 * A finite decimal in [min, max]; 0 is always allowed (it means "off"), any other value must be at
 * least `minPositive` so a typo like 0.0001 (one chunk every ~3 hours) fails instead of stalling.
 */
function rate(env: Env, name: string, fallback: number, minPositive: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = /^\s*\d+(\.\d+)?\s*$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isFinite(value) || (value !== 0 && (value < minPositive || value > max))) {
    throw new ConfigError(`${name} must be 0 or a number in [${minPositive}, ${max}] (fractions allowed), got "${raw}"`);
  }
  return value;
}

/** Reads and validates the configuration; relative directories resolve against `cwd`. */
export function loadConfig(env: Env = process.env, cwd: string = process.cwd()): Config {
  const corsOrigins = (env.CORS_ORIGINS ?? '*')
    .split(',')
    .map((origin) => origin.trim())
    .filter((origin) => origin.length > 0);
  for (const origin of corsOrigins) {
    if (origin !== '*' && !/^https?:\/\/[^/\s]+$/.test(origin)) {
      throw new ConfigError(`CORS_ORIGINS: "${origin}" is not an origin like https://example.com`);
    }
  }
  return {
    host: env.HOST?.trim() || '127.0.0.1',
    port: integer(env, 'PORT', 8080, 0, 65535),
    audioDir: path.resolve(cwd, env.AUDIO_DIR?.trim() || 'demo/tracks'),
    staticDir: path.resolve(cwd, env.STATIC_DIR?.trim() || 'dist'),
    corsOrigins: corsOrigins.length > 0 ? corsOrigins : ['*'],
    testHooks: env.RTC_TEST_HOOKS === '1',
    maxPeers: integer(env, 'MAX_PEERS', 300, 1, 5000),
    rateLimitPerIp: integer(env, 'RATE_LIMIT_PER_IP', 600, 0, 1_000_000),
    rateLimitWindowSeconds: integer(env, 'RATE_LIMIT_WINDOW_SECONDS', 60, 1, 86400),
    paceChunksPerSecond: rate(env, 'PACE_CHUNKS_PER_SECOND', 20, 0.01, 100_000),
    burstBytes: integer(env, 'BURST_BYTES', 1024 * 1024, 0, 1 << 30),
    burstMs: integer(env, 'BURST_MS', 2000, 0, 600_000),
    channelOpenTimeoutMs: integer(env, 'CHANNEL_OPEN_TIMEOUT_MS', 15_000, 100, 600_000),
    deferStartIdleMs: integer(env, 'DEFER_START_IDLE_MS', 60_000, 100, 3_600_000),
    pausedIdleMs: integer(env, 'PAUSED_IDLE_MS', 120_000, 100, 86_400_000),
    completeLingerMs: integer(env, 'COMPLETE_LINGER_MS', 30_000, 100, 600_000),
    gatherTimeoutMs: integer(env, 'GATHER_TIMEOUT_MS', 1000, 10, 30_000),
    disconnectGraceMs: integer(env, 'DISCONNECT_GRACE_MS', 3000, 0, 60_000),
    jsonLimitBytes: integer(env, 'JSON_LIMIT_BYTES', 96 * 1024, 1024, 10 * 1024 * 1024),
    shutdownTimeoutMs: integer(env, 'SHUTDOWN_TIMEOUT_MS', 3000, 0, 60_000),
    peerProcess: env.PEER_PROCESS !== '0',
  };
}
