/**
 * The one place @roamhq/wrtc is loaded. It is a CommonJS native addon whose typings declare
 * named exports that Node's ESM loader cannot see, so it is required; a missing or incompatible
 * binary (it needs glibc ≥ 2.34) fails here, at start-up, with a clear message.
 */
import { createRequire } from 'node:module';

type Wrtc = typeof import('@roamhq/wrtc');

function load(): Wrtc {
  try {
    return createRequire(import.meta.url)('@roamhq/wrtc') as Wrtc;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`cannot load @roamhq/wrtc (needs Node 20/22 on glibc >= 2.34): ${reason}`);
  }
}

export const wrtc: Wrtc = load();
