/**
 * Stream test harness: a fake Telemetry built on the real AgentGraph (so deltas and node ids are real),
 * a real http.Server with the stream attached on port 0, and WebSocket clients that record what they get.
 */
import http from 'node:http';
import { EventEmitter } from 'node:events';
import pino, { type Logger } from 'pino';
import WebSocket from 'ws';
import type { Health } from '../../../shared/model/index.js';
import { PROTOCOL_VERSION, type ServerMessage } from '../../../shared/protocol/messages.js';
import { AgentGraph } from '../../graph/graph.js';
import { NodeIdStore } from '../../graph/nodeIds.js';
import { normalizeAgent } from '../../graph/normalize.js';
import type { PerformanceSample, Telemetry, TelemetryHealth, TelemetryMetrics } from '../../telemetry/index.js';
import { createStreamServer, type StreamServer } from '../server.js';
import { testConfig, waitFor } from '../../telemetry/testing/helpers.js';

export class FakeTelemetry extends EventEmitter implements Telemetry {
  readonly nodeIdStore = new NodeIdStore(null);
  readonly graph = new AgentGraph(this.nodeIdStore);
  readonly config = { host: '127.0.0.1', port: 9500 };
  selected: string[] = [];
  h: TelemetryHealth = { state: 'connected', host: '127.0.0.1', port: 9500, latencyMs: 1, reconnects: 0, ageMs: 0, push: true, lastError: null };
  constructor() {
    super();
    this.graph.on('change', (cs) => this.emit('change', cs));
    this.graph.on('event', (e) => this.emit('event', e));
    this.graph.on('session', (s, cause) => this.emit('session', s, cause));
    this.graph.markInitialSynced();
  }
  /** Adds or updates agents from raw MCP-style objects. */
  agents(...raw: Record<string, unknown>[]): void {
    this.graph.batch(() => {
      for (const r of raw) this.graph.applyAgent(normalizeAgent(r)!, 'mcp');
    });
  }
  log(message: string): void {
    this.graph.addEvent({ time: Date.now(), kind: 'log', level: 'info', message, agentId: null, swarmId: null, sessionUuid: null, progress: null });
  }
  performance(samples: PerformanceSample[]): void {
    this.emit('performance', samples);
  }
  snapshot(opts?: { includeMock?: boolean }) {
    return this.graph.snapshot(opts);
  }
  health(): TelemetryHealth {
    return this.h;
  }
  setHealth(h: Partial<TelemetryHealth>): void {
    this.h = { ...this.h, ...h };
    this.emit('health', this.h);
  }
  metrics(): TelemetryMetrics {
    throw new Error('not used');
  }
  latencySamples(): readonly number[] {
    return [];
  }
  agent(id: string) {
    return this.graph.agents.get(id);
  }
  callTool(): Promise<unknown> {
    return Promise.reject(new Error('not used'));
  }
  setSelectedAgents(ids: Iterable<string>): void {
    this.selected = [...ids];
  }
  get nodeIdsInUse() {
    return this.graph.nodeIdsInUse;
  }
  knownNodeId(n: number): boolean {
    return this.nodeIdStore.hasNumber(n);
  }
  async close(): Promise<void> {}
}

export interface Harness {
  url: string;
  telemetry: FakeTelemetry;
  stream: StreamServer;
  server: http.Server;
  close(): Promise<void>;
}

export async function startHarness(
  opts: { env?: Record<string, string>; authorize?: (req: http.IncomingMessage) => boolean | number; health?: () => Health; pingIntervalMs?: number; logger?: Logger } = {},
): Promise<Harness> {
  const telemetry = new FakeTelemetry();
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const config = testConfig(opts.env ?? {});
  const stream = createStreamServer({
    config,
    logger: opts.logger ?? pino({ level: 'silent' }),
    telemetry,
    server,
    authorize: opts.authorize,
    health: opts.health,
    pingIntervalMs: opts.pingIntervalMs,
  });
  const port = (server.address() as { port: number }).port;
  return {
    url: `ws://127.0.0.1:${port}/wss`,
    telemetry,
    stream,
    server,
    async close() {
      await stream.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export class TestClient {
  readonly msgs: ServerMessage[] = [];
  /** Date.now() when each of `msgs` arrived. */
  readonly msgTimes: number[] = [];
  readonly frames: Buffer[] = [];
  closed: { code: number; reason: string } | null = null;
  readonly ws: WebSocket;
  readonly opened: Promise<void>;

  constructor(url: string, wsOpts: WebSocket.ClientOptions = {}) {
    this.ws = new WebSocket(url, wsOpts);
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
    this.ws.on('message', (data, isBinary) => {
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      if (isBinary) this.frames.push(buf);
      else {
        this.msgs.push(JSON.parse(buf.toString('utf8')) as ServerMessage);
        this.msgTimes.push(Date.now());
      }
    });
    this.ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
    });
    this.ws.on('error', () => undefined);
  }

  of<T extends ServerMessage['type']>(type: T): Extract<ServerMessage, { type: T }>[] {
    return this.msgs.filter((m): m is Extract<ServerMessage, { type: T }> => m.type === type);
  }

  async waitFor(pred: (c: this) => boolean, what: string, ms?: number): Promise<void> {
    await waitFor(() => pred(this), what, ms);
  }

  send(msg: unknown): void {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  hello(over: Partial<{ physicsScore: number | null; visible: boolean; followOnly: boolean; resumeFrom: number | null }> = {}): void {
    this.send({ type: 'hello', protocolVersion: PROTOCOL_VERSION, physicsBackend: 'cpu', physicsScore: 10, visible: true, followOnly: false, resumeFrom: null, ...over });
  }

  role(): string | undefined {
    return this.of('layout').at(-1)?.role;
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((r) => {
      this.ws.once('close', () => r());
      this.ws.close();
    });
  }
}

export async function connectClient(url: string, wsOpts: WebSocket.ClientOptions = {}): Promise<TestClient> {
  const c = new TestClient(url, wsOpts);
  await c.opened;
  await c.waitFor((x) => x.of('snapshot').length > 0, 'snapshot');
  return c;
}
