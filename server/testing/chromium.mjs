// The one list of Chromium flags for tests and benchmarks (plain JS so the web-test-runner config
// and the TypeScript bench both load it). The background-networking flags keep Chromium from
// calling out of this machine; the WebRTC ones let it connect over loopback only.
// WebUIOmniboxPopup/WebUIOmniboxAimPopup: Chromium 156 loads the omnibox popup of every new window
// as a WebUI page in its own renderer, ~0.9 s of CPU over the first second of each browser context
// (puppeteer's and wtr's fresh pages are new windows). On 2 cores that overlapped the measured
// play() of every bench run, for native and ours alike; a headless window never shows an omnibox.
export const CHROMIUM_PATH = process.env.CHROME_PATH ?? '/usr/bin/chromium';

export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--disable-features=WebRtcHideLocalIpsWithMdns,WebUIOmniboxPopup,WebUIOmniboxAimPopup',
  '--allow-loopback-in-peer-connection',
];

/** For runs that must hear sound without a click. */
export const AUTOPLAY_FLAG = '--autoplay-policy=no-user-gesture-required';
