/**
 * GET /api/sessions/:uuid/files, /files/*path and /tasks: what a session produced and what it is doing
 * (issue 13's Files and Tasks). The uuid is checked with the route table's schema before anything runs;
 * the file path goes to the control plane's two gates (relay/control/outputFiles) and a refusal answers
 * 4xx before a single byte of the file is sent. A download is streamed with its Content-Length, a type by
 * extension, `attachment`, `nosniff` and a sandboxing CSP, so a file a swarm wrote can never run in the
 * relay's origin. The routes call a narrow view (`SessionOutputView`), built in app.ts from both planes.
 */
import express, { type Request, type Response } from 'express';
import { routes, SessionParamsSchema } from '../../shared/api.js';
import type { FilesList, TasksList } from '../../shared/model/console.js';
import type { RequestContext } from '../context.js';
import { ControlError, OutputFileError, contentDisposition, type ControlPlane, type OpenedFile } from '../control/index.js';
import { McpBusyError, McpRpcError, McpTimeoutError, McpUnavailableError, type Telemetry } from '../telemetry/index.js';
import { errorHandler, RouteError, zodMessage } from './errors.js';
import { contextOf } from './requestId.js';

export interface SessionOutputView {
  listFiles(uuid: string, ctx?: RequestContext): Promise<FilesList>;
  /** `path`: Express 5's `*path` parameter as it decoded it (segments). */
  openFile(uuid: string, path: unknown, ctx?: RequestContext): Promise<OpenedFile>;
  tasks(uuid: string, ctx?: RequestContext): Promise<TasksList>;
}

/** The view over both planes: files from the control plane, tasks where the backend's MCP reports them. */
export function sessionOutputView(control: Pick<ControlPlane, 'listFiles' | 'openFile' | 'taskSource'>, telemetry: Pick<Telemetry, 'sessionTasks'>): SessionOutputView {
  return {
    listFiles: (uuid, ctx) => control.listFiles(uuid, ctx),
    openFile: (uuid, path, ctx) => control.openFile(uuid, path, ctx),
    tasks: async (uuid, ctx) => {
      const source = await control.taskSource(uuid, ctx);
      if (!telemetry.sessionTasks) return { supported: false, reason: 'this relay has no MCP reader of tasks', tasks: [] };
      return telemetry.sessionTasks(uuid, source, ctx);
    },
  };
}

export interface SessionOutputRoutesOptions {
  logError?: (err: unknown, status: number, req: Request) => void;
}

function uuidOf(req: Request): string {
  const p = SessionParamsSchema.safeParse({ uuid: req.params.uuid });
  if (!p.success) throw new ControlError('bad-request', zodMessage(p.error));
  return p.data.uuid;
}

/** Refusals of the files gates and MCP failures in the house error shape. */
function mapped(err: unknown): unknown {
  if (err instanceof OutputFileError) return new RouteError(err.status, err.code, err.message);
  if (err instanceof McpUnavailableError || err instanceof McpBusyError) return new RouteError(503, 'mcp-unavailable', `tasks come from MCP, which is not available: ${err.message}`);
  if (err instanceof McpTimeoutError) return new RouteError(504, 'timeout', `task_list did not answer in time: ${err.message}`);
  if (err instanceof McpRpcError) return new RouteError(502, 'command-failed', `task_list failed: ${err.message.slice(0, 300)}`);
  return err;
}

/** Sends exactly `f.size` bytes; a file that shrank meanwhile ends the connection rather than a short 200. */
function stream(f: OpenedFile, res: Response): void {
  res.status(routes.sessionFile.status);
  res.setHeader('Content-Type', f.contentType);
  res.setHeader('Content-Length', String(f.size));
  res.setHeader('Content-Disposition', contentDisposition(f.path));
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Content-Security-Policy', "default-src 'none'; sandbox");
  res.setHeader('Cache-Control', 'no-store');
  let sent = 0;
  let done = false;
  res.once('close', () => {
    if (!done) f.abort();
  });
  f.body.on('data', (c: Buffer) => {
    sent += c.length;
    if (!res.write(c)) {
      f.body.pause();
      res.once('drain', () => f.body.resume());
    }
  });
  f.body.once('end', () => {
    done = true;
    if (sent === f.size) res.end();
    else res.destroy(new Error(`file changed while it was read: ${sent} of ${f.size} bytes`));
  });
  f.body.once('error', (err) => {
    done = true;
    res.destroy(err);
  });
  f.body.resume();
}

export function sessionOutputRoutes(view: SessionOutputView, opts: SessionOutputRoutesOptions = {}): express.Router {
  const r = express.Router();

  r.get(routes.sessionFiles.path, async (req, res) => {
    const uuid = uuidOf(req);
    try {
      res.status(routes.sessionFiles.status).json(await view.listFiles(uuid, contextOf(req)));
    } catch (err) {
      throw mapped(err);
    }
  });

  r.get(routes.sessionFile.path, async (req, res) => {
    const uuid = uuidOf(req);
    let f: OpenedFile;
    try {
      f = await view.openFile(uuid, (req.params as Record<string, unknown>).path, contextOf(req));
    } catch (err) {
      throw mapped(err);
    }
    stream(f, res);
  });

  r.get(routes.sessionTasks.path, async (req, res) => {
    const uuid = uuidOf(req);
    try {
      res.status(routes.sessionTasks.status).json(await view.tasks(uuid, contextOf(req)));
    } catch (err) {
      throw mapped(err);
    }
  });

  r.use(errorHandler(opts.logError));
  return r;
}
