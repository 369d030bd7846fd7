// The bench page build (server/bench/build-page.ts) maps this to the decoder's measuring helper
// when `components/decoder/decode-bench.ts` exists, or to a stand-in that says it is missing.
declare module 'bench:decode-bench' {
  export const decodeBenchAvailable: boolean;
  export const decodeBench: Record<string, unknown>;
}
