#!/usr/bin/env bash
# Where hello's p99 at one connection comes from (issue 18, item 2): how often
# a server stalls, counted per request as it went, against wrk's p99, which
# corrects for coordinated omission and so turns the share of time spent in
# stalls into its p99 (bench/results/perf-findings.md §2). Each round starts
# cortex-local (bin/cortex-local serve), bare-bridge (node:http straight onto
# one worker: the two-process floor) and fastapi-min (one uvicorn process), one
# after another on fresh servers: 3 × 4 s of wrk as the bench's first-cell
# warm-up, 6 s of bench/closed-loop.c (uncorrected latencies, the stalls over
# 0.5 and 1 ms), then 6 s of wrk.
#
#   bash bench/stalls.sh [ROUNDS, default 3]      # needs wrk, cc, dist/ built, bench/.venv (npm run bench sets it up)
set -eu
ROUNDS=${1:-3}
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=$ROOT/bench/.venv/bin/python
NODE_FLAGS="--initial-old-space-size=64 --v8-pool-size=1"   # bench/lib/systems.ts gives the Node baselines bin/cortex-local's flags
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cc -O2 -o "$TMP/closed-loop" bench/closed-loop.c
echo '{"name": "cortex"}' > "$TMP/hello.json"

wait_for() { # file pattern
  for _ in $(seq 1 300); do grep -q "$2" "$1" && return 0; sleep 0.2; done
  echo "no '$2' in $1:" >&2; cat "$1" >&2; return 1
}

measure() { # label port
  local url=http://127.0.0.1:$2/hello
  for _ in 1 2 3; do WRK_BODY_FILE=$TMP/hello.json wrk -t1 -c1 -d4s -s bench/wrk/post.lua "$url" > /dev/null; done
  "$TMP/closed-loop" "$2" hello 6 500 > "$TMP/cl.out"
  WRK_BODY_FILE=$TMP/hello.json wrk -t1 -c1 -d6s -s bench/wrk/post.lua "$url" | sed -n 's/^WRK_JSON //p' > "$TMP/wrk.json"
  python3 - "$1" "$TMP/cl.out" "$TMP/wrk.json" <<'PY'
import json, re, sys
label, cl, wrk = sys.argv[1], open(sys.argv[2]).read(), json.load(open(sys.argv[3]))
slow = [float(x) for x in re.findall(r"^slow ([\d.]+) ms", cl, re.M)]
s = re.search(r"requests (\d+)  req/s (\d+) .* p50 ([\d.]+) .* p99 ([\d.]+) ", cl)
n = int(s.group(1))
mid = sum(1 for x in slow if x < 1)
print(f"| {label} | {s.group(2)} | {float(s.group(3)):.0f} | {float(s.group(4)):.0f} | {mid} | {len(slow) - mid} | "
      f"{len(slow) / n * 1e3:.2f} | {sum(slow) / 6e3 * 100:.2f} % | {wrk['requests'] / (wrk['duration_us'] / 1e6):.0f} | {wrk['p50_us']} | {wrk['p99_us']} |")
PY
}

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

echo "hello, 1 connection; $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)); closed-loop 6 s, then wrk 6 s"
echo
echo "| system | closed-loop req/s | p50 µs | p99 µs | stalls 0.5–1 ms | stalls > 1 ms | stalls per 1,000 requests | time in stalls | wrk req/s | wrk p50 µs | wrk p99 µs |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for _ in $(seq 1 "$ROUNDS"); do
  bin/cortex-local serve bench/apis/hello --port 0 --python "$PY" > "$TMP/server.log" 2>&1 &
  pid=$!
  wait_for "$TMP/server.log" 'ready at'
  measure cortex-local "$(grep -o 'ready at http://[^/]*' "$TMP/server.log" | head -1 | grep -o '[0-9]*$')"
  kill -INT $pid; wait $pid || true

  node $NODE_FLAGS bench/baselines/bare-bridge.ts --predictor bench/apis/hello/predictor.py --config '{"greeting":"Hello"}' --python "$PY" > "$TMP/server.log" 2>&1 &
  pid=$!
  wait_for "$TMP/server.log" '^listening'
  measure bare-bridge "$(sed -n 's/^listening //p' "$TMP/server.log")"
  kill $pid; wait $pid || true

  port=$(free_port)
  "$PY" bench/baselines/fastapi_server.py --predictor bench/apis/hello/predictor.py --config '{"greeting":"Hello"}' \
    --endpoint /hello --port "$port" --workers 1 --threads 1 --style minimal > "$TMP/server.log" 2>&1 &
  pid=$!
  up=no
  for _ in $(seq 1 300); do curl -s -o /dev/null -X POST -d '{"name": "x"}' "http://127.0.0.1:$port/hello" && { up=yes; break; }; sleep 0.2; done
  [ $up = yes ] || { echo "fastapi-min did not answer:" >&2; cat "$TMP/server.log" >&2; exit 1; }
  measure fastapi-min "$port"
  kill $pid; wait $pid || true
done
