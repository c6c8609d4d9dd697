#!/bin/sh
# System programs the tests drive: Debian's Chromium (browser tests, static export), redis-server
# (the Celery background-job test), the DejaVu fonts (GIF text) and npm (builds the pages'
# plotly.js bundle). Install the missing ones (needs root and apt), otherwise say exactly what to do.
set -e
missing=""
[ -x /usr/bin/chromium ] || missing="$missing chromium chromium-driver"
command -v redis-server >/dev/null 2>&1 || missing="$missing redis-server"
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing="$missing fonts-dejavu-core"
command -v npm >/dev/null 2>&1 || missing="$missing nodejs npm"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing for the tests:$missing (apt-get)..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
    exit 0
fi
echo "Missing for the tests:$missing. Install with: sudo apt-get install$missing" >&2
exit 1
