#!/usr/bin/env bash
# Installs everything sealpod and its tests need on Debian 12 (run as root), then the
# project itself into ./.venv.  Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
    python3 python3-venv python3-pip ca-certificates
    runc conmon catatonit uidmap fuse-overlayfs slirp4netns netavark aardvark-dns iproute2 iptables
    busybox-static docker-registry apache2-utils openssl skopeo libarchive13
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
# Byte-compile now: a user's first `sealpod` call should not pay for it.
.venv/bin/python -m compileall -q src >/dev/null
echo "setup: done (sealpod is .venv/bin/sealpod)"
