// Typed view of the shared plain-JS process harness (server/testing/server-process.mjs).
import type { ChildProcess } from 'node:child_process';
// @ts-expect-error plain JS harness module without type declarations
import * as harness from '../testing/server-process.mjs';

export interface ServerProcess {
  url: string;
  port: number;
  child: ChildProcess;
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}
export interface ProcessStats {
  fds: number;
  files: number;
  threads: number;
  rssKb: number;
}

const typed = harness as {
  startServer(options?: { port?: number; env?: Record<string, string>; timeoutMs?: number }): Promise<ServerProcess>;
  processStats(pid: number): ProcessStats;
  projectRoot: string;
};
export const startServer = typed.startServer;
export const processStats = typed.processStats;
export const projectRoot = typed.projectRoot;
