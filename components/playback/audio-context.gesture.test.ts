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

    const removed: string[] = [];
    const remove = window.removeEventListener.bind(window);
    window.removeEventListener = (type: string, ...rest: [EventListenerOrEventListenerObject, (boolean | EventListenerOptions)?]) => {
      removed.push(type);
      remove(type, ...rest);
    };
    let resumed = false;
    const resuming = resumeOnFirstGesture().then(() => (resumed = true));
    expect(resumeOnFirstGesture(), 'one wait shared by every caller').to.equal(resumeOnFirstGesture());
    await new Promise((r) => setTimeout(r, 200));
    expect(resumed, 'no gesture yet').to.equal(false);
    expect(context.state).to.equal('suspended');

    await sendKeys({ press: 'Space' }); // a real key press: user activation
    await resuming;
    expect(context.state).to.equal('running');
    expect(audioContextNeedsGesture()).to.equal(false);
    window.removeEventListener = remove;
    expect(removed, 'its gesture listeners are gone').to.include.members(['pointerdown', 'keydown', 'touchend', 'click']);
    await resumeOnFirstGesture(); // already running: resolves at once
  });
});
