#!/usr/bin/env bash
# Installs everything revertlm needs on a fresh Debian machine and builds it.
# System packages need root (CI runs as root); set SKIP_APT=1 to skip them.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${SKIP_APT:-0}" != "1" ]; then
  SUDO=""
  if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
  # libopenblas0-pthread is named on purpose: Debian's libtorch only recommends it, and
  # without it libtorch falls back to the reference BLAS (~15x slower).
  PKGS="libtorch-dev libopenblas0-pthread python3-torch python3-sklearn g++ make python3 iproute2 chromium"
  missing=""
  for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
  if [ -n "$missing" ]; then
    $SUDO apt-get update
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends $missing
  fi
fi

npm ci --no-audit --no-fund
npm run build
