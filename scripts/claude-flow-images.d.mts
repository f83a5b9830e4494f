// Types for scripts/claude-flow-images.mjs (imported by the docker tests of the real claude-flow images).
export declare const CF_HASH_LABEL: string;
export declare const CF_VERSIONS: string[];
export declare const CF_PREFIX: string;
export declare function cfImage(version: string): string;
export declare function cfBaseImage(version: string): string;
export declare function cacheRoot(): string;
export declare function treeHash(version: string): string;
export declare function imageHash(version: string): string;
export declare function ensureTree(version: string, opts?: { log?: (msg: string) => void }): Promise<{ dir: string; built: boolean; seconds: number }>;
export interface ClaudeFlowImageResult {
  version: string;
  image: string;
  built: boolean;
  hash: string;
  seconds: number;
  treeSeconds: number;
  sizeBytes: number | null;
}
export declare function buildClaudeFlowImage(version: string, opts?: { force?: boolean; log?: (msg: string) => void }): Promise<ClaudeFlowImageResult>;
export declare function buildClaudeFlowImages(opts?: { versions?: string[]; force?: boolean; log?: (msg: string) => void }): Promise<ClaudeFlowImageResult[]>;
