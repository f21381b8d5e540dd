#!/usr/bin/env bash
# Does `serve --http-threads N` pay on a machine with idle cores? (issue 18,
# item 5). Runs hello (1 replica, and 4 replicas so Python is not the limit)
# and overload (the 503 path) at 256 connections with 0, 2, 4 and 8 front-door
# threads, and bare node:http with 1, 2, 4 and 8 threads as the ceiling. The
# server and its workers run on cores 0..S-1, wrk on the cores after them
# (taskset), so the load generator never competes with the server.
#
#   OUT=/tmp/threads bash bench/threads-scaling.sh      # needs ≥ 8 cores, wrk, dist/ built
#
# On the device machine (no npm, no apt): carry .devcarry/nm.tar.xz (node and
# the runtime dependencies) and .devcarry/wrk (wrk and libluajit unpacked from
# Debian's packages); both are unpacked/used when present.
set -u
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"
cd "$(dirname "$0")/.."
[ -f .devcarry/nm.tar.xz ] && [ ! -x node_modules/.bin/node ] && tar -xJf .devcarry/nm.tar.xz
if [ -d .devcarry/wrk ]; then
  export PATH="$PWD/.devcarry/wrk/usr/bin:$PATH"
  export LD_LIBRARY_PATH="$PWD/.devcarry/wrk/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
NODE=node_modules/.bin/node
CORES=$(nproc)
WRK_CORES=${WRK_CORES:-4}
SERVER_CORES=$((CORES - WRK_CORES))
SERVER_SET="0-$((SERVER_CORES - 1))"
WRK_SET="$SERVER_CORES-$((CORES - 1))"
WARMUP=${WARMUP:-2}
DURATION=${DURATION:-8}
CONNS=${CONNS:-256}
PY=${PYTHON:-python3}
{
  echo "cores: $CORES (server on $SERVER_SET, wrk -t$WRK_CORES on $WRK_SET); $CONNS connections; ${WARMUP}s warm-up + ${DURATION}s"
  grep -m1 'model name' /proc/cpuinfo
  $NODE --version; $PY --version; wrk --version 2>&1 | head -1
} | tee "$OUT/machine.txt"

TMP=$(mktemp -d)
LOGS="$TMP/logs"   # tarred into $OUT at the end: the device tool returns at most 8 files
mkdir -p "$LOGS"
echo '{"name": "cortex"}' > "$TMP/hello.json"
echo '{"n": 1}' > "$TMP/n.json"
mkdir -p "$TMP/hello4"
cp examples/hello/predictor.py "$TMP/hello4/"
cat > "$TMP/hello4/cortex.yaml" <<EOF
- name: hello
  predictor:
    type: python
    path: predictor.py
    config:
      greeting: Hello
  autoscaling:
    min_replicas: 4
    max_replicas: 4
    init_replicas: 4
EOF

wait_line() { # file pattern count
  for _ in $(seq 1 600); do
    [ "$(grep -c "$2" "$1" 2>/dev/null)" -ge "$3" ] && return 0
    sleep 0.1
  done
  echo "timed out waiting for '$2' in $1" >&2; tail -20 "$1" >&2; return 1
}

# run_wrk LABEL URL BODY: warm-up, then the measured run; appends a JSON line to results
run_wrk() {
  WRK_BODY_FILE=$3 taskset -c "$WRK_SET" wrk -t"$WRK_CORES" -c"$CONNS" -d"${WARMUP}s" -s bench/wrk/post.lua "$2" > /dev/null 2>&1
  WRK_BODY_FILE=$3 taskset -c "$WRK_SET" wrk -t"$WRK_CORES" -c"$CONNS" -d"${DURATION}s" -s bench/wrk/post.lua "$2" > "$LOGS/wrk-$1.txt" 2>&1
  local json
  json=$(grep '^WRK_JSON' "$LOGS/wrk-$1.txt" | sed 's/^WRK_JSON //')
  echo "{\"label\": \"$1\", \"wrk\": ${json:-null}}" >> "$OUT/results.jsonl"
}

cortex_cell() { # LABEL PROJECT THREADS ENDPOINT BODY READY_COUNT
  local log="$LOGS/serve-$1.log"
  taskset -c "$SERVER_SET" $NODE dist/cli.js serve "$2" --port 0 --python "$PY" --http-threads "$3" > "$log" 2>&1 &
  local pid=$!
  if wait_line "$log" "ready at" 1; then
    local port
    port=$(grep -m1 -o 'ready at http://127.0.0.1:[0-9]*' "$log" | sed 's/.*://')
    # every replica ready before measuring (the line above is the first one)
    for _ in $(seq 1 300); do
      [ "$(curl -s "http://127.0.0.1:$port$4" | grep -o '"ready":[0-9]*' | head -1 | cut -d: -f2)" -ge "$6" ] 2>/dev/null && break
      sleep 0.1
    done
    run_wrk "$1" "http://127.0.0.1:$port$4" "$5"
  fi
  kill -TERM $pid; wait $pid
}

bare_cell() { # LABEL THREADS
  local log="$LOGS/bare-$1.log"
  taskset -c "$SERVER_SET" $NODE bench/baselines/bare-node.ts --port 0 --threads "$2" > "$log" 2>&1 &
  local pid=$!
  if wait_line "$log" "listening" 1; then
    run_wrk "$1" "http://127.0.0.1:$(grep -m1 -o 'listening [0-9]*' "$log" | cut -d' ' -f2)/" "$TMP/hello.json"
  fi
  kill -TERM $pid; wait $pid 2>/dev/null
}

rm -f "$OUT/results.jsonl"
for t in 0 2 4 8; do cortex_cell "hello-1r-t$t" bench/apis/hello "$t" /hello "$TMP/hello.json" 1; done
for t in 0 2 4 8; do cortex_cell "hello-4r-t$t" "$TMP/hello4" "$t" /hello "$TMP/hello.json" 4; done
for t in 0 2 4 8; do cortex_cell "overload-t$t" bench/apis/slow "$t" /slow "$TMP/n.json" 1; done
for t in 1 2 4 8; do bare_cell "bare-t$t" "$t"; done

tar -czf "$OUT/logs.tar.gz" -C "$TMP" logs
$PY - "$OUT/results.jsonl" <<'EOF' | tee "$OUT/threads.md"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
by = {r["label"]: r["wrk"] for r in rows}
def rate(w, key="requests"):
    return w[key] / (w["duration_us"] / 1e6) if w else float("nan")
def ok_rate(w):
    return (w["requests"] - w["status"]) / (w["duration_us"] / 1e6) if w else float("nan")
print("| case | threads | req/s | 2xx/s | non-2xx/s | p50 ms | p99 ms | socket errors | ratio to 0 threads (or 1 for bare) |")
print("|---|---|---|---|---|---|---|---|---|")
for case, ts, base in (("hello-1r", (0, 2, 4, 8), 0), ("hello-4r", (0, 2, 4, 8), 0), ("overload", (0, 2, 4, 8), 0), ("bare", (1, 2, 4, 8), 1)):
    b = by.get("%s-t%d" % (case, base))
    for t in ts:
        w = by.get("%s-t%d" % (case, t))
        if not w:
            print("| %s | %d | failed | | | | | | |" % (case, t)); continue
        key = "status" if case == "overload" else "requests"
        ratio = rate(w, key) / rate(b, key) if b else float("nan")
        print("| %s | %d | %.0f | %.0f | %.0f | %.2f | %.2f | %d | %.2f× |" % (
            case, t, rate(w), ok_rate(w), rate(w, "status"), w["p50_us"] / 1000, w["p99_us"] / 1000,
            w["connect"] + w["read"] + w["write"] + w["timeout"], ratio))
EOF
