import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  ReconnectManager,
  backoffDelay,
  RECONNECT_BASE_DELAY_MS,
  RECONNECT_MAX_DELAY_MS,
  CONNECT_ATTEMPT_TIMEOUT_MS,
  STABLE_CONNECTION_MS,
  type SocketLike,
} from './reconnect.js';
import type { ConnectionState } from '../state/store.js';

class FakeSocket implements SocketLike {
  onopen: SocketLike['onopen'] = null;
  onclose: SocketLike['onclose'] = null;
  onerror: SocketLike['onerror'] = null;
  onmessage: SocketLike['onmessage'] = null;
  closed = false;
  close() {
    this.closed = true;
  }
  open() {
    this.onopen?.({});
  }
  drop(code = 1006) {
    this.onclose?.({ code, reason: '' });
  }
}

function setup(opts: { online?: boolean } = {}) {
  const sockets: FakeSocket[] = [];
  const states: ConnectionState[] = [];
  const messages: unknown[] = [];
  const m = new ReconnectManager<FakeSocket>({
    connect: () => {
      const s = new FakeSocket();
      sockets.push(s);
      return s;
    },
    onState: (s) => states.push(s),
    onMessage: (d) => messages.push(d),
    random: () => 0.5, // jitter factor exactly 1
    now: () => Date.now(),
    online: opts.online ?? true,
  });
  return { m, sockets, states, messages };
}

describe('reconnect state machine', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(1_700_000_000_000);
  });
  afterEach(() => vi.useRealTimers());

  it('backoff doubles from the base delay and is capped', () => {
    expect(backoffDelay(1)).toBe(RECONNECT_BASE_DELAY_MS);
    expect(backoffDelay(2)).toBe(RECONNECT_BASE_DELAY_MS * 2);
    expect(backoffDelay(3)).toBe(RECONNECT_BASE_DELAY_MS * 4);
    expect(backoffDelay(50)).toBe(RECONNECT_MAX_DELAY_MS);
  });

  it('connects, opens, and on loss waits the backoff before the next attempt', () => {
    const { m, sockets, states } = setup();
    m.start();
    expect(m.state).toBe('connecting');
    sockets[0]!.open();
    expect(m.state).toBe('open');
    sockets[0]!.drop();
    expect(m.state).toBe('reconnecting');
    expect(sockets.length).toBe(1);
    vi.advanceTimersByTime(RECONNECT_BASE_DELAY_MS - 1);
    expect(sockets.length).toBe(1);
    vi.advanceTimersByTime(1);
    expect(sockets.length).toBe(2);
    expect(states).toEqual(['connecting', 'open', 'reconnecting', 'connecting']);
  });

  it('consecutive failures back off exponentially', () => {
    const { m, sockets } = setup();
    m.start();
    sockets[0]!.drop();
    vi.advanceTimersByTime(RECONNECT_BASE_DELAY_MS);
    sockets[1]!.drop();
    vi.advanceTimersByTime(RECONNECT_BASE_DELAY_MS * 2 - 1);
    expect(sockets.length).toBe(2);
    vi.advanceTimersByTime(1);
    expect(sockets.length).toBe(3);
    expect(m.attempt).toBe(2);
  });

  it('an attempt that never opens is abandoned after the attempt timeout and its socket orphaned', () => {
    const { m, sockets } = setup();
    m.start();
    vi.advanceTimersByTime(CONNECT_ATTEMPT_TIMEOUT_MS);
    expect(m.state).toBe('reconnecting');
    expect(sockets[0]!.closed).toBe(true);
    expect(sockets[0]!.onopen).toBeNull();
    // A late open from the orphan must not change anything.
    const before = m.state;
    sockets[0]!.open();
    expect(m.state).toBe(before);
  });

  it('messages from an orphaned socket are ignored', () => {
    const { m, sockets, messages } = setup();
    m.start();
    const first = sockets[0]!;
    const onmessage = first.onmessage!;
    first.open();
    first.drop();
    onmessage({ data: 'late' });
    expect(messages).toEqual([]);
  });

  it('a connection that was stable resets the backoff; a flapping one keeps growing it', () => {
    const { m, sockets } = setup();
    m.start();
    sockets[0]!.drop();
    vi.advanceTimersByTime(RECONNECT_BASE_DELAY_MS);
    sockets[1]!.drop();
    expect(m.attempt).toBe(2);
    vi.advanceTimersByTime(RECONNECT_BASE_DELAY_MS * 2);
    sockets[2]!.open();
    vi.advanceTimersByTime(STABLE_CONNECTION_MS);
    sockets[2]!.drop();
    expect(m.attempt).toBe(1);
    vi.advanceTimersByTime(RECONNECT_BASE_DELAY_MS);
    sockets[3]!.open();
    sockets[3]!.drop(); // flapped immediately
    expect(m.attempt).toBe(2);
  });

  it('becoming visible skips the remaining backoff', () => {
    const { m, sockets } = setup();
    m.start();
    for (let i = 0; i < 5; i++) {
      sockets.at(-1)!.drop();
      vi.advanceTimersByTime(RECONNECT_MAX_DELAY_MS);
    }
    sockets.at(-1)!.drop();
    const n = sockets.length;
    m.visibilityChanged(true);
    expect(sockets.length).toBe(n + 1);
    expect(m.state).toBe('connecting');
  });

  it('offline pauses attempts; online reconnects at once', () => {
    const { m, sockets } = setup();
    m.start();
    sockets[0]!.open();
    m.onlineChanged(false);
    sockets[0]!.drop();
    expect(m.state).toBe('offline');
    vi.advanceTimersByTime(RECONNECT_MAX_DELAY_MS * 4);
    expect(sockets.length).toBe(1);
    m.onlineChanged(true);
    expect(m.state).toBe('connecting');
    expect(sockets.length).toBe(2);
  });

  it('starting while the browser is offline waits for the online hint', () => {
    const { m, sockets } = setup({ online: false });
    m.start();
    expect(m.state).toBe('offline');
    expect(sockets.length).toBe(0);
    m.onlineChanged(true);
    expect(sockets.length).toBe(1);
  });

  it('stop closes the socket, cancels timers and stays closed', () => {
    const { m, sockets } = setup();
    m.start();
    sockets[0]!.drop();
    m.stop();
    expect(m.state).toBe('closed');
    vi.advanceTimersByTime(RECONNECT_MAX_DELAY_MS * 4);
    expect(sockets.length).toBe(1);
  });

  it('a socket constructor that throws counts as a failed attempt', () => {
    let calls = 0;
    const m = new ReconnectManager<FakeSocket>({
      connect: () => {
        calls++;
        throw new Error('bad url');
      },
      random: () => 0.5,
    });
    m.start();
    expect(m.state).toBe('reconnecting');
    vi.advanceTimersByTime(RECONNECT_BASE_DELAY_MS);
    expect(calls).toBe(2);
    m.stop();
  });
});
