/**
 * The OpenAPI 3.1 description served at GET /api/openapi.json, generated from the one route table
 * (shared/api.ts) with zod's own JSON Schema output, so it cannot drift from what the relay validates
 * and sends. OpenAPI 3.1 schemas are JSON Schema 2020-12, zod's default target. Requests (params, query,
 * bodies) are described as zod accepts them (`io: 'input'`: defaults make fields optional), responses as
 * the relay sends them (`io: 'output'`). Built once, on first use.
 */
import express from 'express';
import { z } from 'zod';
import { ErrorBodySchema, routes, type RouteDef } from '../../shared/api.js';
import { PROTOCOL_VERSION } from '../../shared/protocol/messages.js';
import { REQUEST_ID_HEADER, REQUEST_ID_PATTERN } from './requestId.js';

export const OPENAPI_VERSION = '3.1.1';

type JsonSchema = Record<string, unknown>;
export type OpenApiDocument = {
  openapi: string;
  info: { title: string; version: string; description: string };
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: { schemas: Record<string, JsonSchema>; securitySchemes: Record<string, JsonSchema>; headers: Record<string, JsonSchema> };
  security: Record<string, string[]>[];
};
export interface OpenApiParameter {
  name: string;
  in: 'path' | 'query';
  required: boolean;
  description?: string;
  schema: JsonSchema;
}
export interface OpenApiOperation {
  operationId: string;
  summary: string;
  parameters?: OpenApiParameter[];
  requestBody?: { required: true; content: { 'application/json': { schema: JsonSchema } } };
  responses: Record<string, { description: string; headers?: Record<string, JsonSchema>; content?: Record<string, { schema: JsonSchema }> }>;
}

/** One schema as JSON Schema 2020-12, without `$schema` (the document's dialect already says it). */
export function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, target: 'draft-2020-12' }) as JsonSchema;
  return rest;
}

/** Express's `/a/:id/b` as OpenAPI's `/a/{id}/b`. */
export function openApiPath(path: string): string {
  // Express 5's `*name` wildcard (the rest of the path, slashes included) is an OpenAPI path parameter too.
  return path.replace(/[:*]([A-Za-z0-9_]+)/g, '{$1}');
}

/** Each property of an object schema as one OpenAPI parameter. */
function parameters(schema: z.ZodType, where: 'path' | 'query'): OpenApiParameter[] {
  const s = jsonSchema(schema, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(s.properties ?? {}).map(([name, prop]) => {
    const { description, ...rest } = prop as JsonSchema & { description?: string };
    return {
      name,
      in: where,
      // Path parameters are always required in OpenAPI.
      required: where === 'path' || (s.required ?? []).includes(name),
      ...(typeof description === 'string' ? { description } : {}),
      schema: rest,
    };
  });
}

const json = (schema: JsonSchema) => ({ 'application/json': { schema } });
const errorRef = { $ref: '#/components/schemas/ErrorBody' };
const requestIdHeader = { $ref: '#/components/headers/RequestId' };

function operation(name: string, r: RouteDef): OpenApiOperation {
  const params = [...(r.params ? parameters(r.params, 'path') : []), ...(r.query ? parameters(r.query, 'query') : [])];
  return {
    operationId: name,
    summary: r.summary,
    ...(params.length > 0 ? { parameters: params } : {}),
    ...(r.body ? { requestBody: { required: true as const, content: json(jsonSchema(r.body, 'input')) } } : {}),
    responses: {
      [String(r.status)]: { description: r.summary, headers: { [REQUEST_ID_HEADER]: requestIdHeader }, content: json(jsonSchema(r.response, 'output')) },
      default: { description: 'Any failure: 4xx for a refused request, 5xx for a failure of the relay or the container.', headers: { [REQUEST_ID_HEADER]: requestIdHeader }, content: json(errorRef) },
    },
  };
}

/** The document for a route table (the relay's own by default); `version` is the relay's. */
export function buildOpenApi(version: string, table: Readonly<Record<string, RouteDef>> = routes): OpenApiDocument {
  const paths: OpenApiDocument['paths'] = {};
  for (const [name, r] of Object.entries(table)) (paths[openApiPath(r.path)] ??= {})[r.method] = operation(name, r);
  return {
    openapi: OPENAPI_VERSION,
    info: {
      title: 'hivescope relay',
      version,
      description: `HTTP API of the hivescope relay (WebSocket protocol version ${PROTOCOL_VERSION} on /wss is described in docs/contracts.md). Every response carries ${REQUEST_ID_HEADER}.`,
    },
    paths,
    components: {
      schemas: { ErrorBody: jsonSchema(ErrorBodySchema, 'output') },
      securitySchemes: { relayToken: { type: 'http', scheme: 'bearer', description: 'Needed on every route when the relay runs with RELAY_TOKEN.' } },
      headers: {
        RequestId: {
          description: 'The correlation id of the request: the incoming X-Request-Id when it matches the schema, otherwise a new UUID. Every log line the request causes carries it as reqId.',
          schema: { type: 'string', pattern: REQUEST_ID_PATTERN.source },
        },
      },
    },
    // Without RELAY_TOKEN no authentication is needed (the empty requirement).
    security: [{ relayToken: [] }, {}],
  };
}

/** GET /api/openapi.json, the document built once. */
export function openApiRouter(version: string): express.Router {
  let doc: string | null = null;
  const router = express.Router();
  router.get(routes.openapi.path, (_req, res) => {
    doc ??= JSON.stringify(buildOpenApi(version));
    res.status(routes.openapi.status).type('application/json').send(doc);
  });
  return router;
}
