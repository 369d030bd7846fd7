/**
 * A wrtc peer's local description with its first ICE candidates, built without ever reading
 * `pc.localDescription` while gathering runs. libwebrtc's `local_description()` hands the caller
 * a pointer to the description that its signaling thread keeps adding gathered candidates to;
 * @roamhq/wrtc serialises it on the Node thread, so a read during gathering races that writer
 * and can crash the process (SIGSEGV in `webrtc::SdpSerialize`, seen here in test runs that read
 * it every 2 ms while waiting for the first candidate). The description we passed to
 * `setLocalDescription` plus the candidates the `icecandidate` events carry (serialised on the
 * signaling thread) is the same text, with no shared state.
 */

/** How long "gathering complete" with no candidate must hold before it is believed. */
const COMPLETE_GRACE_MS = 50;

export interface GatheredDescription {
  /** The description's SDP with an `a=candidate:` line for each candidate gathered. */
  sdp: string;
  candidates: number;
  /** Milliseconds from the local description being set to the answer being ready. */
  gatherMs: number;
}

interface Gathered {
  candidate: string;
  sdpMLineIndex: number;
}

/**
 * Sets `description` as the local description and resolves once at least one candidate has
 * been gathered (plus any gathered in the same burst), gathering completed, `timeoutMs` passed,
 * or `cancelled()` says the peer is going away. Non-trickle without waiting for gathering to end.
 */
export async function setLocalDescriptionWithCandidates(
  pc: RTCPeerConnection,
  description: RTCSessionDescriptionInit,
  timeoutMs: number,
  cancelled: () => boolean = () => false,
): Promise<GatheredDescription> {
  const gathered: Gathered[] = [];
  let complete = false;
  let settle: (() => void) | undefined;
  // Listen before setLocalDescription: a candidate event may be dispatched before its promise
  // continuation runs, and one lost event could leave an answer with no candidate.
  pc.onicecandidate = (event: RTCPeerConnectionIceEvent) => {
    const candidate = event.candidate;
    if (candidate !== null && candidate.candidate !== '') {
      gathered.push({ candidate: candidate.candidate, sdpMLineIndex: candidate.sdpMLineIndex ?? 0 });
    } else complete = true;
    settle?.();
  };
  try {
    await pc.setLocalDescription(description);
    const start = performance.now();
    if (gathered.length === 0 && !cancelled()) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(finish, timeoutMs);
        const poll = setInterval(() => cancelled() && finish(), 20);
        let grace: NodeJS.Timeout | undefined;
        settle = () => {
          if (gathered.length > 0) finish();
          // wrtc reports gathering complete (a null candidate) *before* the candidates when the
          // remote description already carries some: "complete" with none is only believed
          // after a moment with none.
          else if (complete) grace ??= setTimeout(finish, COMPLETE_GRACE_MS);
        };
        settle();
        function finish(): void {
          clearTimeout(timer);
          clearTimeout(grace);
          clearInterval(poll);
          settle = undefined;
          resolve();
        }
      });
    }
    // Host candidates of several interfaces come in one burst: take the rest of it too.
    if (gathered.length > 0) await new Promise((resolve) => setImmediate(resolve));
    const sdp = withCandidates(description.sdp ?? '', gathered);
    return { sdp, candidates: gathered.length, gatherMs: performance.now() - start };
  } finally {
    pc.onicecandidate = null;
  }
}

/** `sdp` with `a=candidate:` lines appended to the media sections they belong to. */
export function withCandidates(sdp: string, candidates: readonly Gathered[]): string {
  if (candidates.length === 0) return sdp;
  const lines = sdp.split('\r\n');
  if (lines.at(-1) === '') lines.pop();
  const sections: string[][] = [[]];
  for (const line of lines) {
    if (line.startsWith('m=')) sections.push([]);
    sections.at(-1)!.push(line);
  }
  for (const { candidate, sdpMLineIndex } of candidates) {
    const section = sections[sdpMLineIndex + 1];
    if (section === undefined) continue;
    section.push(`a=${candidate.startsWith('candidate:') ? candidate : `candidate:${candidate}`}`);
  }
  return `${sections.flat().join('\r\n')}\r\n`;
}
