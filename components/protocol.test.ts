// The same module in the browser: it must load there without Node built-ins.
import { expect } from '@open-wc/testing';
import { parseServerMessage } from './protocol.js';

describe('protocol in the browser', () => {
  it('parses a metadata message', () => {
    const m = parseServerMessage('{"type":"metadata","src":"a","totalSize":1,"totalChunks":1,"chunkSize":65536,"mimeType":"audio/mpeg"}');
    expect(m.type).to.equal('metadata');
  });
});
