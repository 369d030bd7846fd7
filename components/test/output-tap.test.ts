import { expect } from '@open-wc/testing';
import { sharedAudioContext } from '../playback/audio-context.js';
import { createOutputTap } from './output-tap.js';

describe('createOutputTap', function () {
  this.timeout(30000);
  const context = sharedAudioContext();

  it('records a node sample for sample and finds the exact frame of its first audible sample', async () => {
    const source = new ConstantSourceNode(context, { offset: 0.5 });
    const tap = await createOutputTap(context, source, { maxSeconds: 2 });
    const startFrame = Math.ceil(context.currentTime * context.sampleRate) + 4800 + 37; // off the quantum grid
    const before = performance.now();
    source.start(startFrame / context.sampleRate);
    const moment = await tap.whenAudible(1e-3, 5000);
    source.stop();
    expect(moment.frame).to.equal(startFrame);
    if (tap.skippedFrames === 0) expect(tap.startFrame! + moment.index).to.equal(startFrame);
    const samples = tap.samples();
    expect(samples[0]![moment.index - 1]).to.equal(0);
    expect(samples[1]![moment.index]).to.equal(0.5);
    // ~100 ms after `before`, plus the output latency; on the page's clock.
    expect(moment.pageTime - before).to.be.within(90, 600);
    tap.close();
  });

  it('hears a native <audio> through createMediaElementSource', async () => {
    const audio = new Audio('/components/test/fixtures/mp3-cbr128.mp3');
    const source = context.createMediaElementSource(audio);
    source.connect(context.destination);
    const tap = await createOutputTap(context, source, { maxSeconds: 10 });
    const pressed = performance.now();
    await audio.play();
    const moment = await tap.whenAudible(1e-3, 8000);
    audio.pause();
    expect(moment.pageTime).to.be.above(pressed);
    await tap.flush();
    expect(tap.samples()[0]!.length).to.be.above(moment.index);
    tap.close();
    source.disconnect();
  });
});
