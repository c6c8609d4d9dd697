#!/bin/sh
# Browser tests and static export drive Debian's Chromium. Install it when missing
# (needs root and apt), otherwise say exactly what to do.
set -e
if [ -x /usr/bin/chromium ]; then
    exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Chromium for the browser tests (apt-get)..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
    exit 0
fi
echo "Chromium is missing: install it with 'sudo apt-get install chromium' (browser tests need /usr/bin/chromium)." >&2
exit 1
