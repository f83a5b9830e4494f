/**
 * Preloaded (`node --import`) into the embedded engine so it never outlives the relay, even when the
 * relay is killed with SIGKILL: the relay holds the write end of the child's stdin, which closes when
 * the relay dies; a parent-pid check backs that up. Either ends the engine with SIGTERM so its own
 * shutdown handlers still run.
 */
const parent = process.ppid;
let ending = false;
function end(): void {
  if (ending) return;
  ending = true;
  process.kill(process.pid, 'SIGTERM');
  setTimeout(() => process.exit(0), 3000).unref();
}
if (process.env.HIVESCOPE_DIE_WITH_PARENT === '1') {
  process.stdin.on('end', end);
  process.stdin.on('error', end);
  process.stdin.resume();
  setInterval(() => {
    if (process.ppid !== parent) end();
  }, 1000).unref();
}
export {};
