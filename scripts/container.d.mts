// Types for scripts/container.mjs (imported by the docker tests and the lead's scripts).
export declare const IMAGE: string;
export declare const BASE_IMAGE: string;
export declare const DEFAULT_VOLUME: string;
export declare const KIT_HASH_LABEL: string;
export declare function defaultContainerName(): string;
export declare function docker(args: string[], opts?: { input?: string; env?: Record<string, string>; timeoutMs?: number }): Promise<string>;
export declare function kitHash(): string;
export declare function imageStatus(image?: string, label?: string): Promise<{ exists: boolean; hash: string | null; sizeBytes: number | null }>;
export declare function lddLibraries(binary: string): Promise<string[]>;
export declare function copyLddLibraries(dir: string, binary: string): Promise<void>;
export declare function makeBaseRootfs(dir: string, dirs?: string[]): Promise<number>;
export declare function importRootfs(dir: string, tag: string, changes?: string[]): Promise<void>;
export declare function buildImage(opts?: { force?: boolean; log?: (msg: string) => void }): Promise<{ image: string; built: boolean; hash: string; seconds: number; sizeBytes: number | null }>;
export declare function containerState(name?: string): Promise<{ exists: boolean; running: boolean }>;
export declare function up(opts?: { name?: string; volume?: string; port?: number; mcpPort?: number; authToken?: string; env?: Record<string, string>; image?: string }): Promise<{ name: string; started: boolean }>;
export declare function down(opts?: { name?: string; volume?: string; volumes?: boolean }): Promise<{ name: string; removed: boolean }>;
export declare class UsageError extends Error {}
export declare const USAGE: string;
export declare function dockerEnvFor(url: string, certs?: string, env?: Record<string, string | undefined>): Record<string, string>;
export declare function parseArgs(
  argv: string[],
  env?: Record<string, string | undefined>,
): { cmd: 'build' | 'up' | 'down'; force: boolean; volumes: boolean; name?: string; volume?: string; mcpPort?: number; dockerEnv: Record<string, string> | null };
