#!/bin/sh
# `make demo`: the development server in the foreground, with the background worker
# (`citygrid db_worker`) and the case sweeper (`citygrid case_sweeper`, which enqueues the
# overdue/reminder sweep every minute) in the background. When the server stops (Ctrl+C,
# SIGTERM, or an error), both background processes are stopped too.
# Usage: sh scripts/demo_serve.sh [ADDRESS:PORT]   (BIN=.venv/bin by default)
set -u
BIN=${BIN:-.venv/bin}
ADDR=${1:-127.0.0.1:8000}
LOGS=${DEMO_LOG_DIR:-var/log}
PIDS=""

stop_background() {
    for pid in $PIDS; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in $PIDS; do
        wait "$pid" 2>/dev/null || true
    done
    PIDS=""
}
# Background jobs of a non-interactive shell ignore Ctrl+C, so they are stopped here; the
# server runs without the autoreloader (whose child process a TERM would leave behind).
trap stop_background EXIT
trap 'stop_background; exit 130' INT
trap 'stop_background; exit 143' TERM

mkdir -p "$LOGS"
"$BIN/citygrid" db_worker --no-reload --no-startup-delay --interval 1 >>"$LOGS/worker.log" 2>&1 &
PIDS="$PIDS $!"
"$BIN/citygrid" case_sweeper --interval "${SWEEP_INTERVAL:-60}" >>"$LOGS/sweeper.log" 2>&1 &
PIDS="$PIDS $!"
echo "worker and case sweeper running in the background (logs in $LOGS/)"
# The server runs in the background too, so that a signal reaches the traps at once.
"$BIN/citygrid" runserver --noreload "$ADDR" &
SERVER=$!
PIDS="$PIDS $SERVER"
wait "$SERVER"
