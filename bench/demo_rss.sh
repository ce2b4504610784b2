#!/usr/bin/env bash
# RSS of `pingan demo` over a run: samples VmRSS every second, prints the max of the whole run,
# the max once start-up is over (from the 11th second: the gateway gives start-up's memory back
# 5 s after it starts, gateway/src/cold_pages.rs) and the mean. MB here are MiB (VmRSS kB / 1024).
# Usage: bench/demo_rss.sh [seconds=60]   (builds the release binary first)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
secs=${1:-60}
cargo build --release --locked -p pingan-gateway --bin pingan >/dev/null
mqtt=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
http=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
data=$(mktemp -d)
./target/release/pingan demo --duration "${secs}s" --mqtt-port "$mqtt" --http-port "$http" --data-dir "$data" >"$data/demo.log" 2>&1 &
pid=$!
samples=()
while kill -0 "$pid" 2>/dev/null; do
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
  [[ -n $rss ]] && samples+=("$rss")
  sleep 1
done
printf '%s\n' "${samples[@]}" | awk '{s+=$1; if($1>m)m=$1; if(NR>10 && $1>w)w=$1} END {printf "demo RSS over %d samples: max %.1f MB, after start-up (from the 11th s) max %.1f MB, mean %.1f MB\n", NR, m/1024, w/1024, s/NR/1024}'
grep -E "stopped after" "$data/demo.log"
rm -rf "$data"
