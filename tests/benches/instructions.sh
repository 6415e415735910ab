#!/usr/bin/env bash
# Runs the SDK-overhead benchmark with CPU instruction counts (valgrind's callgrind),
# installing valgrind from the distribution's packages when it is missing.
set -euo pipefail
if ! command -v valgrind >/dev/null; then
  if command -v apt-get >/dev/null; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq valgrind
  else
    echo "install valgrind with your distribution's package manager" >&2; exit 1
  fi
fi
cd "$(dirname "$0")/../.."
BENCH_INSTRUCTIONS=1 cargo bench -p credkit-tests --bench jumdata_overhead "$@"
