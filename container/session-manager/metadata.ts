/**
 * Validation of `create`'s metadata_json without zod: loading zod costs a short-lived CLI process about
 * 100 ms of CPU, more than the rest of `create --start` together. Accepts exactly what
 * `SwarmConfigSchema.partial()` of shared/model/session.ts accepts (plus `replaces`, a session uuid or
 * null), keeps other keys verbatim; metadata.test.ts checks the two agree over many cases.
 */
export const TOPOLOGIES = ['mesh', 'hierarchical', 'ring', 'star'] as const;
export const STRATEGIES = ['strategic', 'tactical', 'adaptive'] as const;
export const PRIORITIES = ['low', 'medium', 'high', 'critical'] as const;
const AGENT_TYPE = /^[a-z_]{2,40}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The first problem found, as `path: message`, or null when the object is valid. */
export function metadataProblem(m: Record<string, unknown>): string | null {
  const has = (k: string): boolean => Object.prototype.hasOwnProperty.call(m, k) && m[k] !== undefined;
  const oneOf = (k: string, values: readonly string[]): string | null =>
    has(k) && !(typeof m[k] === 'string' && values.includes(m[k] as string)) ? `${k}: must be one of ${values.join(', ')}` : null;
  const p = oneOf('topology', TOPOLOGIES) ?? oneOf('strategy', STRATEGIES) ?? oneOf('priority', PRIORITIES);
  if (p) return p;
  if (has('maxAgents')) {
    const v = m.maxAgents;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 100) return 'maxAgents: must be an integer from 1 to 100';
  }
  if (has('enableNeural') && typeof m.enableNeural !== 'boolean') return 'enableNeural: must be a boolean';
  if (has('agentTypes')) {
    const v = m.agentTypes;
    if (!Array.isArray(v) || v.length < 1 || v.length > 20) return 'agentTypes: must be an array of 1 to 20 agent types';
    for (let i = 0; i < v.length; i++) {
      const t: unknown = v[i];
      if (typeof t !== 'string' || !AGENT_TYPE.test(t)) return `agentTypes.${i}: must match ${AGENT_TYPE.source}`;
    }
  }
  if (has('replaces') && m.replaces !== null && !(typeof m.replaces === 'string' && UUID.test(m.replaces))) return 'replaces: replaces must be a session uuid';
  return null;
}
