import { expect } from '@open-wc/testing';
import { audioContextNeedsGesture, liveEngineCount, resumeOnFirstGesture, sharedAudioContext } from './audio-context.js';
import { PlaybackEngine } from './playback-engine.js';

// The autoplay group: the policy lets the context run without a gesture.
describe('shared AudioContext (autoplay allowed)', () => {
  it('is one interactive context per page, running, loading the worklet once for many engines', async () => {
    const context = sharedAudioContext();
    expect(sharedAudioContext()).to.equal(context);
    expect(audioContextNeedsGesture(), 'running from creation when the policy allows').to.equal(false);
    await resumeOnFirstGesture();
    expect(context.state).to.equal('running');
    expect(audioContextNeedsGesture()).to.equal(false);
    const before = liveEngineCount();
    const engines = await Promise.all([PlaybackEngine.create(), PlaybackEngine.create(), PlaybackEngine.create()]);
    expect(engines.every((e) => e.context === context)).to.equal(true);
    expect(liveEngineCount()).to.equal(before + 3);
    for (const engine of engines) engine.destroy();
    expect(liveEngineCount()).to.equal(before);
    expect(context.state, 'never closed by its players').to.equal('running');
  });
});
