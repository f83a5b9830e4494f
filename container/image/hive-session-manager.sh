#!/bin/sh
# /app/scripts/hive-session-manager.sh: the upstream path of the session manager; argv passed through untouched.
# Fast path: create, list, status, get and capabilities are answered by the running hive-engine, so an
# exec costs this shell and an nc instead of a Node start-up (container/engine/session-service.ts). The
# engine publishes its loopback port and a token in <HIVE_ROOT>/.swarm/engine.ctl (0600). The request is
# the token and argv, each NUL-terminated (printf %s never interprets the arguments); the answer is the
# exit code, one stderr line, then stdout. No answer (no engine, or it died) or exit 255 ("not served")
# runs the Node CLI, which handles every command. HIVE_SM_DIRECT=1 always runs the CLI; HIVE_SM_CLI
# points at another cli.js (tests run this script outside the image).
ctl="${HIVE_ROOT:-/workspace}/.swarm/engine.ctl"
case "${1:-}" in
  create|list|status|get|capabilities)
    if [ "${HIVE_SM_DIRECT:-0}" != 1 ] && [ -r "$ctl" ] && read -r port token < "$ctl"; then
      printf '%s\0' "$token" "$@" | nc 127.0.0.1 "$port" 2>/dev/null | {
        IFS= read -r code || exit 255
        case "$code" in ''|*[!0-9]*|255) exit 255 ;; esac
        IFS= read -r err
        cat
        [ -z "$err" ] || printf '%s\n' "$err" >&2
        exit "$code"
      }
      rc=$?
      [ "$rc" -eq 255 ] || exit "$rc"
    fi
    ;;
esac
exec node "${HIVE_SM_CLI:-/app/dist/container/session-manager/cli.js}" "$@"
