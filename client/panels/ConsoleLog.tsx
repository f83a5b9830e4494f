/**
 * The console's Log tab: the session's log drawn by xterm.js as a terminal would (Claude Code's colours
 * and layout), fed by the connection's log feed (client/net/logFeed.ts), never through React state per
 * chunk: text goes straight into xterm's buffer, whose scrollback is the bound. Follow and pause
 * (./logView.ts), search (our own over the buffer's rows), copy, a "new output" marker when scrolled up,
 * how far behind the live stream is, and, instead of an empty pane, what the relay said about the log.
 * xterm takes no input: every key goes to the page (Tab, Escape), and the output region scrolls with
 * PageUp/PageDown, arrows, Home and End.
 */
import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import { Terminal } from '@xterm/xterm';
import '@xterm/xterm/css/xterm.css';
import { useServices } from '../page/context.js';
import type { LogFeedStatus } from '../net/logFeed.js';
import { LogView, type LogViewState, type TerminalLike } from './logView.js';
import { behindLabel, findInRows, stepMatch, type Match } from './consoleModel.js';

/** Lines xterm keeps (its scrollback): the bound on what the console holds of a log. */
export const CONSOLE_SCROLLBACK = 5000;
/** Claude Code and the swarms print for a terminal about this wide; a fixed width keeps their layout. */
const COLS = 120;
const ROWS = 18;

const STATUS_WORDS: Record<LogFeedStatus['state'], string> = {
  waiting: 'waiting for the relay',
  following: 'following',
  unavailable: 'log unavailable',
  ended: 'session ended: this is its whole log',
};

const REASON_WORDS: Record<string, string> = {
  'no-log': 'this session keeps no log the relay can read',
  missing: 'the log file is not there (yet, or any more)',
  'container-unreachable': 'the container cannot be reached',
};

/** Text of the whole buffer, wrapped rows joined back into their lines. */
function bufferText(term: Terminal): string {
  const b = term.buffer.active;
  const out: string[] = [];
  for (let i = 0; i < b.length; i++) {
    const line = b.getLine(i);
    if (!line) continue;
    const text = line.translateToString(true);
    if (line.isWrapped && out.length > 0) out[out.length - 1] += text;
    else out.push(text);
  }
  while (out.length > 0 && out[out.length - 1] === '') out.pop();
  return out.join('\n');
}

function bufferRows(term: Terminal): string[] {
  const b = term.buffer.active;
  const rows: string[] = [];
  for (let i = 0; i < b.length; i++) rows.push(b.getLine(i)?.translateToString(true) ?? '');
  return rows;
}

export function ConsoleLog(props: { uuid: string }) {
  const { connection, store } = useServices();
  const host = useRef<HTMLDivElement>(null);
  const region = useRef<HTMLDivElement>(null);
  const termRef = useRef<Terminal | null>(null);
  const viewRef = useRef<LogView | null>(null);
  const [view, setView] = useState<LogViewState>({ following: true, newOutput: false, heldChars: 0 });
  const [status, setStatus] = useState<LogFeedStatus>({ state: 'waiting', reason: null, message: '' });
  const [behind, setBehind] = useState(0);
  const [restarted, setRestarted] = useState<string | null>(null);
  const [empty, setEmpty] = useState(true);
  /** The log's container path (for people who want to `docker exec` it), once a chunk named it. */
  const [path, setPath] = useState<string | null>(null);
  const [query, setQuery] = useState('');
  /** null: not searched since the query changed. */
  const [matches, setMatches] = useState<Match[] | null>(null);
  const [current, setCurrent] = useState(-1);
  const [copied, setCopied] = useState<string | null>(null);

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const term = new Terminal({
      cols: COLS,
      rows: ROWS,
      scrollback: CONSOLE_SCROLLBACK,
      disableStdin: true,
      // Logs captured from a pipe end lines with \n alone; a terminal needs \r\n to go back to column 0.
      convertEol: true,
      cursorBlink: false,
      cursorInactiveStyle: 'none',
      fontSize: 12,
      fontFamily: "ui-monospace, 'DejaVu Sans Mono', monospace",
      theme: { background: '#0b0f17', foreground: '#d8dee9', selectionBackground: '#f5b94266' },
    });
    term.open(el);
    // xterm's hidden textarea would be an unnamed Tab stop that swallows Tab and Escape; the region
    // around the terminal is the Tab stop, and every key goes to the page.
    term.textarea?.setAttribute('tabindex', '-1');
    term.textarea?.setAttribute('aria-hidden', 'true');
    term.attachCustomKeyEventHandler(() => false);
    termRef.current = term;
    const adapter: TerminalLike = {
      write: (t) => term.write(t),
      clear: () => term.reset(),
      scrollToBottom: () => term.scrollToBottom(),
      atBottom: () => term.buffer.active.viewportY >= term.buffer.active.baseY,
    };
    const lv = new LogView(adapter, setView);
    viewRef.current = lv;
    const scrollSub = term.onScroll(() => lv.scrolled());
    // What the relay holds back changes with every message while it paces this page: shown at 4 Hz.
    let behindNow = 0;
    let behindTimer: ReturnType<typeof setTimeout> | null = null;
    let sawText = false;
    const off = connection.logs.subscribe(props.uuid, (e) => {
      switch (e.kind) {
        case 'text': {
          lv.text(e.text);
          if (!sawText) {
            sawText = true;
            setEmpty(false);
          }
          const c = connection.logs.cursor(props.uuid);
          // For tests and tools: the byte offset shown up to, written to the DOM (not React state).
          el.dataset.next = String(c?.next ?? '');
          if (c?.path) setPath(c.path); // React bails out when it is unchanged
          return;
        }
        case 'reset':
          lv.reset();
          setRestarted(e.why);
          return;
        case 'status':
          setStatus(e.status);
          return;
        case 'behind':
          behindNow = e.bytes;
          behindTimer ??= setTimeout(() => {
            behindTimer = null;
            setBehind(behindNow);
          }, 250);
          return;
      }
    });
    return () => {
      off();
      if (behindTimer) clearTimeout(behindTimer);
      scrollSub.dispose();
      viewRef.current = null;
      termRef.current = null;
      term.dispose();
    };
  }, [connection, props.uuid]);

  const goTo = (list: Match[], i: number) => {
    const term = termRef.current;
    setCurrent(i);
    const m = list[i];
    if (!term || !m) return;
    term.select(m.col, m.row, m.length);
    // Scrolling to a match pauses following (LogView sees the viewport leave the bottom).
    term.scrollToLine(Math.max(0, m.row - Math.floor(ROWS / 2)));
  };

  const search = (backwards: boolean) => {
    const term = termRef.current;
    if (!term) return;
    // Searched afresh each time: the buffer moves under the results as output arrives.
    const list = findInRows(bufferRows(term), query);
    setMatches(list);
    if (list.length === 0) {
      term.clearSelection();
      return setCurrent(-1);
    }
    goTo(list, stepMatch(list.length, matches === null || current >= list.length ? -1 : current, backwards));
  };

  const copy = async () => {
    const term = termRef.current;
    if (!term) return;
    const text = term.hasSelection() ? term.getSelection() : bufferText(term);
    try {
      await navigator.clipboard.writeText(text);
      setCopied(term.hasSelection() ? 'Copied the selection' : `Copied the log shown (${text.split('\n').length} lines)`);
      setTimeout(() => setCopied(null), 3000);
    } catch (e) {
      store.getState().notify('error', `Could not copy the log: ${(e as Error).message}`);
    }
  };

  const onRegionKey = (e: KeyboardEvent<HTMLDivElement>) => {
    const term = termRef.current;
    if (!term) return;
    const act: Record<string, () => void> = {
      PageUp: () => term.scrollPages(-1),
      PageDown: () => term.scrollPages(1),
      ArrowUp: () => term.scrollLines(-1),
      ArrowDown: () => term.scrollLines(1),
      Home: () => term.scrollToTop(),
      End: () => viewRef.current?.follow(),
    };
    const f = act[e.key];
    if (!f || e.altKey || e.ctrlKey || e.metaKey) return;
    e.preventDefault();
    f();
  };

  const behindText = behindLabel(behind);
  const unavailable = status.state === 'unavailable';
  return (
    <div className="console-log" data-log-state={status.state} data-log-reason={status.reason ?? ''} data-following={String(view.following)}>
      <div className="console-toolbar">
        <button type="button" aria-pressed={!view.following} onClick={() => (view.following ? viewRef.current?.pause() : viewRef.current?.follow())}>
          {view.following ? 'Pause' : 'Follow'}
        </button>
        <form
          className="console-search"
          role="search"
          onSubmit={(e) => {
            e.preventDefault();
            search(false);
          }}
        >
          <input
            type="search"
            aria-label="Search the log"
            placeholder="search the log"
            // Uncontrolled, like the spawn prompt's task: a busy page must not set typed text back.
            defaultValue=""
            onChange={(e) => {
              setQuery(e.target.value);
              setCurrent(-1);
              setMatches(null);
            }}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && e.shiftKey) {
                e.preventDefault();
                search(true);
              }
            }}
          />
          <button type="button" aria-label="Previous match" onClick={() => search(true)} disabled={!query}>
            ↑
          </button>
          <button type="submit" aria-label="Next match" disabled={!query}>
            ↓
          </button>
          <span className="muted" aria-live="polite" data-testid="search-result">
            {matches === null ? '' : matches.length === 0 ? 'no match' : `${current + 1} of ${matches.length}`}
          </span>
        </form>
        <button type="button" onClick={() => void copy()}>
          Copy
        </button>
        <span className="muted console-state" aria-live="polite" title={path ?? undefined}>
          {copied ?? STATUS_WORDS[status.state]}
          {!copied && path && status.state === 'following' ? ` ${path}` : ''}
          {behindText ? ` · ${behindText}` : ''}
        </span>
      </div>
      {restarted && (
        <p className="hint" role="status" data-testid="log-restarted">
          {restarted}
        </p>
      )}
      {unavailable && (
        <p className="errors console-unavailable" role="alert" data-testid="log-unavailable">
          No log to show: {status.reason ? REASON_WORDS[status.reason] : 'the relay cannot follow it'}
          {status.message ? ` (${status.message})` : ''}.
        </p>
      )}
      <div className="console-term-wrap">
        {/* The Tab stop for the output: scrolls with PageUp/PageDown, arrows, Home and End (End follows). */}
        <div ref={region} className="console-term" role="region" aria-label="Log output (PageUp, PageDown, Home, End scroll)" tabIndex={0} onKeyDown={onRegionKey}>
          <div ref={host} data-testid="log-terminal" />
        </div>
        {empty && !unavailable && (
          <p className="console-empty muted" data-testid="log-empty">
            {status.state === 'waiting' ? 'Waiting for the relay to send this session\'s log…' : status.state === 'ended' ? 'The session ended without writing to its log.' : 'Nothing written to the log yet; new lines show here as they are written.'}
          </p>
        )}
        {view.newOutput && (
          <button type="button" className="console-new-output" onClick={() => viewRef.current?.follow()} data-testid="new-output">
            New output ↓
          </button>
        )}
      </div>
    </div>
  );
}
