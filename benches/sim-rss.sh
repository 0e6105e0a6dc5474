#!/usr/bin/env bash
# The built-in simulator at a generated size: start time, RSS, full pod list, RSS under churn.
#
#   benches/sim-rss.sh [BIN] [NODES] [PODS_PER_NODE] [CHURN_PER_S] [CHURN_SECONDS]
#
# BIN defaults to target/release/kubedrain (build it with `cargo build --release`). It prints:
#   start: launch → kubeconfig printed, and → the API answering a pod list (limit=1)
#   RSS (VmRSS) at start and 15 s later (the controllers index the store meanwhile), peak (VmHWM)
#   the full pod list: one unpaged JSON list, then a paged one (limit=500, as kubectl asks)
#   with CHURN_PER_S > 0: a second simulator with `--churn`, VmRSS every 30 s
# Linux only (/proc). Nothing is asserted: the figures go to docs/benchmarks.md by hand.
set -euo pipefail

BIN=${1:-target/release/kubedrain}
NODES=${2:-5000}
PER_NODE=${3:-30}
CHURN=${4:-0}
CHURN_SECS=${5:-300}

now() { date +%s.%N; }
since() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$1" "$2"; }
mem() { awk -v k="$2" '$1 == k":" { printf "%.0f MB", $2 / 1024 }' "/proc/$1/status"; }
# CPU seconds (user + system) a process has used: on a busy machine wall time says little.
cpu() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.1f", ($14 + $15) / hz }' "/proc/$1/stat"; }

# Starts a simulator; sets PID, URL, T0, T_PRINTED, OUT.
start_sim() {
    OUT=$(mktemp)
    T0=$(now)
    # Plain HTTP: the probes below are curl and urllib without the CA or the token.
    "$BIN" sim --plain-http --nodes "$NODES" --pods-per-node "$PER_NODE" "$@" >"$OUT" 2>&1 &
    PID=$!
    until grep -q '^export KUBECONFIG' "$OUT"; do
        kill -0 "$PID" 2>/dev/null || { cat "$OUT"; exit 1; }
        sleep 0.02
    done
    T_PRINTED=$(now)
    CPU_PRINTED=$(cpu "$PID")
    URL=$(sed -n 's/.*listening on \(http[^ ]*\).*/\1/p' "$OUT" | head -1)
}

stop_sim() {
    kill -INT "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
    rm -f "$OUT"
}

echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); load: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs"
echo "binary: $BIN; cluster: $NODES nodes × $PER_NODE pods"
start_sim
until curl -sf -o /dev/null "$URL/api/v1/pods?limit=1"; do sleep 0.02; done
T_ANSWER=$(now)
echo "start: kubeconfig printed after $(since "$T0" "$T_PRINTED") s ($CPU_PRINTED s CPU), API answering after $(since "$T0" "$T_ANSWER") s"
echo "RSS at start: $(mem "$PID" VmRSS)"
sleep 15
echo "RSS 15 s later: $(mem "$PID" VmRSS) (peak $(mem "$PID" VmHWM)); $(cpu "$PID") s CPU so far"
for i in 1 2; do
    curl -s -o /dev/null -w "full pod list (unpaged JSON) #$i: %{time_total} s, %{size_download} bytes\n" \
        "$URL/api/v1/pods"
done
python3 - "$URL" <<'EOF'
import re, sys, time, urllib.request
url, token, pages, t = sys.argv[1], "", 0, time.time()
while True:
    q = f"{url}/api/v1/pods?limit=500" + (f"&continue={token}" if token else "")
    head = urllib.request.urlopen(q).read()
    pages += 1
    m = re.search(rb'"continue":"([^"]+)"', head[:512])
    if not m:
        break
    token = m.group(1).decode()
print(f"full pod list (paged, limit 500): {time.time() - t:.2f} s, {pages} pages")
EOF
echo "RSS after the lists: $(mem "$PID" VmRSS) (peak $(mem "$PID" VmHWM))"
stop_sim

if [ "$CHURN" != 0 ]; then
    start_sim --churn "$CHURN"
    echo "churn: $CHURN pod changes/s for $CHURN_SECS s"
    for ((s = 0; s <= CHURN_SECS; s += 30)); do
        echo "  t=${s}s VmRSS $(mem "$PID" VmRSS)"
        [ "$s" -lt "$CHURN_SECS" ] && sleep 30
    done
    echo "  peak $(mem "$PID" VmHWM)"
    stop_sim
fi
