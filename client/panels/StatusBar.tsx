/**
 * Status bar: Docker (control plane), MCP (telemetry) and WebSocket state with latency and telemetry age,
 * a fleet's target chips (client/panels/Targets.tsx; none with one target), a Spawn button, and one banner
 * per degraded mode from the relay's health saying what is wrong, what still works and what to do.
 */
import { useHive, useHiveStore } from '../state/react.js';
import { formatAge, useNow } from './useNow.js';
import type { PlaneHealth, McpState, BackendInfo } from '../../shared/index.js';
import { TargetChips } from './Targets.js';

const KIND_NAMES: Record<BackendInfo['kind'], string> = { kit: 'hivescope kit', 'claude-flow-2': 'claude-flow', 'claude-flow-3': 'claude-flow' };
const KIND_MAJORS: Record<BackendInfo['kind'], string> = { kit: '', 'claude-flow-2': ' 2.x', 'claude-flow-3': ' 3.x' };

/**
 * Which backend and version drive the container, as the relay detected them ("claude-flow 3.43.0"),
 * and what it cannot do (the pill's title). An unknown version says so; no backend is "none detected".
 */
export function backendLabel(info: BackendInfo | null | undefined): { text: string; detail: string | undefined } {
  if (!info) return { text: 'none detected', detail: undefined };
  const text = info.version ? `${KIND_NAMES[info.kind]} ${info.version}` : `${KIND_NAMES[info.kind]}${KIND_MAJORS[info.kind]} (version unknown)`;
  const cannot = Object.entries(info.operations).filter(([, ok]) => !ok).map(([op]) => op);
  const detail = [cannot.length ? `cannot: ${cannot.join(', ')}` : null, ...info.limits].filter(Boolean).join('; ');
  return { text, detail: detail || undefined };
}

function tone(state: PlaneHealth | McpState | string): 'ok' | 'warn' | 'bad' | 'off' {
  if (state === 'healthy' || state === 'connected' || state === 'open') return 'ok';
  if (state === 'degraded' || state === 'connecting' || state === 'reconnecting') return 'warn';
  if (state === 'disabled' || state === 'idle') return 'off';
  return 'bad';
}

function Pill(props: { label: string; state: string; detail?: string; testId: string }) {
  return (
    <span className={`pill pill-${tone(props.state)}`} data-testid={props.testId} data-state={props.state} title={props.detail}>
      <span className="dot" aria-hidden="true" />
      {props.label}: {props.state}
      {props.detail ? <span className="muted"> {props.detail}</span> : null}
    </span>
  );
}

export function StatusBar() {
  const store = useHiveStore();
  const health = useHive((s) => s.health);
  const healthAt = useHive((s) => s.healthReceivedAt);
  const connection = useHive((s) => s.connection);
  const latency = useHive((s) => s.latencyMs);
  const attempt = useHive((s) => s.attempt);
  const nextAt = useHive((s) => s.nextAttemptAt);
  const readOnly = useHive((s) => s.serverConfig?.readOnly ?? false);
  const now = useNow(1000);

  const control = health?.control;
  const tele = health?.telemetry;
  const teleAge = tele?.ageMs != null && healthAt !== null ? tele.ageMs + (now - healthAt) : null;
  const wsDetail =
    connection === 'open'
      ? latency !== null
        ? `${latency} ms`
        : ''
      : connection === 'reconnecting' && nextAt !== null
        ? `retry in ${Math.max(0, Math.ceil((nextAt - now) / 1000))} s (attempt ${attempt})`
        : '';
  return (
    <header className="statusbar" aria-label="System status">
      <span className="brand">hivescope</span>
      <Pill
        testId="status-docker"
        label={control?.driver === 'local' ? 'Hive (local)' : 'Docker'}
        state={control?.state ?? 'unknown'}
        detail={control?.execLatencyMs != null ? `${Math.round(control.execLatencyMs)} ms exec` : undefined}
      />
      <Pill
        testId="status-mcp"
        label="MCP"
        state={tele?.state ?? 'unknown'}
        detail={[tele?.latencyMs != null ? `${Math.round(tele.latencyMs)} ms` : null, teleAge !== null ? `data ${formatAge(teleAge)} old` : null].filter(Boolean).join(', ') || undefined}
      />
      <Pill testId="status-ws" label="WebSocket" state={connection} detail={wsDetail || undefined} />
      <BackendPill />
      <TargetChips />
      {readOnly && <span className="pill pill-warn">read-only relay</span>}
      <span className="spacer" />
      <button type="button" className="primary" onClick={() => store.setState({ spawnOpen: true })} disabled={readOnly} aria-keyshortcuts="N">
        Spawn swarm
      </button>
      <DegradedBanners />
    </header>
  );
}

function BackendPill() {
  const info = useHive((s) => s.health?.control.backendInfo);
  const { text, detail } = backendLabel(info);
  return (
    <span className={`pill pill-${info ? 'ok' : 'off'}`} data-testid="status-backend" data-kind={info?.kind ?? 'none'} data-version={info?.version ?? ''} title={detail}>
      Backend: {text}
    </span>
  );
}

function DegradedBanners() {
  const degraded = useHive((s) => s.health?.degraded ?? null);
  if (!degraded || degraded.length === 0) return null;
  return (
    <div className="banners">
      {degraded.map((d) => (
        <div key={d.code} className="banner" role="alert" data-testid="degraded-banner" data-code={d.code}>
          <strong>{d.message}</strong>
          <span>Still works: {d.stillWorks}</span>
          <span>What to do: {d.action}</span>
        </div>
      ))}
    </div>
  );
}
