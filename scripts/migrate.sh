#!/usr/bin/env bash
# Usage: scripts/migrate.sh [revision]   (default: head)
# For new migrations: .venv/bin/alembic revision --autogenerate -m "description"; rollback: alembic downgrade -1
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/audio-api migrate "${1:-head}"
