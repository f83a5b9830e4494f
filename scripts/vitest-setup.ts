// Runs in every vitest worker before each test file: after the file's own afterAll hooks (vitest runs
// hooks as a stack), remove the temporary dirs its helpers made (testkit/tempDirs.ts) and end the port
// reservations it held (testkit/ports.ts), whose servers have stopped by then.
import { afterAll } from 'vitest';
import { releasePorts } from '../testkit/ports.js';
import { removeTempDirs } from '../testkit/tempDirs.js';

afterAll(() => {
  removeTempDirs();
  releasePorts();
});
