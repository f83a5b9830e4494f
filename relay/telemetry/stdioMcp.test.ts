// The stdio MCP transport over a byte stream (claude-flow 3.x's per-session server behind a docker exec):
// lines split anywhere and several in one chunk reach the client; an oversized line or garbage is
// rejected without ending the connection; stderr is kept bounded; the end is reported once; a client
// over it handshakes with 3.x's recorded answers and a server that exits is started again.
import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { StreamTransport, openStdioMcp, type ByteStream } from './stdioMcp.js';
import { LineError } from './transport.js';
import { claudeFlow3Recording } from './testing/recordings.js';

/** A fake exec stream: what the client writes is parsed; the test writes stdout/stderr chunks or ends it. */
function fakeStream() {
  const written: string[] = [];
  let closed = 0;
  const s: ByteStream & { out(t: string | Buffer): void; err(t: string): void; end(e?: Error | null): void; written: string[]; closes: () => number } = {
    written,
    write: async (t) => void written.push(t),
    close: async () => {
      closed++;
      s.onclose?.(null);
    },
    out: (t) => s.onstdout?.(Buffer.isBuffer(t) ? t : Buffer.from(t)),
    err: (t) => s.onstderr?.(Buffer.from(t)),
    end: (e = null) => s.onclose?.(e),
    closes: () => closed,
  };
  return s;
}

describe('StreamTransport (stdio over an exec stream)', () => {
  it('frames split lines and several lines per chunk; rejects oversize and garbage lines and keeps going', async () => {
    const s = fakeStream();
    const t = new StreamTransport(async () => s, 64);
    const got: unknown[] = [];
    const errors: Error[] = [];
    let ends = 0;
    t.onmessage = (m) => got.push(m);
    t.onerror = (e) => errors.push(e);
    t.onclose = () => ends++;
    await t.start();
    s.out('{"id":1,"res');
    s.out('ult":{}}\n{"id":2}\n{"id"');
    s.out(':3}\n');
    s.out(`{"id":4,"x":"${'y'.repeat(200)}"}\n`);
    s.out('not json\n');
    s.out(Buffer.from([0xff, 0xfe, 0x0a]));
    s.out('{"id":5}\n');
    expect(got).toEqual([{ id: 1, result: {} }, { id: 2 }, { id: 3 }, { id: 5 }]);
    expect(errors.map((e) => (e as LineError).reason)).toEqual(['oversize', 'invalid-json', 'invalid-json']);
    await t.send({ jsonrpc: '2.0', id: 9, method: 'ping' });
    expect(s.written).toEqual(['{"jsonrpc":"2.0","id":9,"method":"ping"}\n']);
    s.err('x'.repeat(10_000) + '\nINFO Starting in stdio mode\n');
    expect(t.stderrTail.length).toBeLessThanOrEqual(2048);
    expect(t.stderrTail).toContain('Starting in stdio mode');
    s.end();
    s.end(new Error('again'));
    expect(ends).toBe(1);
    await expect(t.send({})).rejects.toThrow('not connected');
  });

  it('a client over it handshakes with 3.x, calls tools, and starts the server again when it exits', async () => {
    const rec = claudeFlow3Recording();
    const streams: ReturnType<typeof fakeStream>[] = [];
    const open = async () => {
      const s = fakeStream();
      streams.push(s);
      // Answer like 3.43.0's stdio server: no line until asked.
      s.write = async (text) => {
        s.written.push(text);
        const msg = JSON.parse(text) as { id?: number; method: string; params?: { name?: string } };
        if (msg.id === undefined) return;
        const key = msg.method === 'tools/call' ? `tools/call:${msg.params!.name}` : msg.method;
        for (const l of rec.replies[key] ?? rec.fallback(key)) queueMicrotask(() => s.out(l.replaceAll('{{id}}', String(msg.id)) + '\n'));
      };
      return s;
    };
    const m = openStdioMcp({ open, logger: pino({ level: 'silent' }), requestTimeoutMs: 2000 });
    try {
      expect(await m.callTool('agent_list', {})).toMatchObject({ total: 2 });
      await expect(m.callTool('agent_messages', {})).rejects.toMatchObject({ code: -32601 });
      streams[0]!.end();
      expect(await m.callTool('swarm_status', {})).toMatchObject({ status: 'no_swarm' });
      expect(streams).toHaveLength(2);
      expect(m.reconnects).toBe(1);
    } finally {
      await m.close();
    }
    expect(streams[1]!.closes()).toBe(1);
    expect(m.state).toBe('closed');
  });
});
