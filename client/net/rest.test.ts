import { describe, expect, it } from 'vitest';
import { createRestClient, RestError, validateBody } from './rest.js';

type Call = { url: string; init: RequestInit };
function fakeFetch(status: number, body: unknown, calls: Call[]): typeof fetch {
  return (async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    return new Response(typeof body === 'string' ? body : JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  }) as unknown as typeof fetch;
}

const uuid = '0f8fad5b-d9cb-469f-a165-70867728950e';

describe('REST client from the shared route table', () => {
  it('calls the route with method, path params, JSON body and the Bearer token; validates the response', async () => {
    const calls: Call[] = [];
    const rest = createRestClient({ token: 'tok', fetch: fakeFetch(202, { accepted: true, taskId: 't1', message: 'ok' }, calls) });
    const r = await rest.call('submitTask', { params: { uuid }, body: { task: 'do it', priority: 'high' } });
    expect(r).toEqual({ accepted: true, taskId: 't1', message: 'ok' });
    expect(calls[0]!.url).toBe(`/api/sessions/${uuid}/tasks`);
    expect(calls[0]!.init.method).toBe('POST');
    expect((calls[0]!.init.headers as Record<string, string>).authorization).toBe('Bearer tok');
    expect(JSON.parse(calls[0]!.init.body as string)).toEqual({ task: 'do it', priority: 'high' });
  });

  it('fills defaults from the schema before sending', async () => {
    const calls: Call[] = [];
    const rest = createRestClient({ fetch: fakeFetch(202, { uuid, status: 'spawning', swarmId: null }, calls) });
    await rest.call('initializeSwarm', { body: { agentTypes: ['coder'], customPrompt: 'x' } });
    expect(JSON.parse(calls[0]!.init.body as string)).toMatchObject({ topology: 'mesh', maxAgents: 8, strategy: 'adaptive', enableNeural: true });
    expect((calls[0]!.init.headers as Record<string, string>).authorization).toBeUndefined();
  });

  it('refuses an invalid body before any request, with readable issues', async () => {
    const calls: Call[] = [];
    const rest = createRestClient({ fetch: fakeFetch(200, {}, calls) });
    await expect(rest.call('initializeSwarm', { body: { agentTypes: [], customPrompt: '' } })).rejects.toMatchObject({ code: 'bad-request' });
    expect(calls.length).toBe(0);
    const v = validateBody('spawnAgentHybrid', { agentType: 'Coder; rm -rf /', swarmId: 'x' });
    expect(v.ok).toBe(false);
  });

  it('maps the relay error body to RestError with its code', async () => {
    const rest = createRestClient({ fetch: fakeFetch(503, { error: { code: 'mcp-unavailable', message: 'MCP is down' } }, []) });
    const err = await rest.call('botsStatus').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RestError);
    expect(err).toMatchObject({ status: 503, code: 'mcp-unavailable', message: 'MCP is down' });
  });

  it('treats non-JSON and unexpected shapes as errors, never as data', async () => {
    await expect(createRestClient({ fetch: fakeFetch(200, '<html>', []) }).call('health')).rejects.toMatchObject({ code: 'parse-error' });
    await expect(createRestClient({ fetch: fakeFetch(200, { status: 'weird' }, []) }).call('health')).rejects.toMatchObject({ code: 'parse-error' });
  });

  it('path parameters are URI-encoded (no path injection)', async () => {
    const calls: Call[] = [];
    const rest = createRestClient({ fetch: fakeFetch(200, { uuid, status: 'stopped' }, calls) });
    await rest.call('removeTask', { params: { id: '../../etc' } });
    expect(calls[0]!.url).toBe('/api/bots/remove-task/..%2F..%2Fetc');
  });
});
