// The one list of Chromium flags for tests and benchmarks (plain JS so the web-test-runner config
// and the TypeScript bench both load it). The background-networking flags keep Chromium from
// calling out of this machine; the WebRTC ones let it connect over loopback only.
export const CHROMIUM_PATH = process.env.CHROME_PATH ?? '/usr/bin/chromium';

export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
  '--allow-loopback-in-peer-connection',
];

/** For runs that must hear sound without a click. */
export const AUTOPLAY_FLAG = '--autoplay-policy=no-user-gesture-required';
