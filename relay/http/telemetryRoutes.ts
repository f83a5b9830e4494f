/**
 * GET /api/bots/status, /api/bots/agents and /api/bots/data (shapes from shared/api.ts), served from
 * the telemetry graph. Mock agents are left out unless `?includeMock=1` (or `hideMock: false`, which the
 * relay passes from HIDE_MOCK=0). A query value the schema does not know leaves them out, as before.
 */
import express from 'express';
import { INCLUDE_MOCK_VALUES, IncludeMockQuerySchema, routes, type RouteResponse } from '../../shared/api.js';
import type { Telemetry } from '../telemetry/index.js';

export function telemetryRoutes(telemetry: Telemetry, opts: { hideMock?: boolean } = {}): express.Router {
  const router = express.Router();
  const hideMock = opts.hideMock ?? true;
  const includeMock = (query: unknown): boolean => {
    if (!hideMock) return true;
    const q = IncludeMockQuerySchema.safeParse(query).data?.includeMock;
    return (INCLUDE_MOCK_VALUES as readonly string[]).includes(q ?? '');
  };

  router.get(routes.botsStatus.path, (req, res) => {
    const snap = telemetry.snapshot({ includeMock: includeMock(req.query) });
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
    const snap = telemetry.snapshot({ includeMock: includeMock(req.query) });
    const body: RouteResponse<'botsAgents'> = { agents: snap.agents };
    res.status(routes.botsAgents.status).json(body);
  });

  router.get(routes.botsData.path, (req, res) => {
    const snap = telemetry.snapshot({ includeMock: includeMock(req.query) });
    const body: RouteResponse<'botsData'> = { nodes: snap.agents, edges: snap.edges, swarms: snap.swarms };
    res.status(routes.botsData.status).json(body);
  });

  return router;
}
