// Runs in every vitest worker before each test file: after the file's own afterAll hooks (vitest runs
// hooks as a stack), remove the temporary dirs its helpers made (relay/testing/tempDirs.ts).
import { afterAll } from 'vitest';
import { removeTempDirs } from '../relay/testing/tempDirs.js';

afterAll(() => removeTempDirs());
