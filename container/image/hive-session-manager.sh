#!/bin/sh
# /app/scripts/hive-session-manager.sh: the upstream path of the session manager; argv passed through untouched.
exec node /app/dist/container/session-manager/cli.js "$@"
