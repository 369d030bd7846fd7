/** Types of encoder-variants.mjs (plain JS: the web-test-runner config loads it too). */
export interface VariantEntry {
  name: string;
  mimeType: string;
  /** The variant's file in the temp dir. */
  file: string;
  /** The file to compare with, where decodeAudioData cannot decode the variant as a player should. */
  reference?: string;
  unsupported?: true;
  rate?: number;
  channels?: number;
  frames?: number;
  exact?: boolean;
  frame?: number;
}

export declare function buildVariants(names?: readonly string[]): Promise<{ dir: string; entries: VariantEntry[]; remove(): Promise<void> }>;

export declare function encoderVariants(): {
  middleware: (ctx: unknown, next: () => Promise<unknown>) => Promise<unknown>;
  plugin: { name: string; serverStop(): Promise<void> };
};
