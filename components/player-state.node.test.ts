import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  IllegalTransitionError,
  PLAYER_STATES,
  type PlayerEvent,
  type PlayerState,
  canTransition,
  isActive,
  transition,
} from './player-state.js';

const EVENTS: PlayerEvent[] = ['connect', 'stream', 'buffered', 'playing', 'pause', 'underrun', 'ended', 'stop', 'fail', 'reset'];

function run(events: PlayerEvent[], from: PlayerState = 'idle'): PlayerState[] {
  const seen: PlayerState[] = [from];
  for (const event of events) seen.push(transition(seen[seen.length - 1]!, event));
  return seen;
}

describe('player state machine', () => {
  it('walks the happy path idle → connecting → buffering → ready → playing → ended', () => {
    assert.deepEqual(run(['connect', 'stream', 'buffered', 'playing', 'ended']), [
      'idle', 'connecting', 'buffering', 'ready', 'playing', 'ended',
    ]);
  });

  it('pauses and resumes, and runs dry into waiting and back', () => {
    assert.deepEqual(run(['pause', 'playing', 'underrun', 'playing', 'underrun', 'pause'], 'playing'), [
      'playing', 'paused', 'playing', 'waiting', 'playing', 'waiting', 'paused',
    ]);
  });

  it('a retry from error and a replay from ended or stopped start a new connection', () => {
    for (const from of ['error', 'ended', 'stopped'] as const) assert.equal(transition(from, 'connect'), 'connecting');
  });

  it('stop is allowed from every state that holds resources, and reset from every state', () => {
    for (const state of PLAYER_STATES) {
      assert.equal(transition(state, 'reset'), 'idle');
      if (isActive(state) || state === 'ended' || state === 'error') assert.equal(transition(state, 'stop'), 'stopped');
    }
  });

  it('fail reaches error from every active state and from idle (a failed pre-connection)', () => {
    for (const state of PLAYER_STATES) {
      if (isActive(state) || state === 'idle') assert.equal(transition(state, 'fail'), 'error');
    }
  });

  it('throws IllegalTransitionError with the state and event for a move the table lacks', () => {
    const illegal: Array<[PlayerState, PlayerEvent]> = [
      ['idle', 'playing'], ['idle', 'stream'], ['connecting', 'buffered'], ['buffering', 'playing'],
      ['ready', 'underrun'], ['stopped', 'playing'], ['ended', 'playing'], ['error', 'fail'], ['stopped', 'fail'],
    ];
    for (const [state, event] of illegal) {
      assert.equal(canTransition(state, event), false);
      assert.throws(() => transition(state, event), (error: unknown) =>
        error instanceof IllegalTransitionError && error.state === state && error.event === event
        && error.message.includes(state) && error.message.includes(event));
    }
  });

  it('every state is reachable from idle and can get back to idle', () => {
    const reached = new Set<PlayerState>(['idle']);
    let frontier: PlayerState[] = ['idle'];
    while (frontier.length > 0) {
      const next: PlayerState[] = [];
      for (const state of frontier) {
        for (const event of EVENTS) {
          if (!canTransition(state, event)) continue;
          const to = transition(state, event);
          if (!reached.has(to)) { reached.add(to); next.push(to); }
        }
      }
      frontier = next;
    }
    assert.deepEqual([...reached].sort(), [...PLAYER_STATES].sort());
  });

  it('canTransition agrees with transition for every pair', () => {
    for (const state of PLAYER_STATES) {
      for (const event of EVENTS) {
        if (canTransition(state, event)) assert.doesNotThrow(() => transition(state, event));
        else assert.throws(() => transition(state, event), IllegalTransitionError);
      }
    }
  });
});
