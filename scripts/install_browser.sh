#!/usr/bin/env bash
# Install Debian's `chromium` for the board's browser test (Playwright drives it; Playwright never
# downloads a browser here). Idempotent: does nothing when /usr/bin/chromium is already present.
set -euo pipefail

CHROMIUM="${RACEWATCH_CHROMIUM:-/usr/bin/chromium}"

if [ -x "$CHROMIUM" ]; then
  echo "install_browser: $CHROMIUM already installed ($("$CHROMIUM" --version 2>/dev/null || echo 'version unknown'))"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    exec sudo -n bash "$0" "$@"
  fi
  echo "install_browser: $CHROMIUM is missing and this needs root to install it." >&2
  echo "  run: sudo apt-get update && sudo apt-get install -y --no-install-recommends chromium" >&2
  echo "  (the browser test skips itself until then)" >&2
  exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install_browser: apt-get not found; install Chromium with your package manager so that $CHROMIUM exists." >&2
  exit 1
fi

echo "install_browser: installing Debian's chromium package..."
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null
echo "install_browser: installed $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
