/**
 * Per-agent metrics for the agents some browser selected (the detail panel): their agent_metrics are
 * polled at up to config.mcp.metricsHz, applied to the graph and handed on as performance samples.
 * At most MAX_SELECTED agents, one request per agent in flight.
 */
import type { AgentGraph } from '../graph/graph.js';
import { isObject, normalizeAgent } from '../graph/normalize.js';
import type { PerformanceMessage } from '../../shared/protocol/messages.js';
import type { McpClient } from './client.js';
import type { ToolSupport } from './toolSupport.js';

export type PerformanceSample = PerformanceMessage['samples'][number];

/** Max agents whose metrics are polled at once (matches the subscribe schema's selection cap). */
export const MAX_SELECTED = 32;

export class SelectedMetrics {
  private selected: string[] = [];
  private readonly busy = new Set<string>();
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(
    private readonly client: McpClient,
    private readonly graph: AgentGraph,
    hz: number,
    private readonly onSamples: (samples: PerformanceSample[]) => void,
    /** agent_metrics is gone in 3.x and a stub in 2.7: once it says so, it is not asked again on this connection. */
    private readonly tools: ToolSupport,
  ) {
    this.timer = setInterval(() => this.poll(), Math.round(1000 / hz));
    this.timer.unref?.();
  }

  set(ids: Iterable<string>): void {
    this.selected = [...new Set(ids)].filter((id) => typeof id === 'string' && id.length <= 256).slice(0, MAX_SELECTED);
  }

  private poll(): void {
    if (this.client.state !== 'ready' || this.selected.length === 0 || this.tools.verdict('agent_metrics')) return;
    for (const id of this.selected) {
      if (this.busy.has(id) || !this.graph.agents.has(id)) continue;
      this.busy.add(id);
      this.tools
        .call(this.client, 'agent_metrics', { agentId: id })
        .then((payload) => {
          if (!isObject(payload)) return; // claude-flow's stub answers plain text: no metrics
          const inner = isObject(payload.agent) ? payload.agent : payload;
          const patch = normalizeAgent({ ...inner, id });
          if (!patch) return;
          this.graph.applyAgent({ id, metrics: patch.metrics, rejected: patch.rejected }, 'mcp');
          const a = this.graph.agents.get(id);
          if (a) this.onSamples([{ agentId: id, time: Date.now(), cpuUsage: a.cpuUsage, memoryUsage: a.memoryUsage, tokenRate: a.tokenRate, tokens: a.tokens }]);
        })
        .catch(() => undefined)
        .finally(() => this.busy.delete(id));
    }
  }

  close(): void {
    clearInterval(this.timer);
  }
}
