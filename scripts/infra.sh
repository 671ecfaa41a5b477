#!/usr/bin/env bash
# `make up|down|logs|clean`: the infrastructure of the configured mode.
#   local:  the Kafka broker from the jars (scripts/kafka.sh); ClickHouse is embedded in each program
#   docker: Redpanda + ClickHouse server (infra/docker-compose.yml)
# INFRA_MODE and DATA_DIR are read as the programs read them (the environment wins over .env).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
# shellcheck source=scripts/tools-env.sh
. "$ROOT/scripts/tools-env.sh"
cd "$ROOT"

die() { printf 'infra: error: %s\n' "$*" >&2; exit 1; }
settings=$(node scripts/env.ts INFRA_MODE DATA_DIR) || die "cannot read the settings (run make setup)"
eval "$settings"
INFRA_MODE=${INFRA_MODE:-local}
DATA_DIR=${DATA_DIR:-.data}
case $INFRA_MODE in local | docker) ;; *) die "INFRA_MODE must be local or docker (got '$INFRA_MODE')" ;; esac

compose() {
  local env_file=.env_template
  [ -f .env ] && env_file=.env
  docker compose -f infra/docker-compose.yml --env-file "$env_file" "$@"
}

# rm -rf only what is recognisably this project's data directory: inside the repository (or an
# absolute path the user chose) but never the repository, an ancestor of it, the home directory
# or /, and holding nothing but the entries this project creates there.
check_data_dir() {
  local dir=$1 resolved entry
  [ -n "$dir" ] || die "DATA_DIR is empty"
  resolved=$(realpath -m -- "$dir")
  case $resolved in
    / | "$ROOT" | "$HOME") die "DATA_DIR=$dir resolves to $resolved: refusing to delete it" ;;
  esac
  case "$ROOT/" in "$resolved"/*) die "DATA_DIR=$dir ($resolved) contains the repository: refusing to delete it" ;; esac
  case "$HOME/" in "$resolved"/*) die "DATA_DIR=$dir ($resolved) contains the home directory: refusing to delete it" ;; esac
  [ -e "$resolved" ] || return 0
  [ -d "$resolved" ] || die "DATA_DIR=$dir ($resolved) is not a directory"
  for entry in "$resolved"/* "$resolved"/.[!.]*; do
    [ -e "$entry" ] || continue
    case ${entry##*/} in
      kafka | chdb | test | demo | processor-http.token) ;;
      *) die "DATA_DIR=$dir ($resolved) holds '${entry##*/}', which this project does not create: refusing to delete it" ;;
    esac
  done
}

case ${1:-} in
  up)
    if [ "$INFRA_MODE" = docker ]; then compose up -d --wait; exit; fi
    bash scripts/kafka.sh start
    echo "ClickHouse runs embedded (chDB) in each program; its data lives in $DATA_DIR/chdb."
    ;;
  down)
    if [ "$INFRA_MODE" = docker ]; then compose down; exit; fi
    bash scripts/kafka.sh stop
    ;;
  logs)
    if [ "$INFRA_MODE" = docker ]; then compose logs -f; exit; fi
    bash scripts/kafka.sh logs
    ;;
  clean)
    # CONFIRM comes from the command line (make clean CONFIRM=1) or the environment, never .env:
    # this script does not read it from there.
    if [ "${CONFIRM:-}" != 1 ]; then
      echo "This deletes all Kafka and ClickHouse data. Run: make clean CONFIRM=1"
      exit 1
    fi
    if [ "$INFRA_MODE" = docker ]; then compose down -v; exit; fi
    case $DATA_DIR in /*) data=$DATA_DIR ;; *) data="$ROOT/$DATA_DIR" ;; esac
    check_data_dir "$data"
    bash scripts/kafka.sh clean
    rm -rf -- "$(realpath -m -- "$data")"
    echo "deleted $data"
    ;;
  *) die "usage: scripts/infra.sh up|down|logs|clean" ;;
esac
