/** Bounded waits for tests and benches: hang guards that name what did not happen, never speed assertions. */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `pred` every `stepMs` until it holds; throws naming `what` after `timeoutMs`. */
export async function waitUntil(pred: () => boolean | Promise<boolean>, timeoutMs = 20_000, stepMs = 50, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await sleep(stepMs);
  }
}

/** Like waitUntil, but resolves false instead of throwing (for a figure the caller judges). */
export function holdsWithin(pred: () => boolean | Promise<boolean>, timeoutMs: number, stepMs = 10): Promise<boolean> {
  return waitUntil(pred, timeoutMs, stepMs).then(
    () => true,
    () => false,
  );
}

/** Polls `probe` every `stepMs` until it returns a value (a throw counts as none yet); throws naming `what` after `timeoutMs`. */
export async function pollFor<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string, stepMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(stepMs);
  }
}
