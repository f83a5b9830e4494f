/**
 * A relay's HTTP API as the fleet tests call it: JSON in and out, status and body kept side by side (the
 * refusals are asserted too). The URL is read at each call: tests restart their relay.
 */
import { routes } from '../shared/api.js';
import { HealthSchema, type TargetHealth } from '../shared/model/health.js';
import { validSpawn } from '../relay/control/testing/harness.js';

export interface RelayApi {
  get(path: string): Promise<{ status: number; body: unknown }>;
  post(path: string, body: unknown): Promise<{ status: number; body: unknown }>;
  /** POST initialize-swarm with the tests' valid spawn, `body` laid over it (target, customPrompt, ...). */
  spawn(body: Record<string, unknown>): Promise<{ status: number; body: unknown }>;
  /** The target's entry in GET /api/hybrid/status; undefined while the relay lists none of that name. */
  target(name: string): Promise<TargetHealth | undefined>;
}

export function relayApi(url: () => string): RelayApi {
  const json = async (r: Response) => ({ status: r.status, body: (await r.json()) as unknown });
  const get = async (p: string) => json(await fetch(`${url()}${p}`));
  const post = async (p: string, body: unknown) => json(await fetch(`${url()}${p}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }));
  return {
    get,
    post,
    spawn: (body) => post(routes.initializeSwarm.path, { ...validSpawn, ...body }),
    target: async (name) => HealthSchema.parse((await get(routes.hybridStatus.path)).body).targets?.find((t) => t.name === name),
  };
}
