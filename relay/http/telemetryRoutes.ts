/**
 * GET /api/bots/status, /api/bots/agents and /api/bots/data (shapes from shared/api.ts), served from
 * the telemetry graph. Mock agents are left out unless `?includeMock=1` (or `hideMock: false`, which the
 * relay passes from HIDE_MOCK=0). A query value the schema does not know leaves them out, as before.
 * `?target=` keeps one fleet target's agents, edges and swarms (docs/fleet.md); an unknown name is a 404
 * naming the targets that exist.
 */
import express from 'express';
import { INCLUDE_MOCK_VALUES, IncludeMockQuerySchema, TargetQuerySchema, routes, type ErrorBody, type RouteResponse } from '../../shared/api.js';
import type { GraphSnapshot } from '../../shared/protocol/messages.js';
import type { Telemetry } from '../telemetry/index.js';

export interface TelemetryRoutesOptions {
  hideMock?: boolean;
  /** The fleet's target names, for `?target=` (default: the one target `local`). */
  targets?: () => readonly string[];
}

export function telemetryRoutes(telemetry: Telemetry, opts: TelemetryRoutesOptions = {}): express.Router {
  const router = express.Router();
  const hideMock = opts.hideMock ?? true;
  const includeMock = (query: unknown): boolean => {
    if (!hideMock) return true;
    const q = IncludeMockQuerySchema.safeParse(query).data?.includeMock;
    return (INCLUDE_MOCK_VALUES as readonly string[]).includes(q ?? '');
  };
  /** The snapshot, narrowed to `?target=`; null when the answer (400/404) was already sent. */
  const snapshotFor = (req: express.Request, res: express.Response): GraphSnapshot | null => {
    const q = TargetQuerySchema.safeParse(req.query);
    const fail = (status: number, body: ErrorBody): null => {
      res.status(status).json(body);
      return null;
    };
    if (!q.success) return fail(400, { error: { code: 'bad-request', message: 'target: must be 1-32 of a-z, 0-9 and "-", not starting or ending with "-"' } });
    const snap = telemetry.snapshot({ includeMock: includeMock(req.query) });
    const target = q.data.target;
    if (target === undefined) return snap;
    const names = opts.targets?.() ?? ['local'];
    if (!names.includes(target)) {
      const shown = names.length === 0 ? 'none yet' : names.slice(0, 20).join(', ') + (names.length > 20 ? ` and ${names.length - 20} more` : '');
      return fail(404, { error: { code: 'not-found', message: `unknown target "${target}"; targets: ${shown}` } });
    }
    return {
      agents: snap.agents.filter((a) => (a.target ?? 'local') === target),
      edges: snap.edges.filter((e) => (e.fleetTarget ?? 'local') === target),
      sessions: snap.sessions.filter((s) => (s.target ?? 'local') === target),
      swarms: snap.swarms.filter((s) => (s.target ?? 'local') === target),
    };
  };

  router.get(routes.botsStatus.path, (req, res) => {
    const snap = snapshotFor(req, res);
    if (!snap) return;
    const h = telemetry.health();
    const body: RouteResponse<'botsStatus'> = {
      connected: h.state === 'connected',
      host: h.host,
      port: h.port,
      agentCount: snap.agents.length,
      agents: snap.agents.map((a) => ({ id: a.id, name: a.name, type: a.type, status: a.status, swarmId: a.swarmId })),
    };
    res.status(routes.botsStatus.status).json(body);
  });

  router.get(routes.botsAgents.path, (req, res) => {
    const snap = snapshotFor(req, res);
    if (!snap) return;
    const body: RouteResponse<'botsAgents'> = { agents: snap.agents };
    res.status(routes.botsAgents.status).json(body);
  });

  router.get(routes.botsData.path, (req, res) => {
    const snap = snapshotFor(req, res);
    if (!snap) return;
    const body: RouteResponse<'botsData'> = { nodes: snap.agents, edges: snap.edges, swarms: snap.swarms };
    res.status(routes.botsData.status).json(body);
  });

  return router;
}
