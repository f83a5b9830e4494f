// GET /api/openapi.json describes every route of shared/api.ts (method, path, parameters, bodies,
// responses) as a structurally valid OpenAPI 3.1 document, served like /health (token-guarded with RELAY_TOKEN).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { routes, type RouteDef } from '../../shared/api.js';
import { loadConfig } from '../config.js';
import { buildOpenApi, jsonSchema, openApiPath, type OpenApiDocument, type OpenApiOperation } from './openapi.js';
import { RELAY_VERSION, createApp } from './server.js';

const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function start(env: Record<string, string> = {}): Promise<string> {
  const config = loadConfig({ STATIC_DIR: '/nonexistent-hivescope-static', ...env }, '/tmp');
  const app = createApp({ config, logger: pino({ level: 'silent' }), routers: [], status: () => 'healthy', metrics: () => '', startedAt: Date.now() });
  const server = http.createServer(app);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const table = Object.entries(routes) as [string, RouteDef][];
const objectKeys = (s: z.ZodType | undefined): string[] => Object.keys((jsonSchema(s ?? z.object({}), 'input') as { properties?: object }).properties ?? {});

describe('OpenAPI description', () => {
  it('is served at /api/openapi.json as a structurally valid OpenAPI 3.1 document', async () => {
    const base = await start();
    const r = await fetch(base + routes.openapi.path);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    const doc = (await r.json()) as OpenApiDocument;
    expect(routes.openapi.response.parse(doc)).toBeTruthy();
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.info).toMatchObject({ title: expect.any(String), version: RELAY_VERSION });
    expect(typeof doc.paths).toBe('object');
    // Structure of every path item and operation (OpenAPI 3.1 §4.8.8–4.8.12).
    for (const [p, item] of Object.entries(doc.paths)) {
      expect(p.startsWith('/')).toBe(true);
      for (const [method, op] of Object.entries(item)) {
        expect(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']).toContain(method);
        expect(Object.keys(op.responses).length).toBeGreaterThan(0);
        for (const [code, resp] of Object.entries(op.responses)) {
          expect(code).toMatch(/^([1-5]\d\d|[1-5]XX|default)$/);
          expect(typeof resp.description).toBe('string');
        }
        for (const prm of op.parameters ?? []) {
          expect(['path', 'query', 'header', 'cookie']).toContain(prm.in);
          if (prm.in === 'path') expect(prm.required).toBe(true);
          // A path parameter is one the path template names, and the other way round.
          if (prm.in === 'path') expect(p).toContain(`{${prm.name}}`);
        }
        for (const name of p.match(/\{([^}]+)\}/g) ?? []) expect(op.parameters?.some((x) => x.in === 'path' && `{${x.name}}` === name)).toBe(true);
      }
    }
    // Every $ref points into the document.
    const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
    for (const ref of refs) {
      const target = ref.slice(8, -1).replace(/^#\//, '').split('/');
      expect(target.reduce<unknown>((o, k) => (o as Record<string, unknown>)?.[k], doc), ref).toBeDefined();
    }
  });

  it('has every route of shared/api.ts with its parameters, body and response schemas', () => {
    const doc = buildOpenApi(RELAY_VERSION);
    const ops = Object.values(doc.paths).flatMap((item) => Object.values(item));
    expect(ops).toHaveLength(table.length);
    for (const [name, r] of table) {
      const op: OpenApiOperation | undefined = doc.paths[openApiPath(r.path)]?.[r.method];
      expect(op, `${r.method} ${r.path}`).toBeDefined();
      expect(op!.operationId).toBe(name);
      expect(op!.summary).toBe(r.summary);
      // Path params in OpenAPI's {param} form, each from the route's params schema.
      const pathParams = (op!.parameters ?? []).filter((p) => p.in === 'path');
      expect(pathParams.map((p) => p.name).sort()).toEqual(objectKeys(r.params).sort());
      expect(pathParams.map((p) => p.name).sort()).toEqual([...r.path.matchAll(/[:*]([A-Za-z0-9_]+)/g)].map((m) => m[1]).sort());
      const query = (op!.parameters ?? []).filter((p) => p.in === 'query');
      expect(query.map((p) => p.name).sort()).toEqual(objectKeys(r.query).sort());
      for (const p of [...pathParams, ...query]) {
        const src = jsonSchema((p.in === 'path' ? r.params : r.query)!, 'input') as { properties: Record<string, object> };
        expect({ ...p.schema, ...(p.description ? { description: p.description } : {}) }).toEqual(src.properties[p.name]);
      }
      // Bodies as zod accepts them, responses as the relay sends them.
      if (r.body) expect(op!.requestBody?.content['application/json'].schema).toEqual(jsonSchema(r.body, 'input'));
      else expect(op!.requestBody).toBeUndefined();
      expect(op!.responses[String(r.status)]?.content?.['application/json']?.schema).toEqual(jsonSchema(r.response, 'output'));
      expect(op!.responses.default?.content?.['application/json']?.schema).toEqual({ $ref: '#/components/schemas/ErrorBody' });
    }
  });

  it('writes path params in {param} form and leaves other paths alone', () => {
    expect(openApiPath('/api/sessions/:uuid/tasks')).toBe('/api/sessions/{uuid}/tasks');
    expect(openApiPath('/api/bots/pause-task/:id')).toBe('/api/bots/pause-task/{id}');
    expect(openApiPath('/health')).toBe('/health');
  });

  it('describes a body with defaults as optional fields (what a caller may send)', () => {
    const body = buildOpenApi(RELAY_VERSION).paths['/api/bots/initialize-swarm']!.post!.requestBody!.content['application/json'].schema as { required: string[]; additionalProperties: boolean };
    expect(body.required.sort()).toEqual(['agentTypes', 'customPrompt']);
    expect(body.additionalProperties).toBe(false);
  });

  it('needs the token like /health when RELAY_TOKEN is set', async () => {
    const token = 'a-long-enough-test-token';
    const base = await start({ RELAY_TOKEN: token });
    expect((await fetch(base + routes.openapi.path)).status).toBe(401);
    expect((await fetch(base + routes.openapi.path, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
  });
});
