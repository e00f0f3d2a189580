#!/usr/bin/env bash
# Sets up sealpod, builds a busybox image from /bin/busybox, serves it from a local
# registry on 127.0.0.1, pulls it with sealpod and lists it.  No internet needed.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
exec .venv/bin/python scripts/demo.py "$@"
