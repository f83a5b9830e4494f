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
    const rest = createRestClient({ fetch: fakeFetch(202, { uuid, status: 'spawning', swarmId: null, target: 'local', pickedBecause: null }, calls) });
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

  it('reads at most maxBytes of a file and cancels the rest of the download', async () => {
    let pulled = 0;
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        pulled++;
        if (pulled > 100) return c.close();
        c.enqueue(new Uint8Array(1000).fill(65));
      },
      cancel() {
        cancelled = true;
      },
    });
    const calls: string[] = [];
    const rest = createRestClient({
      token: 'tok',
      fetch: (async (url: string) => (calls.push(url), new Response(body, { status: 200, headers: { 'content-type': 'text/plain' } }))) as unknown as typeof fetch,
    });
    const r = await rest.readBytes('sessionFile', { params: { uuid, path: 'docs/notes v2.md' }, maxBytes: 2500 });
    expect(calls[0]).toBe(`/api/sessions/${uuid}/files/docs/notes%20v2.md`);
    expect(r.bytes.length).toBe(2500);
    expect(r.truncated).toBe(true);
    expect(r.contentType).toBe('text/plain');
    expect(cancelled).toBe(true);
    expect(pulled).toBeLessThan(10);
  });

  it('a refused file read is a RestError with the relay\'s code; links carry the token as ?token=', async () => {
    const rest = createRestClient({ token: 't/k', fetch: fakeFetch(400, { error: { code: 'path-refused', message: 'path escapes the output directory' } }, []) });
    await expect(rest.readBytes('sessionFile', { params: { uuid, path: 'x' }, maxBytes: 10 })).rejects.toMatchObject({ status: 400, code: 'path-refused' });
    expect(rest.link('sessionFile', { uuid, path: 'a/b c.txt' })).toBe(`/api/sessions/${uuid}/files/a/b%20c.txt?token=t%2Fk`);
    expect(createRestClient().link('sessionFiles', { uuid })).toBe(`/api/sessions/${uuid}/files`);
  });
});
