#!/usr/bin/env bash
# Modbus throughput in one command: values/s from a pymodbus TCP simulator (>= 500 points)
# through `pingan run` to its embedded MQTT broker (counted by a subscriber), and CPU seconds
# per 1000 values of the pingan process; then the driver alone in-process: to no broker, to the
# embedded broker, and to a private Mosquitto.
#
#   bench/modbus_throughput.sh                 # 4 devices x 128 points, poll 5 ms, 10 s
#   bench/modbus_throughput.sh --devices 8 --points 250 --json
#
# Needs scripts/setup (the .venv with pymodbus) and Debian's mosquitto.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cargo build --release -q -p pingan-bench --bin modbus_throughput -p pingan-gateway --bin pingan
bin="${CARGO_TARGET_DIR:-$root/target}/release/modbus_throughput"
echo "== the whole gateway: pingan run (driver, pipeline, store) to its embedded broker"
"$bin" --gateway "$@"
echo "== driver only (reading sink)"
"$bin" --broker none "$@"
echo "== to the embedded broker"
"$bin" --broker embedded "$@"
if command -v mosquitto >/dev/null; then
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  conf=$(mktemp)
  printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$port" > "$conf"
  mosquitto -c "$conf" >/dev/null 2>&1 &
  mpid=$!
  trap 'kill "$mpid" 2>/dev/null; rm -f "$conf"' EXIT
  for _ in $(seq 50); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.1)" 2>/dev/null && break
    sleep 0.1
  done
  echo "== to Mosquitto 127.0.0.1:$port"
  "$bin" --broker "127.0.0.1:$port" "$@"
fi
