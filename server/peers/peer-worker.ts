/**
 * The peer process (spawned by PeerHost over IPC): every @roamhq/wrtc object lives here, none in
 * the HTTP process. wrtc has native races we cannot guard from JavaScript (a DataChannel closed
 * by the remote on wrtc's signaling thread while `send` runs on ours dereferences a pointer that
 * thread just nulled: SIGSEGV in RTCDataChannel::Send), so a crash must cost only this process.
 */
import { loadConfig } from '../config';
import { HttpError } from '../errors';
import { AudioLibrary } from '../library/audio-library';
import { createLogger } from '../log';
import { PeerManager } from './peer-manager';
import type { HostMessage, WorkerMessage } from './peer-ipc';

const log = createLogger();
const config = loadConfig();
const library = new AudioLibrary(config.audioDir);
const peers = new PeerManager(config, library, log);
// No warm-up scan of the library here: the HTTP process scans it and sends each offer's duration
// along. A second full scan (parsing every file) would compete with the first streams for the CPU
// after every (re)start; a duration it did not know is read lazily, per file.

function post(message: WorkerMessage): void {
  if (process.connected) process.send?.(message);
}

let lastStats = '';
function pushStats(): void {
  const stats = JSON.stringify(peers.stats());
  if (stats === lastStats) return;
  lastStats = stats;
  post({ type: 'stats', stats: peers.stats() });
}
setInterval(pushStats, 100).unref();

let closing: Promise<void> | undefined;
function closeAndExit(): Promise<void> {
  closing ??= peers.closeAll().then(() => {
    pushStats();
    post({ type: 'closed' });
    process.disconnect?.();
    process.exit(0);
  });
  return closing;
}

process.on('message', (message: HostMessage) => {
  if (message.type === 'close') return void closeAndExit();
  const { id, request, file, faults, duration } = message;
  peers.accept(request, file, faults, duration).then(
    (accepted) => {
      post({ type: 'accepted', id, accepted });
      pushStats();
    },
    (error: unknown) => {
      const refused =
        error instanceof HttpError
          ? { status: error.status, code: error.code, message: error.message, headers: error.headers }
          : { status: 500, code: 'INTERNAL' as const, message: 'the peer could not be created', headers: {} };
      post({ type: 'refused', id, ...refused });
      pushStats();
    },
  );
});
// The HTTP process died without asking us to close (SIGKILL, crash): its streams die with it,
// as they did when the peers lived in it. SIGKILL, not exit(): wrtc segfaults at exit with peers
// open, and a polite SHUTTING_DOWN would tell clients the server stopped on purpose.
process.on('disconnect', () => {
  if (closing === undefined) process.kill(process.pid, 'SIGKILL');
});
process.on('SIGTERM', () => void closeAndExit());
process.on('SIGINT', () => undefined); // the HTTP process decides; a terminal ^C reaches both
process.on('uncaughtException', (error) => {
  log.error('peer process: uncaught exception; closing peers', error);
  void closeAndExit();
});
post({ type: 'ready' });
