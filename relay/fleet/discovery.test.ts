// Label discovery's one decision (issue 14): what target a labelled container becomes, and which
// containers are refused (a name or container Docker or we would not accept, a bad MCP label).
import { describe, expect, it } from 'vitest';
import type { TargetConfig } from '../targets.js';
import { MCP_LABEL, TARGET_LABEL, labelTarget } from './discovery.js';

const tcp: TargetConfig = { name: 'gpu', docker: { kind: 'tcp', url: 'tcp://gpu.lan:2376', host: 'gpu.lan', port: 2376, tls: { certPath: '/c' } } as TargetConfig['docker'], container: 'hive', mcp: { host: 'gpu.lan', port: 9500, explicit: false }, source: 'HIVE_TARGETS' };

describe('labelTarget', () => {
  it("joins on the engine's settings, with the container's own name and its MCP from the label or the environment", () => {
    expect(labelTarget({ name: 'hive-b', labels: { [TARGET_LABEL]: 'gpu-b' } }, tcp)).toEqual({ ok: true, target: { name: 'gpu-b', docker: tcp.docker, container: 'hive-b', mcp: { host: 'gpu.lan', port: 9500, explicit: false }, source: 'label' } });
    expect(labelTarget({ name: 'hive-b', labels: { [TARGET_LABEL]: 'gpu-b', [MCP_LABEL]: '10.0.0.5:9611' } }, tcp)).toMatchObject({ ok: true, target: { mcp: { host: '10.0.0.5', port: 9611, explicit: true } } });
  });

  it('refuses names that are not target names, containers Docker would not name, and bad MCP labels', () => {
    for (const bad of ['', 'GPU', '-x', 'a:b', 'x'.repeat(33), 'a b', '../etc']) expect(labelTarget({ name: 'hive', labels: { [TARGET_LABEL]: bad } }, tcp).ok, bad).toBe(false);
    expect(labelTarget({ name: '-oProxy', labels: { [TARGET_LABEL]: 'ok' } }, tcp).ok).toBe(false);
    for (const bad of ['nohost', 'h:0', 'h:99999', 'a b:1', '-oProxyCommand=x:22']) expect(labelTarget({ name: 'hive', labels: { [TARGET_LABEL]: 'ok', [MCP_LABEL]: bad } }, tcp), bad).toMatchObject({ ok: false, reason: expect.stringContaining(MCP_LABEL) });
  });
});
