/**
 * The control plane's HTTP routes from the shared route table: every param and body validated with its
 * schema before anything reaches the control plane (and so an argv). Mounted by the lead's server, which
 * also parses JSON (64 KB cap); the router re-applies the same parser so it works on its own. Each
 * command gets the request's context (correlation id + child logger) so its execs log under that id.
 */
import express, { type Request, type Response } from 'express';
import type { z } from 'zod';
import { routes, MAX_BODY_BYTES } from '../../shared/api.js';
import { DEFAULT_TARGET_NAME } from '../../shared/model/target.js';
import type { ControlPlane } from '../control/controlPlane.js';
import type { RequestContext } from '../context.js';
import type { InitializeSwarmBody } from '../../shared/api.js';
import type { Session, SessionStatus } from '../../shared/model/session.js';
import { ControlError } from '../control/errors.js';
import { errorHandler, zodMessage } from './errors.js';
import { contextOf } from './requestId.js';

function parse<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const r = schema.safeParse(value ?? {});
  if (!r.success) throw new ControlError('bad-request', zodMessage(r.error));
  return r.data;
}

export interface ControlRoutesOptions {
  /** Telemetry's share of /api/hybrid/performance; without it those figures are unknown/zero. */
  performanceExtras?: () => {
    mcpLatencyMs: { p50: number | null; p95: number | null; count: number };
    mcpReconnects: number;
    websocketClients: number;
  };
  /** Where 5xx errors are logged (the request carries its correlation-id logger as `req.log`). */
  logError?: (err: unknown, status: number, req: Request) => void;
}

/** What the routes need of control: a lone ControlPlane, or the fleet's (relay/fleet FleetControl). */
export interface ControlRoutesPlane extends Pick<ControlPlane, 'readOnly' | 'spawnAgent' | 'stopSession' | 'pauseSession' | 'resumeSession' | 'submitTask' | 'getSession' | 'performance'> {
  spawnSwarm(body: InitializeSwarmBody, o: Parameters<ControlPlane['spawnSwarm']>[1], ctx?: RequestContext): Promise<{ uuid: string; status: SessionStatus; swarmId: string | null; target?: string; pickedBecause?: string | null }>;
  /** `target`: only that fleet target's (unknown: 404). */
  listSessions(ctx?: RequestContext, target?: string): Promise<{ sessions: Session[]; stale: boolean }>;
}

export function controlRoutes(control: ControlRoutesPlane, opts: ControlRoutesOptions = {}): express.Router {
  const r = express.Router();
  const json = express.json({ limit: MAX_BODY_BYTES, strict: true });
  const writable = (_req: Request, _res: Response, next: () => void) => {
    if (control.readOnly) throw new ControlError('read-only', 'the relay runs with HIVE_DRIVER=none (telemetry only): set HIVE_DRIVER=auto, docker or local to control swarms');
    next();
  };

  r.post(routes.initializeSwarm.path, writable, json, async (req, res) => {
    const body = parse(routes.initializeSwarm.body, req.body);
    const out = await control.spawnSwarm(body, {}, contextOf(req));
    // A fleet's control (relay/fleet) says which target it used; a lone plane is the one default target.
    res.status(routes.initializeSwarm.status).json({ target: DEFAULT_TARGET_NAME, pickedBecause: null, ...out });
  });

  r.post(routes.spawnAgentHybrid.path, writable, json, async (req, res) => {
    const body = parse(routes.spawnAgentHybrid.body, req.body);
    res.status(routes.spawnAgentHybrid.status).json(await control.spawnAgent(body, contextOf(req)));
  });

  r.delete(routes.removeTask.path, writable, async (req, res) => {
    const { id } = parse(routes.removeTask.params, req.params);
    res.status(routes.removeTask.status).json(await control.stopSession(id, contextOf(req)));
  });

  r.post(routes.pauseTask.path, writable, async (req, res) => {
    const { id } = parse(routes.pauseTask.params, req.params);
    res.status(routes.pauseTask.status).json(await control.pauseSession(id, contextOf(req)));
  });

  r.post(routes.resumeTask.path, writable, async (req, res) => {
    const { id } = parse(routes.resumeTask.params, req.params);
    res.status(routes.resumeTask.status).json(await control.resumeSession(id, contextOf(req)));
  });

  r.post(routes.submitTask.path, writable, json, async (req, res) => {
    const { uuid } = parse(routes.submitTask.params, req.params);
    const body = parse(routes.submitTask.body, req.body);
    res.status(routes.submitTask.status).json(await control.submitTask(uuid, body, contextOf(req)));
  });

  r.get(routes.sessions.path, async (req, res) => {
    const { target } = parse(routes.sessions.query, req.query);
    res.status(routes.sessions.status).json(await control.listSessions(contextOf(req), target));
  });

  r.get(routes.session.path, async (req, res) => {
    const { uuid } = parse(routes.session.params, req.params);
    res.status(routes.session.status).json({ session: await control.getSession(uuid, contextOf(req)) });
  });

  r.get(routes.hybridPerformance.path, (_req, res) => {
    const p = control.performance();
    const extra = opts.performanceExtras?.() ?? { mcpLatencyMs: { p50: null, p95: null, count: 0 }, mcpReconnects: 0, websocketClients: 0 };
    res.status(routes.hybridPerformance.status).json({
      execLatencyMs: p.execLatencyMs,
      mcpLatencyMs: extra.mcpLatencyMs,
      execFailures: p.execFailures,
      mcpReconnects: extra.mcpReconnects,
      websocketClients: extra.websocketClients,
      relayRssBytes: process.memoryUsage().rss,
    });
  });

  r.use(errorHandler(opts.logError));
  return r;
}
