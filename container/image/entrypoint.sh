#!/bin/sh
# Entrypoint of hivescope/multi-agent: prepares /workspace, marks claude-flow sessions whose process
# groups died with the previous container run as `interrupted` (reap; simulated sessions are marked by
# hive-engine itself when it starts, since a fresh engine knows no swarm), then supervises hive-engine
# (restarted 1 s after it exits) and keeps the container alive. Runs as PID 1 under busybox sh; TERM/INT
# stop the engine and exit. The engine listens on MCP_TCP_PORT (upstream's name), else MCP_PORT, else 9500;
# a bad value stops it with a message naming the variable (see the log), and the loop retries each second.
set -u
LOG_DIR="${HIVE_LOG_DIR:-/var/log/multi-agent}"
mkdir -p "$LOG_DIR" "${HIVE_ROOT:-/workspace}/ext/hive-sessions"
/app/scripts/hive-session-manager.sh init
/app/scripts/hive-session-manager.sh reap 2>/dev/null

child=0
shutdown() {
  if [ "$child" -gt 0 ]; then
    kill -TERM "$child" 2>/dev/null
    wait "$child" 2>/dev/null
  fi
  exit 0
}
trap shutdown TERM INT

while :; do
  node /app/dist/container/engine/main.js &
  child=$!
  echo "[supervisor] $(date -u +%Y-%m-%dT%H:%M:%SZ) hive-engine started (pid $child)"
  wait "$child"
  code=$?
  echo "[supervisor] $(date -u +%Y-%m-%dT%H:%M:%SZ) hive-engine exited with $code; restarting in 1 s"
  sleep 1
done
