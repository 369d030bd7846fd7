/**
 * Hears whatever a player sends to the speakers without reaching into it: every node connected to
 * an AudioContext's destination is also connected to a listener-supplied node (the bench's tap
 * bus). Must be imported before any player module, so it sees the first connection.
 */
type Connect = (this: AudioNode, destination: AudioNode | AudioParam, output?: number, input?: number) => AudioNode | void;

const listeners = new Set<(node: AudioNode, destination: AudioDestinationNode) => void>();
const originalConnect = AudioNode.prototype.connect as unknown as Connect;

function hookedConnect(this: AudioNode, destination: AudioNode | AudioParam, output?: number, input?: number): AudioNode | void {
  const result = originalConnect.call(this, destination, output, input);
  if (destination instanceof AudioDestinationNode) for (const listener of listeners) listener(this, destination);
  return result;
}
(AudioNode.prototype as unknown as { connect: Connect }).connect = hookedConnect;

export function onDestinationConnect(listener: (node: AudioNode, destination: AudioDestinationNode) => void): void {
  listeners.add(listener);
}

/** Connects without triggering the listeners (for the bench's own wiring). */
export function connectQuietly(source: AudioNode, destination: AudioNode): void {
  originalConnect.call(source, destination);
}
