/**
 * Prometheus text exposition for GET /metrics. Each plane renders its own families; this file adds the
 * relay process's and joins them. Kept dependency-free: the format is a few lines of text.
 */
export interface MetricSample {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  /** One entry per label set; a histogram passes its _bucket/_sum/_count lines through `lines`. */
  values?: { labels?: Record<string, string>; value: number }[];
  lines?: string[];
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

export function labels(l: Record<string, string> | undefined): string {
  if (!l || Object.keys(l).length === 0) return '';
  return `{${Object.entries(l)
    .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
    .join(',')}}`;
}

export function renderMetrics(samples: readonly MetricSample[]): string {
  const out: string[] = [];
  for (const s of samples) {
    out.push(`# HELP ${s.name} ${s.help}`, `# TYPE ${s.name} ${s.type}`);
    for (const v of s.values ?? []) out.push(`${s.name}${labels(v.labels)} ${Number.isFinite(v.value) ? v.value : 'NaN'}`);
    if (s.lines) out.push(...s.lines);
  }
  return out.join('\n') + '\n';
}

/** Cumulative histogram lines for `name` from raw observations (seconds or ms, as the name says). */
export function histogramLines(name: string, bounds: readonly number[], observations: readonly number[], extra: Record<string, string> = {}): string[] {
  const counts = bounds.map((b) => observations.filter((o) => o <= b).length);
  const sum = observations.reduce((a, b) => a + b, 0);
  return [
    ...bounds.map((b, i) => `${name}_bucket${labels({ ...extra, le: String(b) })} ${counts[i]}`),
    `${name}_bucket${labels({ ...extra, le: '+Inf' })} ${observations.length}`,
    `${name}_sum${labels(extra)} ${sum}`,
    `${name}_count${labels(extra)} ${observations.length}`,
  ];
}

export function processMetrics(startedAt: number): MetricSample[] {
  const m = process.memoryUsage();
  return [
    { name: 'hivescope_relay_resident_memory_bytes', help: 'Relay resident set size.', type: 'gauge', values: [{ value: m.rss }] },
    { name: 'hivescope_relay_heap_used_bytes', help: 'Relay V8 heap in use.', type: 'gauge', values: [{ value: m.heapUsed }] },
    { name: 'hivescope_relay_uptime_seconds', help: 'Seconds since the relay started.', type: 'gauge', values: [{ value: (Date.now() - startedAt) / 1000 }] },
  ];
}
