#!/usr/bin/env bash
# Measures GET /api/v1/shop on a custom domain through the gateway (release build, embedded
# backends) and the same response from a bare axum handler, with wrk over loopback.
# Usage: bench/run.sh [seconds] [connections]   — prints a Markdown table for PERFORMANCE.md.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-15}
connections=${2:-32}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/mercato-target}"

if ! command -v wrk >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
[ "${SKIP_BUILD:-}" = 1 ] || cargo build --release -q -p mercato-bench
log=$(mktemp)
"$CARGO_TARGET_DIR/release/gateway-bench" 2>"$log" &
server=$!
trap 'kill $server 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 120); do grep -q '^READY' "$log" && break; sleep 0.5; done
ready=$(grep '^READY' "$log") || { cat "$log" >&2; exit 1; }
gateway=$(sed -E 's/.*gateway=([^ ]+).*/\1/' <<<"$ready")
bare=$(sed -E 's/.*bare=([^ ]+).*/\1/' <<<"$ready")
host=$(sed -E 's/.*host=([^ ]+).*/\1/' <<<"$ready")

measure() { # name address
  local out rps p50 p99
  wrk -t2 -c"$connections" -d"${seconds}s" --latency -H "Host: $host" "http://$2/api/v1/shop" >/dev/null # warm-up run discarded below
  out=$(wrk -t2 -c"$connections" -d"${seconds}s" --latency -H "Host: $host" "http://$2/api/v1/shop")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  printf '| %s | %s | %s | %s | %s |\n' "$1" "$rps" "$p50" "$p99" "${non2xx:-0}"
}

echo "wrk -t2 -c$connections -d${seconds}s, $(nproc) cores, $(date -u +%Y-%m-%d)"
echo
echo "| target | requests/s | p50 | p99 | non-2xx |"
echo "|---|---|---|---|---|"
measure "gateway: GET /api/v1/shop on a custom domain" "$gateway"
measure "bare axum handler, same body (ceiling)" "$bare"
