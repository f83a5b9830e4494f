/**
 * A kit container for the control plane's Docker tests and bench: the kit's image (kitImage.ts) run by
 * scripts/container.mjs's up() with a unique name, its own volume and a reserved MCP port on host
 * networking, and removed again with that volume.
 */
import { ensureImage, kitModule } from './kitImage.js';
import { freePort } from './ports.js';
import { dockerCli, unpauseContainer } from './docker.js';

export { dockerAvailable } from './docker.js';

/** Which image the last startKitContainer used (the kit's own; a local fallback image is no more). */
export let kitContainerSource: 'kit-image' | null = null;

/** Starts a container named `name` with the kit's engine and the session manager at the image path. */
export async function startKitContainer(name: string): Promise<void> {
  await removeContainer(name);
  await ensureImage();
  const kit = await kitModule();
  await kit.up({ name, volume: `${name}-workspace`, port: await freePort(), env: { HIVE_SIM_SPEED: '1' } });
  kitContainerSource = 'kit-image';
}

/** Removes the container and the volume it used (either may be absent). */
export async function removeContainer(name: string): Promise<void> {
  // A container left paused (a pause test that failed half-way) can hang a forced removal on dockerd 20.10.
  await unpauseContainer(name).catch((err: unknown) => console.warn(String(err)));
  await dockerCli(['rm', '-f', '-v', name]);
  await dockerCli(['volume', 'rm', '-f', `${name}-workspace`]);
}
