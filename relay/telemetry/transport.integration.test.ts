// TcpTransport on real sockets: connect failure, one onclose per connection, sends after close refused,
// lines split and oversized on the wire.
import net from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { LineError, TcpTransport } from './transport.js';

const servers: net.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise<void>((r) => s.close(() => r()));
});

async function listen(onConn: (s: net.Socket) => void): Promise<number> {
  const srv = net.createServer(onConn);
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return (srv.address() as net.AddressInfo).port;
}

it('rejects start() when nothing listens', async () => {
  const port = await listen(() => undefined);
  await new Promise<void>((r) => servers.pop()!.close(() => r()));
  await expect(new TcpTransport({ host: '127.0.0.1', port }).start()).rejects.toThrow();
});

it('delivers split lines, rejects an oversized one without closing, and closes once', async () => {
  let peer: net.Socket | null = null;
  const port = await listen((s) => {
    peer = s;
    s.write('{"a":');
    setTimeout(() => s.write('1}\n' + 'x'.repeat(200) + '\n{"b":2}\n'), 20);
  });
  const t = new TcpTransport({ host: '127.0.0.1', port, maxLineBytes: 100 });
  const got: unknown[] = [];
  const errors: Error[] = [];
  let closes = 0;
  t.onmessage = (m) => got.push(m);
  t.onerror = (e) => errors.push(e);
  t.onclose = () => closes++;
  await t.start();
  await new Promise<void>((resolve) => {
    const iv = setInterval(() => {
      if (got.length === 2) {
        clearInterval(iv);
        resolve();
      }
    }, 5);
  });
  expect(got).toEqual([{ a: 1 }, { b: 2 }]);
  expect(errors).toHaveLength(1);
  expect(errors[0]).toBeInstanceOf(LineError);
  (peer as net.Socket | null)?.destroy();
  await new Promise<void>((resolve) => {
    const iv = setInterval(() => {
      if (closes > 0) {
        clearInterval(iv);
        resolve();
      }
    }, 5);
  });
  await t.close();
  expect(closes).toBe(1);
  await expect(t.send({ x: 1 })).rejects.toThrow('not connected');
});
