#!/usr/bin/env node
// `npm start`: builds what is missing or stale (the relay to dist/, the client to build/client), then
// runs the relay in this process. The relay prints its URL, and on Ctrl-C (SIGINT) or SIGTERM it stops
// the embedded hive and every other child it started before exiting.
import { buildClient, buildNode } from './build.mjs';

buildNode();
buildClient();
await import('../dist/relay/main.js');
