#!/usr/bin/env bash
# Usage: scripts/setup.sh [dev|prod]
# Installs the service into .venv, creates its folders, migrates the database and checks the configured models.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-dev}"
case "$mode" in dev|prod) ;; *) echo "usage: $0 [dev|prod]" >&2; exit 2 ;; esac

make install
mkdir -p logs data
[ -f .env ] || { cp .env.example .env; echo "created .env from .env.example: review it"; }
if [ "$mode" = prod ]; then
  chmod 600 .env
  grep -q '^ENVIRONMENT=production' .env || echo "warning: set ENVIRONMENT=production (and a real SECRET_KEY) in .env" >&2
fi
.venv/bin/audio-api migrate
.venv/bin/audio-api check-models
