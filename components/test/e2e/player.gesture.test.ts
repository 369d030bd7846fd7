// The browser's real autoplay policy (no autoplay flag): play() before any gesture leaves the
// shared AudioContext suspended, the element shows its gesture prompt, and the first real user
// gesture resumes it and the sound starts.
import { expect } from '@open-wc/testing';
import { sendMouse } from '@web/test-runner-commands';
import { sharedAudioContext } from '../../playback/audio-context.js';
import type { RtcAudioPlayer } from '../../rtc-audio-player.js';
import { MUSIC, type TestServer, mount, startServer, stopServer, waitFor } from './helpers.js';

describe('<rtc-audio-player> under the autoplay policy', () => {
  let server: TestServer;
  let player: RtcAudioPlayer | undefined;

  before(async () => {
    server = await startServer();
  });
  after(async () => {
    player?.remove();
    await stopServer(server);
  });

  it('shows the gesture prompt while audio is blocked; a click on it resumes and plays', async () => {
    ({ player } = mount({ src: MUSIC, server, bufferSeconds: 1 }));
    const playing = player.play();
    await waitFor('the gesture prompt', async () => {
      await player!.updateComplete;
      return player!.shadowRoot!.querySelector('[part="gesture-prompt"]') !== null;
    });
    expect(sharedAudioContext().state).to.equal('suspended');
    expect(player.state).to.not.equal('playing');
    const prompt = player.shadowRoot!.querySelector<HTMLElement>('[part="gesture-prompt"]')!;
    expect(prompt.textContent).to.contain('click');
    const box = prompt.getBoundingClientRect();
    await sendMouse({ type: 'click', position: [Math.round(box.x + box.width / 2), Math.round(box.y + box.height / 2)] });
    await playing;
    expect(sharedAudioContext().state).to.equal('running');
    expect(player.state).to.equal('playing');
    await player.updateComplete;
    expect(player.shadowRoot!.querySelector('[part="gesture-prompt"]')).to.equal(null);
  });
});
