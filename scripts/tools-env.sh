# shellcheck shell=bash
# Source me (do not execute): `. scripts/tools-env.sh`
# Puts the repo-local toolchain (.tools/bin: node 24, pnpm) first on PATH and
# exports RTOA_HOME=<repo root>. Only touches the environment; no `set -e`
# here because that would leak into the caller's shell.

# The root is derived from this file's location so it works from any cwd.
# bash/zsh expose the sourced path; plain sh (dash, Make's default SHELL)
# does not, so fall back to walking up from $PWD.
if [ -n "${BASH_SOURCE:-}" ]; then
  _rtoa_src=${BASH_SOURCE:-}
elif [ -n "${ZSH_VERSION:-}" ]; then
  # shellcheck disable=SC2296 # zsh-only expansion, never reached in bash
  _rtoa_src=${(%):-%x}
else
  _rtoa_src=
fi

if [ -n "$_rtoa_src" ]; then
  _rtoa_root=$(cd "$(dirname "$_rtoa_src")/.." && pwd -P)
else
  _rtoa_root=$PWD
  while [ "$_rtoa_root" != / ] && [ ! -f "$_rtoa_root/scripts/tools-env.sh" ]; do
    _rtoa_root=$(dirname "$_rtoa_root")
  done
fi

export RTOA_HOME="$_rtoa_root"

# Prepend once, so sourcing repeatedly (nested scripts) keeps PATH tidy.
case ":$PATH:" in
  *":$RTOA_HOME/.tools/bin:"*) ;;
  *) PATH="$RTOA_HOME/.tools/bin:$PATH" ;;
esac
export PATH

unset _rtoa_src _rtoa_root
