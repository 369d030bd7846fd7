import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PlaybackClock } from './playback-clock.js';

test('advances with the context clock while flowing, capped at what was queued', () => {
  const clock = new PlaybackClock();
  assert.equal(clock.framesAt(1000), 0);
  clock.update({ playedFrames: 480, contextFrame: 1000, flowing: true, aheadFrames: 1000 });
  assert.equal(clock.framesAt(900), 480, 'never before the report');
  assert.equal(clock.framesAt(1500), 980);
  assert.equal(clock.framesAt(5000), 1480, 'never past the queued audio');
});

test('never goes backwards; freeze stops it; reset starts over', () => {
  const clock = new PlaybackClock();
  clock.update({ playedFrames: 0, contextFrame: 0, flowing: true, aheadFrames: 10000 });
  assert.equal(clock.framesAt(600), 600);
  clock.update({ playedFrames: 590, contextFrame: 600, flowing: true, aheadFrames: 10000 });
  assert.equal(clock.framesAt(605), 600, 'held, not moved back');
  clock.freeze(700);
  assert.equal(clock.framesAt(2000), 690);
  clock.update({ playedFrames: 930, contextFrame: 940, flowing: false, aheadFrames: 0 });
  assert.equal(clock.framesAt(3000), 930);
  clock.reset();
  assert.equal(clock.framesAt(3000), 0);
});
