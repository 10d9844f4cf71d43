#!/usr/bin/env bash
# Usage: scripts/start.sh start [dev|prod] | stop | restart [dev|prod] | status
#   dev:  one process tree (`audio-api run`): API plus one worker for every queue.
#   prod: API processes plus one worker per queue with the configured concurrencies; Redis, PostgreSQL and S3 come
#         from .env. Logs go to logs/, pid files to run/.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p logs run
cli=.venv/bin/audio-api
[ -x "$cli" ] || { echo "run scripts/setup.sh first" >&2; exit 1; }
# The service reads .env itself (pydantic-settings). The few values this script needs are read from it here, not
# sourced: the shell would mangle quoted values such as the JSON lists (CORS_ORIGINS=["..."]) and export them
# over .env.
setting() {  # NAME: its value from the environment, else from .env (surrounding quotes dropped), else empty
  local name=$1
  if [ -n "${!name:-}" ]; then printf '%s' "${!name}"; return; fi
  [ -f .env ] || return 0
  sed -n -E "s/^[[:space:]]*(export[[:space:]]+)?${name}[[:space:]]*=[[:space:]]*//p" .env | tail -n 1 \
    | sed -E -e 's/[[:space:]]+#.*$//' -e "s/^(['\"])(.*)\1$/\2/"
}

launch() {  # name, log file, command...
  local name=$1 log=$2; shift 2
  nohup "$@" >>"logs/$log" 2>&1 &
  echo $! >"run/$name.pid"
  echo "started $name (pid $!), logging to logs/$log"
}

start() {
  local mode=${1:-dev}
  if ls run/*.pid >/dev/null 2>&1; then echo "already running (see scripts/start.sh status)" >&2; exit 1; fi
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
    echo "GPU detected: DEVICE_STRATEGY=$(setting DEVICE_STRATEGY) will use CUDA (auto when empty)"
  fi
  case "$mode" in
    dev) launch service api.log "$cli" run ;;
    prod)
      [ "$(setting ENVIRONMENT)" = production ] || { echo "prod needs ENVIRONMENT=production in .env" >&2; exit 1; }
      [ -n "$(setting REDIS_HOST)$(setting CELERY_BROKER_URL)" ] || { echo "prod needs REDIS_HOST (broker)" >&2; exit 1; }
      "$cli" migrate
      # API processes and workers on this host share their metrics through one folder; GET /metrics shows all.
      export PROMETHEUS_MULTIPROC_DIR="$PWD/run/metrics"
      rm -rf "$PROMETHEUS_MULTIPROC_DIR" && mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
      api_workers=$(setting API_WORKERS)
      launch api api.log "$cli" serve --workers "${api_workers:-4}"
      for queue in voice-queue translation-queue speaker-queue; do
        launch "celery_${queue%-queue}" celery.log "$cli" worker --queues "$queue"
      done
      ;;
    *) echo "usage: $0 start [dev|prod]" >&2; exit 2 ;;
  esac
}

stop() {
  for pidfile in run/*.pid; do
    [ -e "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid"
      for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
      echo "stopped $(basename "$pidfile" .pid)"
    fi
    rm -f "$pidfile"
  done
}

status() {
  for pidfile in run/*.pid; do
    [ -e "$pidfile" ] || { echo "not running"; return; }
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then state=running; else state=dead; fi
    echo "$(basename "$pidfile" .pid): $state (pid $pid)"
  done
}

case "${1:-}" in
  start) start "${2:-dev}" ;;
  stop) stop ;;
  restart) stop; start "${2:-dev}" ;;
  status) status ;;
  *) echo "usage: $0 start [dev|prod] | stop | restart [dev|prod] | status" >&2; exit 2 ;;
esac
