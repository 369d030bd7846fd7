/**
 * Start-up work that can be done before the user presses play without sending a single packet:
 * the DTLS certificate, and one local-only RTCPeerConnection with its DataChannel and offer.
 *
 * Why: `new RTCPeerConnection` + `createOffer` is the first step of a cold start and costs
 * 5–25 ms (certificate generation, more on a busy machine) before the offer can even be posted.
 * Nothing here touches the network: no `setLocalDescription` (that starts ICE gathering and binds
 * sockets), no signaling. So a spare may be held while a `preload="none"` player sits on the page
 * without breaking "preload none" (no request, no peer on the server).
 *
 * Held only while someone asked for it ({@link leaseSparePeer}), at most one per page, and closed
 * when the last lease is released (elements removed): never more than the page needs.
 */

/** The channel every stream uses (the server accepts any label; ordered, reliable). */
export const STREAM_CHANNEL_LABEL = 'audio';

export interface SparePeer {
  readonly pc: RTCPeerConnection;
  readonly channel: RTCDataChannel;
  /** Made by `createOffer` on `pc`; the local description is not set yet. */
  readonly offer: RTCSessionDescriptionInit;
}

/** After a spare was taken, a new one is made this much later: not during the start-up it serves. */
const REFILL_DELAY_MS = 2000;

let leases = 0;
let slot: Promise<SparePeer | undefined> | undefined;
/** The spare `slot` resolved to, once made: lets a cold start take it without awaiting. */
let ready: SparePeer | undefined;
let refillTimer: ReturnType<typeof setTimeout> | undefined;
let certificate: RTCCertificate | undefined;
let certificatePending: Promise<void> | undefined;

/**
 * Starts generating the page's DTLS certificate (once). Reusing one certificate for every peer
 * of the page spares each new peer its own key generation; it changes nothing on the wire but
 * the fingerprint, which the answer's DTLS checks against the offer as usual.
 */
export function prewarmCertificate(): void {
  if (certificatePending || typeof RTCPeerConnection === 'undefined' || typeof RTCPeerConnection.generateCertificate !== 'function') return;
  certificatePending = RTCPeerConnection.generateCertificate({ name: 'ECDSA', namedCurve: 'P-256' } as EcKeyGenParams).then(
    (generated) => {
      certificate = generated;
    },
    () => undefined, // The browser's own per-peer certificate is used instead.
  );
}

/** The prewarmed certificate, if it is ready and valid for at least another hour. */
export function readyCertificates(): RTCCertificate[] | undefined {
  if (!certificate) return undefined;
  if (certificate.expires - Date.now() < 3_600_000) {
    certificate = undefined;
    certificatePending = undefined;
    prewarmCertificate();
    return undefined;
  }
  return [certificate];
}

/** Configuration of a stream peer: the given ICE servers, plus the prewarmed certificate when ready. */
export function peerConfiguration(iceServers: RTCIceServer[]): RTCConfiguration {
  const certificates = readyCertificates();
  return certificates ? { iceServers, certificates } : { iceServers };
}

/**
 * Asks for a spare peer to be kept ready; returns the release function (idempotent). The spare
 * is closed when the last lease is released.
 */
export function leaseSparePeer(): () => void {
  leases++;
  prewarmCertificate();
  slot ??= makeSpare();
  let released = false;
  return () => {
    if (released) return;
    released = true;
    leases--;
    if (leases > 0) return;
    clearTimeout(refillTimer);
    refillTimer = undefined;
    const held = slot;
    slot = undefined;
    ready = undefined;
    void held?.then((spare) => spare?.pc.close());
  };
}

/**
 * Takes the spare (waiting for its offer if it is still being made), or undefined if there is
 * none. Only for peers without ICE servers: the spare was made with `iceServers: []`. The caller
 * owns the peer from here on (and closes it).
 */
export async function takeSparePeer(): Promise<SparePeer | undefined> {
  const taken = slot;
  if (!taken) return undefined;
  emptySlot();
  const spare = await taken;
  if (!spare || spare.pc.signalingState === 'closed') return undefined;
  return spare;
}

/**
 * The spare if it is made already, taken at once (no await), else undefined (and the slot is left
 * as it is: {@link takeSparePeer} waits for one being made). Why: play() runs in a task that also
 * queues microtasks (the element's render, the playback engine's creation); a cold start that
 * awaits even a settled promise posts its offer after all of them, one that takes the spare
 * synchronously posts it from within play().
 */
export function takeReadySparePeer(): SparePeer | undefined {
  const spare = ready;
  if (!spare) return undefined;
  emptySlot();
  return spare.pc.signalingState === 'closed' ? undefined : spare;
}

function emptySlot(): void {
  slot = undefined;
  ready = undefined;
  clearTimeout(refillTimer);
  refillTimer = setTimeout(() => {
    refillTimer = undefined;
    if (leases > 0) slot ??= makeSpare();
  }, REFILL_DELAY_MS);
}

/** Live spare peers right now (0 or 1), for tests. */
export function sparePeerHeld(): boolean {
  return slot !== undefined;
}

function makeSpare(): Promise<SparePeer | undefined> {
  const made = createSpare();
  void made.then((spare) => {
    // Still the slot's (not taken or released meanwhile): takeable without waiting from now on.
    if (slot === made) ready = spare;
  });
  return made;
}

async function createSpare(): Promise<SparePeer | undefined> {
  if (typeof RTCPeerConnection === 'undefined') return undefined;
  try {
    // Wait for the certificate being generated anyway rather than have the peer make its own.
    await certificatePending;
    const pc = new RTCPeerConnection(peerConfiguration([]));
    try {
      const channel = pc.createDataChannel(STREAM_CHANNEL_LABEL, { ordered: true });
      const offer = await pc.createOffer();
      return { pc, channel, offer };
    } catch {
      pc.close();
      return undefined;
    }
  } catch {
    return undefined;
  }
}
