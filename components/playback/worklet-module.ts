/**
 * Loads an AudioWorklet module from source text, once per context and source. The text becomes a
 * Blob URL, so the worklet code travels inside the JS bundle (a single `<script>` is enough) and
 * works the same under the test runner's esbuild and a Vite library build. Pages with a strict
 * Content-Security-Policy must allow `blob:` for scripts/workers.
 */
const loaded = new WeakMap<BaseAudioContext, Map<string, Promise<void>>>();

export function loadWorkletModule(context: BaseAudioContext, source: string): Promise<void> {
  let modules = loaded.get(context);
  if (!modules) loaded.set(context, (modules = new Map()));
  let loading = modules.get(source);
  if (!loading) {
    const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
    loading = context.audioWorklet.addModule(url).finally(() => URL.revokeObjectURL(url));
    // A failed load may be retried later (e.g. after a transient error); do not cache it.
    loading.catch(() => modules.delete(source));
    modules.set(source, loading);
  }
  return loading;
}
