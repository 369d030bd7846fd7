import { expect } from '@open-wc/testing';
import { leaseSparePeer, peerConfiguration, prewarmCertificate, readyCertificates, sparePeerHeld, takeReadySparePeer, takeSparePeer } from './spare-peer.js';

describe('spare peer (set-up before play that sends nothing)', () => {
  it('a lease keeps one local-only peer with its channel and offer; nothing is gathered or sent', async () => {
    const release = leaseSparePeer();
    try {
      expect(sparePeerHeld()).to.equal(true);
      const spare = await takeSparePeer();
      expect(spare, 'the spare').to.not.equal(undefined);
      try {
        expect(spare!.offer.type).to.equal('offer');
        expect(spare!.offer.sdp).to.contain('m=application');
        // No local description: ICE gathering (sockets) starts only when the stream uses it.
        expect(spare!.pc.localDescription).to.equal(null);
        expect(spare!.pc.iceGatheringState).to.equal('new');
        expect(spare!.channel.readyState).to.equal('connecting');
        // Taken: the next take has none until the (delayed) refill.
        expect(sparePeerHeld()).to.equal(false);
        expect(await takeSparePeer()).to.equal(undefined);
      } finally {
        spare?.pc.close();
      }
    } finally {
      release();
    }
  });

  it('takeReadySparePeer: nothing while the spare is being made (takeSparePeer waits for it), the spare at once when made', async () => {
    const release = leaseSparePeer();
    const taken: RTCPeerConnection[] = [];
    try {
      // Just leased: the offer is still being made; the synchronous take leaves the slot alone.
      expect(takeReadySparePeer()).to.equal(undefined);
      expect(sparePeerHeld()).to.equal(true);
      const waited = await takeSparePeer();
      expect(waited, 'the spare being made').to.not.equal(undefined);
      taken.push(waited!.pc);
      expect(takeReadySparePeer(), 'taken: none until the refill').to.equal(undefined);
      // The refill (2 s later) is takeable synchronously once made.
      const deadline = performance.now() + 8000;
      let ready = takeReadySparePeer();
      while (!ready && performance.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        ready = takeReadySparePeer();
      }
      expect(ready, 'the refilled spare').to.not.equal(undefined);
      taken.push(ready!.pc);
      expect(ready!.pc).to.not.equal(waited!.pc);
      expect(ready!.offer.sdp).to.contain('m=application');
      expect(ready!.pc.localDescription).to.equal(null);
      expect(sparePeerHeld()).to.equal(false);
      expect(takeReadySparePeer()).to.equal(undefined);
    } finally {
      for (const pc of taken) pc.close();
      release();
    }
  });

  it('the last release closes the spare; two leases share one', async () => {
    const first = leaseSparePeer();
    const second = leaseSparePeer();
    first();
    first(); // idempotent
    expect(sparePeerHeld(), 'still leased by the second').to.equal(true);
    second();
    expect(sparePeerHeld()).to.equal(false);
    expect(await takeSparePeer()).to.equal(undefined);
  });

  it('prewarms one certificate that every stream peer reuses', async () => {
    prewarmCertificate();
    const deadline = performance.now() + 5000;
    while (!readyCertificates() && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    const certificates = readyCertificates();
    expect(certificates).to.have.length(1);
    expect(peerConfiguration([]).certificates![0]).to.equal(certificates![0]);
    expect(peerConfiguration([]).iceServers).to.deep.equal([]);
  });
});
