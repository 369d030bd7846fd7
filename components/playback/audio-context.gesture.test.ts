import { expect } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import { audioContextNeedsGesture, resumeOnFirstGesture, sharedAudioContext } from './audio-context.js';

// Runs in the 'gesture' group: Chromium's real autoplay policy, no autoplay flag.
describe('shared AudioContext under the autoplay policy', () => {
  it('starts suspended, needs a gesture, and runs after the first key press', async () => {
    const context = sharedAudioContext();
    expect(sharedAudioContext(), 'one per page').to.equal(context);
    expect(context.state).to.equal('suspended');
    expect(audioContextNeedsGesture()).to.equal(true);

    let resumed = false;
    const resuming = resumeOnFirstGesture().then(() => (resumed = true));
    await new Promise((r) => setTimeout(r, 200));
    expect(resumed, 'no gesture yet').to.equal(false);
    expect(context.state).to.equal('suspended');

    await sendKeys({ press: 'Space' }); // a real key press: user activation
    await resuming;
    expect(context.state).to.equal('running');
    expect(audioContextNeedsGesture()).to.equal(false);
    await resumeOnFirstGesture(); // already running: resolves at once
  });
});
