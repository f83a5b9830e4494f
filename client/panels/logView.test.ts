import { describe, expect, it } from 'vitest';
import { LogView, type LogViewState, type TerminalLike } from './logView.js';

/** A terminal of lines with a viewport `rows` high: enough to model where the view is. */
class FakeTerm implements TerminalLike {
  lines: string[] = [];
  top = 0;
  constructor(readonly rows = 3) {}
  private get bottomTop() {
    return Math.max(0, this.lines.length - this.rows);
  }
  write(text: string) {
    const wasBottom = this.atBottom();
    this.lines.push(...text.split('\n').filter((l) => l !== ''));
    // xterm: a view at the bottom moves along with output, a scrolled-up one stays.
    if (wasBottom) this.top = this.bottomTop;
  }
  clear() {
    this.lines = [];
    this.top = 0;
  }
  scrollToBottom() {
    this.top = this.bottomTop;
  }
  atBottom() {
    return this.top >= this.bottomTop;
  }
  scrollUp(n: number) {
    this.top = Math.max(0, this.top - n);
  }
}

function setup(maxHeld?: number) {
  const term = new FakeTerm();
  const states: LogViewState[] = [];
  const view = new LogView(term, (s) => states.push(s), maxHeld);
  return { term, view, states, last: () => states.at(-1) ?? view.state() };
}

describe('console log view: follow and pause', () => {
  it('follows new output to the bottom without telling the page per chunk', () => {
    const { term, view, states } = setup();
    for (let i = 0; i < 10; i++) view.text(`line ${i}\n`);
    expect(term.atBottom()).toBe(true);
    expect(term.lines.at(-1)).toBe('line 9');
    expect(states).toEqual([]);
  });

  it('scrolling up pauses, keeps the view still and shows the new-output marker; back at the bottom it follows again', () => {
    const { term, view, last } = setup();
    for (let i = 0; i < 10; i++) view.text(`line ${i}\n`);
    term.scrollUp(4);
    view.scrolled();
    expect(last()).toMatchObject({ following: false, newOutput: false });
    const top = term.top;
    view.text('line 10\n');
    expect(term.top).toBe(top);
    expect(term.lines.at(-1)).toBe('line 10');
    expect(last()).toMatchObject({ following: false, newOutput: true });
    term.scrollToBottom();
    view.scrolled();
    expect(last()).toEqual({ following: true, newOutput: false, heldChars: 0 });
  });

  it('Pause at the bottom holds output back; Follow shows it all, in order, and goes to the bottom', () => {
    const { term, view, last } = setup();
    view.text('a\nb\nc\nd\n');
    view.pause();
    const shown = [...term.lines];
    view.text('e\n');
    view.text('f\n');
    expect(term.lines).toEqual(shown);
    expect(last()).toMatchObject({ following: false, newOutput: true });
    // Being at the bottom does not end a pause the user asked for.
    view.scrolled();
    expect(last().following).toBe(false);
    view.follow();
    expect(term.lines).toEqual([...shown, 'e', 'f']);
    expect(term.atBottom()).toBe(true);
    expect(last()).toEqual({ following: true, newOutput: false, heldChars: 0 });
  });

  it('held output is bounded: past the bound it is written rather than kept', () => {
    const { term, view } = setup(10);
    view.text('a\nb\nc\n');
    view.pause();
    view.text('12345\n');
    expect(term.lines).not.toContain('12345');
    view.text('67890\n');
    expect(term.lines.slice(-2)).toEqual(['12345', '67890']);
    expect(view.state().heldChars).toBe(0);
  });

  it('a paused user who scrolls up gets the held output written while the view stays where they put it', () => {
    const { term, view } = setup();
    for (let i = 0; i < 6; i++) view.text(`l${i}\n`);
    view.pause();
    view.text('held\n');
    term.scrollUp(2);
    const top = term.top;
    view.scrolled();
    expect(term.lines.at(-1)).toBe('held');
    expect(term.top).toBe(top);
  });

  it('reset clears the terminal and what was held', () => {
    const { term, view } = setup();
    view.text('x\n');
    view.pause();
    view.text('y\n');
    view.reset();
    expect(term.lines).toEqual([]);
    view.follow();
    expect(term.lines).toEqual([]);
  });
});
