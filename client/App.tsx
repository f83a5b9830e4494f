/**
 * Page layout: status bar and degraded banners on top, the 3D canvas filling the page, the control panel
 * on the left, agent detail on the right, the activity log at the bottom, the spawn prompt as a dialog,
 * the session console over the bottom when open, and the empty/loading/reconnecting/stale states over
 * the canvas. Global keys: F fits the view, L cycles the label mode, N opens the spawn prompt, C opens
 * the session console (the selected agent's session, else the newest running one), Escape closes the
 * prompt, else the console, else clears the selection.
 */
import { useEffect } from 'react';
import type { XRStore } from '@react-three/xr';
import { useHiveStore } from './state/react.js';
import { nextLabelMode } from './state/settings.js';
import { HiveCanvas } from './scene/HiveCanvas.js';
import { Overlay } from './scene/Overlay.js';
import { Tooltip } from './scene/Tooltip.js';
import { StatusBar } from './panels/StatusBar.js';
import { PageStates } from './panels/PageStates.js';
import { ControlPanel } from './panels/ControlPanel.js';
import { AgentDetail } from './panels/AgentDetail.js';
import { ActivityLog } from './panels/ActivityLog.js';
import { SpawnPrompt } from './panels/SpawnPrompt.js';
import { Notices } from './panels/Notices.js';
import { Console } from './panels/Console.js';
import { consoleTarget } from './panels/consoleModel.js';
import { XRButtons } from './xr/XRButtons.js';
import { XRDetailCard } from './xr/XRDetailCard.js';

function isTyping(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el) return false;
  const tag = el.tagName;
  return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || el.isContentEditable === true;
}

export function App(props: { xrStore: XRStore }) {
  const store = useHiveStore();
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === 'Escape') {
        const s = store.getState();
        if (s.spawnOpen) store.setState({ spawnOpen: false });
        else if (s.consoleSession !== null) store.setState({ consoleSession: null });
        else s.select(null);
        return;
      }
      if (isTyping(e.target)) return;
      if (e.key === 'f' || e.key === 'F') store.setState({ fitRequest: store.getState().fitRequest + 1 });
      else if (e.key === 'l' || e.key === 'L') store.getState().updateSettings((st) => ({ ...st, rendering: { ...st.rendering, labelMode: nextLabelMode(st.rendering.labelMode) } }));
      else if (e.key === 'n' || e.key === 'N') {
        e.preventDefault();
        store.setState({ spawnOpen: true });
      } else if (e.key === 'c' || e.key === 'C') {
        const s = store.getState();
        const agent = s.selectedAgentId ? s.agents.get(s.selectedAgentId) : undefined;
        const uuid = consoleTarget(agent?.sessionUuid ?? null, s.sessions.values());
        if (uuid) store.setState({ consoleSession: uuid });
        else s.notify('info', 'No session to show in the console yet: spawn a swarm first.');
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [store]);

  return (
    <div className="app">
      <StatusBar />
      <main className="stage">
        <HiveCanvas xrStore={props.xrStore} xrContent={<XRDetailCard />} />
        <PageStates />
        <Overlay />
        <Tooltip />
        <XRButtons xrStore={props.xrStore} />
        <ControlPanel />
        <AgentDetail />
        <ActivityLog />
        <Console />
      </main>
      <SpawnPrompt />
      <Notices />
    </div>
  );
}
