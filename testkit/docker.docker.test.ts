// The tests' own pause helpers against the real engine, under the exec load that makes dockerd 20.10
// deadlock: `docker pause` landing while an exec is starting (testkit/docker.ts). The control plane's
// pause test relies on unpauseContainer leaving a container Docker will exec in again; in CI it once
// "unpaused" by a hand thaw while Docker kept calling the container paused, and the next test failed.
import { afterAll, describe, expect, it } from 'vitest';
import Docker from 'dockerode';
import { dockerAvailable, removeContainer, startKitContainer } from './kitContainer.js';
import { containerId, dockerCli, pauseWhenIdle, unpauseContainer } from './docker.js';

const NAME = `hivescope-pause-${process.pid}`;

describe.skipIf(!dockerAvailable())('pauseWhenIdle and unpauseContainer on a real engine', () => {
  afterAll(() => removeContainer(NAME));

  it('a container paused under exec load is unpaused for Docker too: State.Paused false and an exec runs', async () => {
    await startKitContainer(NAME);
    const c = new Docker().getContainer(NAME);
    let stop = false;
    // Three callers exec'ing back to back, as relays probing the container would (a 409 while paused).
    const load = async () => {
      while (!stop) {
        try {
          const s = await (await c.exec({ Cmd: ['true'], AttachStdout: true })).start({});
          s.resume();
          await new Promise((r) => s.on('end', r));
        } catch {
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    };
    const callers = [load(), load(), load()];
    try {
      const id = await containerId(NAME);
      await pauseWhenIdle(NAME);
      // No `docker inspect` here: while an exec is frozen mid-start dockerd holds the container's lock and
      // inspect waits with everything else (150 s here) until the cgroup is thawed.
      const how = await unpauseContainer(NAME, id);
      expect(['unpaused', 'thawed']).toContain(how);
      expect((await dockerCli(['inspect', '-f', '{{.State.Paused}}', NAME])).stdout.trim()).toBe('false');
    } finally {
      stop = true;
      await Promise.all(callers);
    }
    const r = await dockerCli(['exec', NAME, 'echo', 'after']);
    expect({ code: r.code, out: r.stdout.trim() }).toEqual({ code: 0, out: 'after' });
  });
});
