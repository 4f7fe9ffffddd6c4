#!/usr/bin/env bash
# A/B of postcache variants, one fresh server at a time (the way bench/findings.md measured them):
# each server pinned to core 0, wrk and the origin to core 1; optionally a store filled first; then
# 2 s of warm-up and 4 s measured. Prints req/s, server CPU µs per request (/proc), p50 and p99.
#
#   bench/ab.sh hit|miss|slow BYTES ADAPTER...      ADAPTER: a copy of adapters/bun.ts, "repo", or "naive"
#   PREFILL=8 REPS=3 bench/ab.sh hit 1024 repo /tmp/copy/adapters/bun.ts
#
# PREFILL=S sends S seconds of unique 1 KiB bodies first (about 90k: the 64 MiB store at its cap).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=$1 bytes=$2
shift 2
bun=node_modules/.bin/bun
command -v wrk >/dev/null || "$bun" -e 'import { ensureTools } from "./bench/install.ts"; ensureTools();'
port() { "$bun" -e 'const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } }); console.log(s.port); s.stop(true);'; }
wrk_() { BODY_BYTES=$1 UNIQUE=$2 SALT=$3 taskset -c 1 wrk -t1 -c16 -d"$4"s -s bench/wrk/post.lua "$5"; }
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
origin_port=$(port)
PORT=$origin_port setpriv --pdeathsig TERM taskset -c 1 "$bun" bench/origin.ts >/dev/null &
pids+=($!)
sleep 0.5
path=/api/search unique=0
[ "$mode" = miss ] && unique=1
[ "$mode" = slow ] && unique=1 path=/slow/search
for rep in $(seq "${REPS:-3}"); do
  for adapter in "$@"; do
    server_port=$(port)
    script=bench/postcache-server.ts env=()
    [ "$adapter" = naive ] && script=bench/naive-proxy.ts
    [ "$adapter" != naive ] && [ "$adapter" != repo ] && env=(POSTCACHE_ADAPTER="$adapter")
    env "${env[@]}" PORT="$server_port" ORIGIN="http://127.0.0.1:$origin_port" setpriv --pdeathsig TERM taskset -c 0 "$bun" "$script" >/dev/null &
    pid=$!
    pids+=("$pid")
    sleep 0.5
    url="http://127.0.0.1:$server_port"
    [ -n "${PREFILL:-}" ] && wrk_ 1024 1 "p$rep$RANDOM" "$PREFILL" "$url/api/search" >/dev/null
    wrk_ "$bytes" "$unique" "w$rep$RANDOM" 2 "$url$path" >/dev/null
    t0=$(awk '{print $14+$15}' "/proc/$pid/stat")
    out=$(wrk_ "$bytes" "$unique" "m$rep$RANDOM" 4 "$url$path" | grep RESULT)
    t1=$(awk '{print $14+$15}' "/proc/$pid/stat")
    n=$(grep -o '"requests":[0-9]*' <<<"$out" | cut -d: -f2)
    p50=$(grep -o '"p50":[0-9]*' <<<"$out" | cut -d: -f2)
    p99=$(grep -o '"p99":[0-9]*' <<<"$out" | cut -d: -f2)
    # /proc/<pid>/stat counts clock ticks of 10 ms (getconf CLK_TCK = 100).
    awk -v m="$mode" -v b="$bytes" -v a="$adapter" -v n="$n" -v t="$((t1 - t0))" -v p50="$p50" -v p99="$p99" 'BEGIN {
      printf "%s %s %s  %d req/s  %.1f µs CPU/req  p50 %.2f ms  p99 %.2f ms\n", m, b, a, n / 4, t * 10000 / n, p50 / 1000, p99 / 1000 }'
    kill "$pid"
    wait "$pid" 2>/dev/null || true
  done
done
