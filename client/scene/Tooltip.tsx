/**
 * Hover tooltip for the agent under the pointer: name, type, status, whether it is doing work, and the
 * key metrics (unknown ones say so). Follows the mouse by writing style directly.
 */
import { useEffect, useRef } from 'react';
import { useHive } from '../state/react.js';
import { formatMetric, isWorking } from './encodings.js';

export function Tooltip() {
  const agent = useHive((s) => (s.hoveredAgentId ? (s.agents.get(s.hoveredAgentId) ?? null) : null));
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const move = (e: PointerEvent) => {
      const el = ref.current;
      if (!el) return;
      el.style.transform = `translate(${e.clientX + 14}px, ${e.clientY + 14}px)`;
    };
    window.addEventListener('pointermove', move);
    return () => window.removeEventListener('pointermove', move);
  }, []);
  return (
    <div ref={ref} className="tooltip" role="tooltip" hidden={!agent}>
      {agent && (
        <>
          <strong>{agent.name}</strong> <span className="muted">{agent.type}</span>
          <div>
            {agent.status} · {isWorking(agent) ? 'doing work' : 'not working'}
          </div>
          <div>
            cpu {formatMetric(agent.cpuUsage, '%')} · mem {formatMetric(agent.memoryUsage, '%')} · {formatMetric(agent.tokenRate, '/min')} tokens
          </div>
          <div>health {formatMetric(agent.health)}</div>
        </>
      )}
    </div>
  );
}
