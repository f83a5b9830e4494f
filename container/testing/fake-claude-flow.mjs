#!/usr/bin/env node
// Stand-in for `claude-flow` (the real package is 1.1 GB and needs the network to install): behaves like
// `claude-flow hive-mind spawn "<objective>"` as claude-flow-2.7.md describes it: prints the summary block
// about a second in, then never exits. Records its argv, cwd, env and pid to $FAKE_CF_RECORD.
// `hive-mind stop <session-id>` prints the stopped summary, records to $FAKE_CF_RECORD.stop and exits 0
// (like the real one, it does not end the spawn process).
import fs from 'node:fs';

const rec = process.env.FAKE_CF_RECORD;
if (process.argv[3] === 'stop') {
  if (rec) fs.writeFileSync(`${rec}.stop`, JSON.stringify({ argv: process.argv.slice(2), cwd: process.cwd() }));
  process.stdout.write(`🛑 Stopped Session Summary:\nSession ID: ${process.argv[4] ?? ''}\n`);
  process.exit(0);
}
if (rec) {
  fs.writeFileSync(rec, JSON.stringify({ argv: process.argv.slice(2), cwd: process.cwd(), pid: process.pid, session: process.env.HIVE_MIND_SESSION_ID, outputDir: process.env.HIVE_MIND_OUTPUT_DIR }));
}
const now = Date.now();
setTimeout(() => {
  process.stdout.write(`🐝 Swarm Summary:\n${'─'.repeat(50)}\nSwarm ID: swarm-${now}-ukraioo0q\nSession ID: session-${now}-ylz7dsrf6\nName: hive-${now}\nObjective: ${process.argv[4] ?? ''}\nQueen Type: strategic\nWorkers: 4\n${'─'.repeat(50)}\n✓ Swarm is ready for coordination\n`);
}, 300);
setInterval(() => undefined, 30_000);
