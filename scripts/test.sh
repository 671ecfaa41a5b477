#!/usr/bin/env bash
# `make test`: type-check, lint, then unit + integration tests against a real local broker.
# Reuses a broker that already runs on KAFKA_BROKERS; otherwise starts one in its own data
# directory and stops it again on exit, whatever happened.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
# shellcheck source=scripts/tools-env.sh
. "$ROOT/scripts/tools-env.sh"
cd "$ROOT"

# The test broker is plaintext: Kafka security settings in .env must not reach the programs the
# integration tests start (the secured-broker test sets its own).
export KAFKA_SECURITY_PROTOCOL=PLAINTEXT KAFKA_SASL_MECHANISM= KAFKA_SASL_USERNAME= KAFKA_SASL_PASSWORD= \
  KAFKA_SSL_CA_FILE= KAFKA_SSL_CERT_FILE= KAFKA_SSL_KEY_FILE= KAFKA_SSL_REJECT_UNAUTHORIZED=true

started=false
test_data="$ROOT/.data/test"
cleanup() {
  if $started; then
    echo "==> test: stopping the test broker"
    DATA_DIR="$test_data" bash scripts/kafka.sh stop || true
  fi
}
trap cleanup EXIT INT TERM

echo "==> test: typecheck"
pnpm -s typecheck
echo "==> test: lint"
pnpm -s lint

# The broker as the programs see it (the environment wins over .env), for the tests too.
eval "$(node scripts/env.ts KAFKA_BROKERS)"
export KAFKA_BROKERS=${KAFKA_BROKERS:-127.0.0.1:19092}
broker=${KAFKA_BROKERS%%,*}
if (exec 3<>"/dev/tcp/${broker%:*}/${broker##*:}") 2>/dev/null; then
  echo "==> test: using the broker already answering at $broker"
else
  echo "==> test: starting a test broker ($test_data)"
  started=true
  DATA_DIR="$test_data" bash scripts/kafka.sh start
fi

echo "==> test: vitest (unit + integration)"
pnpm exec vitest run "$@"
