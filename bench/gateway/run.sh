#!/usr/bin/env bash
# Benchmark of the cloud gateway's STDIO-to-HTTP adapter: echo calls to the
# npm reference server-everything, directly over stdio, through our gateway
# (shared and per-session), and through the npm bridges supergateway and
# mcp-proxy, on loopback, sequentially and with 8 concurrent sessions.
# Prints p50/p99 latency, calls/s, errors, misrouted responses, the
# bridges' peak RSS and the ratios against direct stdio.
#
#   bench/gateway/run.sh              # CALLS=2000 by default
#   CALLS=5000 bench/gateway/run.sh
#
# The bridges are installed with npm into $BENCH_NPM_DIR (default
# ~/.cache/mcp-agent-bench-gateway), not into the repository.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CALLS=${CALLS:-2000}
NPM_DIR=${BENCH_NPM_DIR:-$HOME/.cache/mcp-agent-bench-gateway}
SUPERGATEWAY_VERSION=4.0.0
MCP_PROXY_VERSION=6.7.19
EVERYTHING=$ROOT/.tools/node_modules/@modelcontextprotocol/server-everything/dist/index.js
NODE=$(command -v node)
[ -f "$EVERYTHING" ] || { echo "server-everything not installed: run scripts/test (or npm install in .tools) first" >&2; exit 1; }

WORK=$(mktemp -d)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT

if [ ! -x "$NPM_DIR/node_modules/.bin/supergateway" ] || [ ! -x "$NPM_DIR/node_modules/.bin/mcp-proxy" ]; then
	echo "installing supergateway@$SUPERGATEWAY_VERSION and mcp-proxy@$MCP_PROXY_VERSION into $NPM_DIR" >&2
	mkdir -p "$NPM_DIR"
	[ -f "$NPM_DIR/package.json" ] || echo '{"private":true}' >"$NPM_DIR/package.json"
	(cd "$NPM_DIR" && npm install --no-audit --no-fund --silent "supergateway@$SUPERGATEWAY_VERSION" "mcp-proxy@$MCP_PROXY_VERSION")
fi

echo "building the driver" >&2
(cd "$ROOT" && go build -o "$WORK/gatewaybench" ./bench/gateway)
BENCH=$WORK/gatewaybench
RESULTS=$WORK/results.jsonl
RSS=$WORK/rss.txt
: >"$RSS"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
	for _ in $(seq 1 200); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	echo "nothing listening on port $1" >&2
	return 1
}
# peak RSS (kB) of one process, without its children
peak_rss() { awk '/VmHWM/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

drive() { # name sessions concurrency [driver flags...]
	local name=$1 sessions=$2 conc=$3
	shift 3
	echo "  $name: $sessions session(s) x $conc caller(s)" >&2
	"$BENCH" drive -name "$name" -sessions "$sessions" -concurrency "$conc" -calls "$CALLS" "$@" >>"$RESULTS"
}

echo "direct stdio" >&2
drive direct-stdio 1 1 -- "$NODE" "$EVERYTHING" stdio
drive direct-stdio 8 1 -- "$NODE" "$EVERYTHING" stdio
drive direct-stdio 1 8 -- "$NODE" "$EVERYTHING" stdio

echo "HTTP floor (canned answers, no server)" >&2
"$BENCH" floor -addr 127.0.0.1:0 >"$WORK/floor.url" &
FL=$!
PIDS+=("$FL")
for _ in $(seq 1 100); do [ -s "$WORK/floor.url" ] && break; sleep 0.1; done
drive http-floor 1 1 -url "$(head -1 "$WORK/floor.url")" -protocol 2025-11-25
drive http-floor-2026 1 1 -url "$(head -1 "$WORK/floor.url")"
kill "$FL"; wait "$FL" 2>/dev/null || true

for mode in shared per-session; do
	echo "gateway ($mode)" >&2
	"$BENCH" serve -addr 127.0.0.1:0 -mode "$mode" -- "$NODE" "$EVERYTHING" stdio >"$WORK/gw.url" 2>"$WORK/gw.log" &
	GW=$!
	PIDS+=("$GW")
	for _ in $(seq 1 100); do [ -s "$WORK/gw.url" ] && break; sleep 0.1; done
	URL=$(head -1 "$WORK/gw.url")
	drive "gateway-$mode" 1 1 -url "$URL" -protocol 2025-11-25
	drive "gateway-$mode" 8 1 -url "$URL" -protocol 2025-11-25
	if [ "$mode" = shared ]; then
		drive "gateway-$mode-2026" 1 1 -url "$URL"
		drive "gateway-$mode-2026" 8 1 -url "$URL"
	fi
	echo "gateway-$mode $(peak_rss "$GW")" >>"$RSS"
	[ "$mode" = shared ] && echo "gateway-$mode-2026 $(peak_rss "$GW")" >>"$RSS"
	kill "$GW"; wait "$GW" 2>/dev/null || true
done

echo "supergateway (stateful Streamable HTTP)" >&2
PORT=$(free_port)
"$NPM_DIR/node_modules/.bin/supergateway" --stdio "$NODE $EVERYTHING stdio" --outputTransport streamableHttp --stateful \
	--port "$PORT" --logLevel none >"$WORK/sg.log" 2>&1 &
SG=$!
PIDS+=("$SG")
wait_port "$PORT"
drive supergateway 1 1 -url "http://127.0.0.1:$PORT/mcp"
drive supergateway 8 1 -url "http://127.0.0.1:$PORT/mcp"
echo "supergateway $(peak_rss "$SG")" >>"$RSS"
kill "$SG"; wait "$SG" 2>/dev/null || true

echo "supergateway (SSE)" >&2
PORT=$(free_port)
"$NPM_DIR/node_modules/.bin/supergateway" --stdio "$NODE $EVERYTHING stdio" --port "$PORT" --logLevel none >"$WORK/sgsse.log" 2>&1 &
SG=$!
PIDS+=("$SG")
wait_port "$PORT"
drive supergateway-sse 1 1 -sse -url "http://127.0.0.1:$PORT/sse"
drive supergateway-sse-shared 8 1 -sse -url "http://127.0.0.1:$PORT/sse" || true
echo "supergateway-sse $(peak_rss "$SG")" >>"$RSS"
echo "supergateway-sse-shared $(peak_rss "$SG")" >>"$RSS"
kill "$SG"; wait "$SG" 2>/dev/null || true

echo "mcp-proxy (Streamable HTTP)" >&2
PORT=$(free_port)
"$NPM_DIR/node_modules/.bin/mcp-proxy" --host 127.0.0.1 --port "$PORT" --server stream -- "$NODE" "$EVERYTHING" stdio >"$WORK/mp.log" 2>&1 &
MP=$!
PIDS+=("$MP")
wait_port "$PORT"
drive mcp-proxy 1 1 -url "http://127.0.0.1:$PORT/mcp"
drive mcp-proxy 8 1 -url "http://127.0.0.1:$PORT/mcp"
echo "mcp-proxy $(peak_rss "$MP")" >>"$RSS"
kill "$MP"; wait "$MP" 2>/dev/null || true

echo
echo "echo through server-everything ($("$NODE" --version)), $CALLS calls per run, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
"$BENCH" table -rss "$RSS" <"$RESULTS"
