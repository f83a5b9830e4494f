/**
 * A TCP proxy in front of an MCP server that drops every notification line the server pushes, so a relay
 * behind it sees a server that never pushes and must poll (benchmarks compare push with polling).
 */
import net from 'node:net';
import { LineFramer } from '../telemetry/framing.js';

export interface PushStripProxy {
  port: number;
  close(): Promise<void>;
}

export async function startPushStripProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<PushStripProxy> {
  const socks = new Set<net.Socket>();
  const srv = net.createServer((down) => {
    const up = net.connect(targetPort, targetHost);
    socks.add(down).add(up);
    down.pipe(up);
    const framer = new LineFramer((e) => {
      if (e.kind === 'line' && !e.line.includes('"method":"notification')) down.write(e.line + '\n');
    });
    up.on('data', (d) => framer.push(d));
    const end = () => {
      up.destroy();
      down.destroy();
      socks.delete(up);
      socks.delete(down);
    };
    up.on('close', end).on('error', end);
    down.on('close', end).on('error', end);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as net.AddressInfo).port,
    close: () => {
      for (const s of socks) s.destroy();
      return new Promise((r) => srv.close(() => r()));
    },
  };
}
