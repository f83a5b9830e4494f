/**
 * The embedded hive's demo: whenever no session is active, spawn one simulated swarm so that a new
 * user of `npm start` sees agents at work without Docker or an API key. Only with the local driver and
 * the embedded engine (never against a real container), at most one spawn per DEMO_MIN_GAP_MS.
 */
import type { Logger } from 'pino';
import type { ControlPlane } from './control/index.js';
import type { SessionStatus } from '../shared/model/session.js';

export const DEMO_TASK = 'Demo swarm: design, build and test a small REST service for a todo list';
/** Wait this long after the last session ended before spawning the next demo. */
export const DEMO_IDLE_MS = 5_000;
export const DEMO_MIN_GAP_MS = 30_000;
const ACTIVE: readonly SessionStatus[] = ['spawning', 'created', 'starting', 'running', 'paused'];

export function startDemoKeeper(control: ControlPlane, logger: Logger): () => void {
  let lastSpawn = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let stopped = false;
  const check = () => {
    timer = null;
    if (stopped) return;
    const { sessions } = control.sessions();
    if (sessions.some((s) => ACTIVE.includes(s.status))) return;
    const wait = Math.max(0, lastSpawn + DEMO_MIN_GAP_MS - Date.now());
    if (wait > 0) return schedule(wait);
    lastSpawn = Date.now();
    control
      .spawnSwarm({ topology: 'hierarchical', maxAgents: 8, strategy: 'adaptive', priority: 'medium', enableNeural: true, agentTypes: ['coordinator', 'researcher', 'coder', 'analyst', 'tester', 'architect', 'optimizer'], customPrompt: DEMO_TASK }, { rateLimit: false })
      .then((r) => logger.info({ uuid: r.uuid }, 'demo swarm spawned'))
      .catch((err: unknown) => logger.warn({ err }, 'demo swarm could not be spawned'));
  };
  const schedule = (ms: number) => {
    if (!timer && !stopped) timer = setTimeout(check, ms);
  };
  const off = control.on('session', () => schedule(DEMO_IDLE_MS));
  schedule(1_000);
  return () => {
    stopped = true;
    off();
    if (timer) clearTimeout(timer);
  };
}
