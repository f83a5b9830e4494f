/**
 * Render statistics for the overlay (fps, frame count), written by the frame loop and read by the DOM
 * overlay twice a second. Module-level mutable numbers on purpose: per-frame data never goes through
 * React state.
 */
export const frameStats = {
  frames: 0,
  /** performance.now() of the last rendered frame. */
  lastFrameAt: 0,
  fps: 0,
  windowStart: 0,
  windowFrames: 0,
  contextLost: false,
};

export function recordFrame(now: number): void {
  frameStats.frames++;
  frameStats.lastFrameAt = now;
  if (frameStats.windowStart === 0) frameStats.windowStart = now;
  frameStats.windowFrames++;
  const elapsed = now - frameStats.windowStart;
  if (elapsed >= 1000) {
    frameStats.fps = (frameStats.windowFrames * 1000) / elapsed;
    frameStats.windowStart = now;
    frameStats.windowFrames = 0;
  }
}

/** fps as shown: 0 when no frame for a second (the loop paused because nothing moves). */
export function currentFps(now: number): number {
  return now - frameStats.lastFrameAt > 1000 ? 0 : frameStats.fps;
}
