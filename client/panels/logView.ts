/**
 * Follow and pause for the console's terminal, apart from xterm so it can be tested without a DOM.
 * Following: new output is written and the view stays at the bottom. Scrolling up pauses (the view stays
 * where the user put it; xterm keeps a scrolled-up viewport while it writes) and raises the "new output"
 * marker when more arrives; scrolling back to the bottom follows again. Pause pressed while the view is
 * at the bottom holds new output back (xterm would otherwise scroll along with it), bounded by
 * `maxHeldChars`: past that the held text is written (the terminal's scrollback bounds it) rather than
 * kept growing. Follow writes what was held and goes to the bottom.
 */

/** The part of xterm the view drives (client/panels/ConsoleLog.tsx adapts a Terminal to it). */
export interface TerminalLike {
  write(text: string): void;
  /** Drops every line, scrollback included. */
  clear(): void;
  scrollToBottom(): void;
  /** The viewport shows the last line. */
  atBottom(): boolean;
}

export interface LogViewState {
  following: boolean;
  /** Output arrived that the user has not seen (scrolled up, or held while paused). */
  newOutput: boolean;
  /** Characters held back while paused at the bottom. */
  heldChars: number;
}

/** Held text while paused at the bottom, at most (then it is written). */
export const MAX_HELD_CHARS = 1024 * 1024;

export class LogView {
  private following = true;
  /** Paused by the Pause button (only Follow resumes) rather than by scrolling up. */
  private pausedByUser = false;
  private newOutput = false;
  private held: string[] = [];
  private heldChars = 0;

  constructor(
    private readonly term: TerminalLike,
    private readonly onChange: (s: LogViewState) => void,
    private readonly maxHeldChars = MAX_HELD_CHARS,
  ) {}

  state(): LogViewState {
    return { following: this.following, newOutput: this.newOutput, heldChars: this.heldChars };
  }

  text(text: string): void {
    if (text.length === 0) return;
    if (this.following) {
      this.term.write(text);
      this.term.scrollToBottom();
      return;
    }
    if (this.term.atBottom()) {
      this.held.push(text);
      this.heldChars += text.length;
      if (this.heldChars > this.maxHeldChars) this.flush();
    } else this.term.write(text);
    this.mark(true);
  }

  /** Drops what is shown and held (a rotated log starts over). */
  reset(): void {
    this.held = [];
    this.heldChars = 0;
    this.term.clear();
    this.mark(false);
  }

  /** The viewport moved (wheel, scrollbar, keys, or output): pause when it left the bottom, follow when a scroll-up pause ends there. */
  scrolled(): void {
    const bottom = this.term.atBottom();
    if (this.following && !bottom) {
      this.following = false;
      this.pausedByUser = false;
      this.emit();
    } else if (!this.following && bottom && !this.pausedByUser) this.follow();
    else if (!this.following && !bottom && this.held.length > 0) this.flush();
  }

  pause(): void {
    if (!this.following) {
      this.pausedByUser = true;
      return;
    }
    this.following = false;
    this.pausedByUser = true;
    this.emit();
  }

  follow(): void {
    this.following = true;
    this.pausedByUser = false;
    this.flush();
    this.term.scrollToBottom();
    this.newOutput = false;
    this.emit();
  }

  private flush(): void {
    if (this.held.length === 0) return;
    const all = this.held.join('');
    this.held = [];
    this.heldChars = 0;
    this.term.write(all);
    this.emit();
  }

  private mark(v: boolean): void {
    if (this.newOutput === v) return this.emit();
    this.newOutput = v;
    this.emit();
  }

  private last = '';
  /** Tells the page only when something it shows changed (not per chunk of output). */
  private emit(): void {
    const s = this.state();
    const key = `${s.following}|${s.newOutput}|${s.heldChars > 0}`;
    if (key === this.last) return;
    this.last = key;
    this.onChange(s);
  }
}
