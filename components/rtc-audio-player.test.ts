// The element as a view: attributes and properties, parts, labels and accessibility. No server
// here (the e2e tests under test/e2e/ stream for real); the error case uses a closed port.
import { expect, fixture, html } from '@open-wc/testing';
import './rtc-audio-player.js';
import type { RtcAudioPlayer } from './rtc-audio-player.js';

const part = (el: RtcAudioPlayer, name: string) => el.shadowRoot!.querySelector<HTMLElement>(`[part="${name}"]`);

describe('<rtc-audio-player> element', () => {
  it('has media-element defaults', async () => {
    const el = await fixture<RtcAudioPlayer>(html`<rtc-audio-player></rtc-audio-player>`);
    expect(el.src).to.equal('');
    expect(el.server).to.equal('');
    expect(el.bufferSeconds).to.equal(10);
    expect(el.maxRetries).to.equal(4);
    expect(el.preload).to.equal('metadata');
    expect(el.autoplay).to.equal(false);
    expect(el.state).to.equal('idle');
    expect(el.getAttribute('state')).to.equal('idle');
    expect(el.paused).to.equal(true);
    expect(el.currentTime).to.equal(0);
    expect(Number.isNaN(el.duration)).to.equal(true);
    expect(el.error).to.equal(null);
    expect(el.volume).to.equal(1);
    expect(el.muted).to.equal(false);
    expect(el.bufferedSeconds).to.equal(0);
    expect(el.timing).to.deep.equal({});
    expect(el.stats).to.deep.equal({ bytesReceived: 0, reconnects: 0, discontinuities: 0, illegalTransitions: 0 });
  });

  it('reads attributes and reflects src and muted', async () => {
    const el = await fixture<RtcAudioPlayer>(html`<rtc-audio-player
      src="a.mp3" server="http://127.0.0.1:9" buffer-seconds="3" max-retries="2" preload="none"
    ></rtc-audio-player>`);
    expect(el.src).to.equal('a.mp3');
    expect(el.server).to.equal('http://127.0.0.1:9');
    expect(el.bufferSeconds).to.equal(3);
    expect(el.maxRetries).to.equal(2);
    expect(el.preload).to.equal('none');
    el.src = 'b.mp3';
    el.muted = true;
    await el.updateComplete;
    expect(el.getAttribute('src')).to.equal('b.mp3');
    expect(el.hasAttribute('muted')).to.equal(true);
  });

  it('treats an unknown preload like the media element (metadata); bare preload means auto', async () => {
    const el = await fixture<RtcAudioPlayer>(html`<rtc-audio-player preload="bogus"></rtc-audio-player>`);
    expect(el.preload).to.equal('metadata');
    el.setAttribute('preload', '');
    expect(el.preload).to.equal('auto');
  });

  it('fires volumechange, and rejects a volume outside 0..1 without changing it', async () => {
    const el = await fixture<RtcAudioPlayer>(html`<rtc-audio-player></rtc-audio-player>`);
    let changes = 0;
    el.addEventListener('volumechange', () => changes++);
    el.volume = 0.5;
    el.muted = true;
    expect(changes).to.equal(2);
    expect(() => (el.volume = 1.5)).to.throw(RangeError);
    expect(() => (el.volume = Number.NaN)).to.throw(RangeError);
    expect(el.volume).to.equal(0.5);
  });

  it('renders every part, with labels that track the state', async () => {
    const el = await fixture<RtcAudioPlayer>(html`<rtc-audio-player src="a.mp3" preload="none"></rtc-audio-player>`);
    for (const name of ['play-button', 'stop-button', 'status', 'progress', 'time']) expect(part(el, name), name).to.exist;
    expect(part(el, 'error')).to.equal(null);
    expect(part(el, 'play-button')!.getAttribute('aria-label')).to.equal('Play');
    expect(part(el, 'stop-button')!.hasAttribute('disabled')).to.equal(true);
    expect(part(el, 'status')!.getAttribute('role')).to.equal('status');
    expect(part(el, 'status')!.textContent).to.equal('Ready to play');
    const progress = part(el, 'progress') as HTMLProgressElement;
    expect(progress.tagName).to.equal('PROGRESS');
    expect(progress.value).to.equal(0);
    expect(part(el, 'time')!.textContent).to.equal('0:00 / --:--');
  });

  it('is accessible when idle', async () => {
    const el = await fixture<RtcAudioPlayer>(html`<rtc-audio-player src="a.mp3" preload="none"></rtc-audio-player>`);
    await expect(el).shadowDom.to.be.accessible();
  });

  it('shows a named error with a retry button when the server cannot be reached (and stays accessible)', async () => {
    const el = await fixture<RtcAudioPlayer>(html`<rtc-audio-player
      src="a.mp3" server="http://127.0.0.1:9" max-retries="0" preload="none"
    ></rtc-audio-player>`);
    const states: string[] = [];
    el.addEventListener('statechange', (event) => states.push(`${event.detail.previous}>${event.detail.state}`));
    let errorEvent: ErrorEvent | undefined;
    el.addEventListener('error', (event) => (errorEvent = event));
    const outcome = await el.play().then(() => 'resolved', (error: unknown) => error);
    expect(outcome).to.equal(el.error);
    expect(el.state).to.equal('error');
    expect(states).to.deep.equal(['idle>connecting', 'connecting>error']);
    expect(el.error!.code).to.equal('RETRIES_EXHAUSTED');
    expect((el.error!.cause as { code: string }).code).to.equal('SIGNALING_UNREACHABLE');
    expect(errorEvent?.error).to.equal(el.error);
    await el.updateComplete;
    expect(part(el, 'error')!.getAttribute('role')).to.equal('alert');
    expect(part(el, 'error')!.textContent).to.contain('Server unreachable');
    expect(part(el, 'retry-button')!.textContent!.trim()).to.equal('Retry');
    expect(part(el, 'status')!.textContent).to.equal('Error');
    expect(el.getAttribute('state')).to.equal('error');
    await expect(el).shadowDom.to.be.accessible();
    el.remove();
    expect(el.state).to.equal('idle');
  });

  it('play() without src rejects with NotSupportedError and changes nothing', async () => {
    const el = await fixture<RtcAudioPlayer>(html`<rtc-audio-player></rtc-audio-player>`);
    const error = await el.play().then(() => undefined, (e: unknown) => e);
    expect((error as DOMException).name).to.equal('NotSupportedError');
    expect(el.state).to.equal('idle');
    expect(el.paused).to.equal(true);
  });

  it('is keyboard operable: its controls are focusable buttons', async () => {
    const el = await fixture<RtcAudioPlayer>(html`<rtc-audio-player src="a.mp3" preload="none"></rtc-audio-player>`);
    const play = part(el, 'play-button')!;
    expect(play.tagName).to.equal('BUTTON');
    play.focus();
    expect(el.shadowRoot!.activeElement).to.equal(play);
  });
  it('autoplay plays once connected, without a call to play()', async () => {
    const el = await fixture<RtcAudioPlayer>(html`<rtc-audio-player
      autoplay src="a.mp3" server="http://127.0.0.1:9" max-retries="0" preload="none"
    ></rtc-audio-player>`);
    expect(el.autoplay).to.equal(true);
    // The server is a closed port: the attempt it made shows up as the named error.
    if (el.state !== 'error') {
      expect(el.paused).to.equal(false);
      await new Promise<void>((resolve) => el.addEventListener('error', () => resolve(), { once: true }));
    }
    expect(el.error!.code).to.equal('RETRIES_EXHAUSTED');
    expect(el.state).to.equal('error');
    expect(el.paused).to.equal(true);
  });
});
