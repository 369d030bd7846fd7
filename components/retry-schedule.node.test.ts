import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { RetrySchedule } from './retry-schedule.js';

describe('RetrySchedule', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
  afterEach(() => mock.timers.reset());

  it('backs off 500 → 1000 → 2000 → 4000 ms (no jitter at random = 1) and stops at the budget', () => {
    const schedule = new RetrySchedule(() => 4, () => 1);
    let runs = 0;
    const delays: Array<number | undefined> = [];
    for (let i = 0; i < 5; i++) delays.push(schedule.schedule(() => runs++));
    // Each schedule() replaced the previous one: only the last is pending, and the 5th was refused.
    assert.deepEqual(delays.slice(0, 4), [500, 1000, 2000, 4000]);
    assert.equal(delays[4], undefined);
    assert.equal(schedule.attempt, 4);
    assert.equal(schedule.pending, false);
    assert.equal(runs, 0);
  });

  it('runs the attempt when its delay has passed, not before', () => {
    const schedule = new RetrySchedule(() => 4, () => 1);
    let runs = 0;
    schedule.schedule(() => runs++);
    mock.timers.tick(499);
    assert.equal(runs, 0);
    mock.timers.tick(1);
    assert.equal(runs, 1);
    assert.equal(schedule.pending, false);
  });

  it('honours a longer minimum delay (Retry-After)', () => {
    const schedule = new RetrySchedule(() => 4, () => 1);
    assert.equal(schedule.schedule(() => undefined, 3000), 3000);
  });

  it('wake() runs a pending attempt at once, once', () => {
    const schedule = new RetrySchedule(() => 4, () => 1);
    let runs = 0;
    schedule.schedule(() => runs++, 20000);
    schedule.wake();
    assert.equal(runs, 1);
    mock.timers.tick(30000);
    assert.equal(runs, 1);
    schedule.wake();
    assert.equal(runs, 1);
  });

  it('succeeded() restores the budget; cancel() leaves nothing to run', () => {
    const schedule = new RetrySchedule(() => 1, () => 1);
    let runs = 0;
    assert.equal(schedule.schedule(() => runs++), 500);
    assert.equal(schedule.schedule(() => runs++), undefined);
    schedule.succeeded();
    assert.equal(schedule.schedule(() => runs++), 500);
    schedule.cancel();
    mock.timers.tick(10000);
    assert.equal(runs, 0);
  });

  it('a budget of 0 never schedules', () => {
    assert.equal(new RetrySchedule(() => 0).schedule(() => undefined), undefined);
  });
});
