#!/usr/bin/env bash
# Side by side in one command: Pingan, Node-RED 5.0.7 + node-red-contrib-modbus 5.60.2 and
# ThingsBoard IoT Gateway 3.8.5 read the same pymodbus simulator (500 holding registers, each
# changing every 100 ms) and publish to the same Mosquitto; one subscriber measures values/s,
# change -> receipt latency; CPU and RSS of each gateway's process tree come from /proc.
#
#   bench/peers/run.sh                                   # the full sitting (~12 min)
#   bench/peers/run.sh --seconds 10 --idle-seconds 10 --settle-seconds 3   # a smoke run
#   bench/peers/run.sh --gateways pingan --polls-ms 100 --idle-poll-ms 0 --perf-poll-ms 100
#   (every option: target/release/side_by_side --help)
#
# On first use it installs the peers into bench/peers (node_modules, .venv-tb; both ignored by
# git) from npm and PyPI, and everything else the benchmark needs via scripts/setup (Debian's
# mosquitto, the .venv with pymodbus). All traffic stays on 127.0.0.1, ports are ephemeral.
set -euo pipefail
peers=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$peers/../.." && pwd)
cd "$root"

./scripts/setup >/dev/null

# Node-RED and contrib-modbus with Node 22 from npm (the `node` package; Debian's is older).
# contrib-modbus points at a tarball outside the registry: package.json overrides it with
# modbus-serial 8.0.25 from npm.
stamp="$peers/node_modules/.lock.sha256"
want=$(sha256sum "$peers/package-lock.json" | cut -d' ' -f1)
if [[ ! -x $peers/node_modules/node/bin/node || ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  echo "run.sh: installing Node-RED into bench/peers/node_modules (npm)"
  (cd "$peers" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$want" >"$stamp"
fi

# ThingsBoard IoT Gateway from PyPI, with the exact Modbus libraries its connector wants.
venv="$peers/.venv-tb"
req="$peers/requirements-tb.txt"
stamp="$venv/.requirements.sha256"
want=$(sha256sum "$req" | cut -d' ' -f1)
if [[ ! -x $venv/bin/python || ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  echo "run.sh: installing ThingsBoard IoT Gateway into bench/peers/.venv-tb (PyPI)"
  # Afresh: a venv made by another Python cannot be upgraded in place. Debian's Python when
  # there is one (python3-venv comes from scripts/setup).
  rm -rf "$venv"
  py=/usr/bin/python3; [[ -x $py ]] || py=python3
  "$py" -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$req"
  echo "$want" >"$stamp"
fi

if [[ " $* " == *" --perf-poll-ms "* ]] && ! command -v perf >/dev/null; then
  echo "run.sh: installing linux-perf (Debian)"
  sudo=""; [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends linux-perf
fi

cargo build --release -q -p pingan-gateway --bin pingan -p pingan-bench --bin side_by_side
exec "${CARGO_TARGET_DIR:-$root/target}/release/side_by_side" --peers "$peers" "$@"
