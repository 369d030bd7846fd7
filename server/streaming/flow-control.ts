/**
 * Waiting for room in a DataChannel's send buffer. @roamhq/wrtc never fires `bufferedamountlow`,
 * so the only way to learn that the buffer drained is to look: poll `bufferedAmount` every few
 * ms while it is above the mark. Never send in a synchronous loop: wrtc reports 0 buffered
 * during one and silently drops what overflows.
 */

export interface BufferedChannel {
  readonly bufferedAmount: number;
  readonly readyState: string;
}

export const POLL_MS = 4;

export class FlowControlTimeout extends Error {
  override readonly name = 'FlowControlTimeout';
}

/**
 * Resolves once `channel.bufferedAmount + nextBytes <= highWaterMark` (or the buffer is empty),
 * `false` if `cancelled()` turned true or the channel stopped being open first. Rejects with
 * FlowControlTimeout when the buffer did not drain within `timeoutMs` (a dead peer).
 */
export async function waitForRoom(
  channel: BufferedChannel,
  nextBytes: number,
  highWaterMark: number,
  cancelled: () => boolean,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (cancelled() || channel.readyState !== 'open') return false;
    const buffered = channel.bufferedAmount;
    if (buffered === 0 || buffered + nextBytes <= highWaterMark) return true;
    if (Date.now() > deadline) throw new FlowControlTimeout(`send buffer stuck at ${buffered} bytes`);
    await delay(POLL_MS);
  }
}

export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
