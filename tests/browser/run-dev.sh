#!/usr/bin/env bash
# Runs the browser test against the dashboard development server
# (gateway/examples/dashboard_dev.rs). Usage: tests/browser/run-dev.sh
# Needs: cargo, node, /usr/bin/chromium, `npm ci` done in tests/browser.
# Live mode: PINGAN_DEV_SOS_DELAY_MS=5000 PINGAN_SOS_TIMEOUT_MS=8000 tests/browser/run-dev.sh
# raises the SOS after the browser has logged in, so it arrives over the event stream.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
cargo build -q -p pingan-gateway --example dashboard_dev
out="$(mktemp)"
"$target/debug/examples/dashboard_dev" >"$out" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -f "$out"' EXIT
for _ in $(seq 50); do grep -q '^password=' "$out" && break; sleep 0.1; done
export PINGAN_URL="$(sed -n 's/^url=//p' "$out")"
export PINGAN_USER="$(sed -n 's/^user=//p' "$out")"
export PINGAN_PASSWORD="$(sed -n 's/^password=//p' "$out")"
if [ -z "${PINGAN_DEV_SOS_DELAY_MS:-}" ]; then sleep 1.2; fi # default: SOS 1 s after start
node "$here/e2e.mjs" | tee "$out.e2e"
id="$(sed -n 's/^E2E_RESULT .*"sos_alert_id":"\([0-9A-Z]*\)".*/\1/p' "$out.e2e")"
rm -f "$out.e2e"
# The dev server prints what the gateway would publish on MQTT: the SOS must be acknowledged.
if grep "^alert pingan/demo/alerts/$id " "$out" | grep -q '"state":"acknowledged"'; then
  echo "published: $id acknowledged"
else
  echo "no acknowledged revision of $id was published" >&2
  exit 1
fi
