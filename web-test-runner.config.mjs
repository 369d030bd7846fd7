// Browser tests: @open-wc/testing in headless Debian Chromium. `npm test` runs this inside a
// loopback-only network namespace (see server/testing/in-loopback-netns.sh), so the WebRTC tests
// and the real servers they start never send a packet off this machine.
import { esbuildPlugin } from '@web/dev-server-esbuild';
import { chromeLauncher } from '@web/test-runner-chrome';
import { AUTOPLAY_FLAG, CHROMIUM_FLAGS, CHROMIUM_PATH } from './server/testing/chromium.mjs';
import { serverHarnessPlugin } from './server/testing/wtr-server-plugin.mjs';
import { encoderVariants } from './components/test/encoder-variants.mjs';


const chromium = (extraFlags) =>
  chromeLauncher({
    launchOptions: {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_FLAGS, ...extraFlags],
    },
  });

// WTR_FILES=glob[,glob] narrows a run to some files (wtr's --files does not narrow groups);
// a group left with no file is dropped, since wtr refuses an empty group.
const only = process.env.WTR_FILES?.split(',').filter(Boolean);
const isGesture = (pattern) => pattern.includes('gesture');
const nodeOnly = '!**/*.node.test.ts';
const autoplayFiles = only
  ? [...only.filter((p) => !isGesture(p)), nodeOnly]
  : ['components/**/*.test.ts', '!components/**/*.gesture.test.ts', nodeOnly];
const gestureFiles = only ? only.filter(isGesture) : ['components/**/*.gesture.test.ts'];

// Real-encoder variants for the decoder's format sweep, made with ffmpeg/lame/sox on first request.
const variants = encoderVariants();

const groups = [
  // Everything that may play sound without a click.
  { name: 'autoplay', files: autoplayFiles, browsers: [chromium([AUTOPLAY_FLAG])] },
  // The browser's real autoplay policy: the AudioContext starts suspended until a gesture.
  { name: 'gesture', files: gestureFiles, browsers: [chromium([])] },
].filter((group) => group.files.some((p) => !p.startsWith('!')));

export default {
  rootDir: '.',
  nodeResolve: true,
  // Real-time audio and WebRTC on a 2-core machine: one test file at a time keeps timing honest.
  concurrency: 1,
  concurrentBrowsers: 1,
  testsFinishTimeout: 15 * 60 * 1000,
  browserStartTimeout: 60000,
  testFramework: { config: { timeout: 120000 } },
  middleware: [variants.middleware],
  plugins: [esbuildPlugin({ ts: true, tsconfig: 'tsconfig.json', target: 'es2022' }), serverHarnessPlugin(), variants.plugin],
  groups,
};
