#!/usr/bin/env bash
# M1 by hand: several kubedrain builds' initial sync of one simulator, in turn, round after round.
#
#   benches/m1-rounds.sh ROUNDS SIM_BIN BIN...
#
# Starts `SIM_BIN sim --nodes 5000 --pods-per-node 30` on CPU 0, waits 20 s past its kubeconfig
# (the controllers' first pass), then ROUNDS times launches each BIN on CPU 1 in a 200×50 tmux
# window (its own server, `-L m1rounds`) and prints, per launch: launch → `synced nodes` and
# `synced pods` both in its bench log, its user and system CPU and RSS at that moment, and the
# frames drawn until then (M4's real frames during sync: how many, the slowest).
# Taking turns spreads the host's drift over every build. Needs tmux and taskset; Linux only
# (/proc). Nothing is asserted: the figures go to docs/benchmarks.md by hand.
set -euo pipefail

ROUNDS=$1
SIM=$2
shift 2
DIR=$(mktemp -d)
KC=$DIR/kubeconfig
TMUX_SERVER=m1rounds

taskset -c 0 "$SIM" sim --nodes 5000 --pods-per-node 30 --kubeconfig-out "$KC" >"$DIR/sim.log" 2>&1 &
SIM_PID=$!
trap 'kill $SIM_PID 2>/dev/null; tmux -L $TMUX_SERVER kill-server 2>/dev/null; rm -rf "$DIR"' EXIT
until [ -s "$KC" ]; do sleep 0.5; done
sleep 20

one_sync() {
    local bin=$1 log=$DIR/bench.log t0 t1 pid u s rss
    rm -f "$log"
    t0=$(date +%s%N)
    tmux -L $TMUX_SERVER new-session -d -x 200 -y 50 \
        "KUBEDRAIN_BENCH_LOG=$log taskset -c 1 $bin --kubeconfig $KC; sleep 1"
    until [ -s "$log" ] && grep -q "synced pods" "$log" && grep -q "synced nodes" "$log"; do
        sleep 0.05
    done
    # The bench log's first column is the wall clock in nanoseconds.
    t1=$(grep -E "synced (pods|nodes)" "$log" | awk '{print $1}' | sort -n | tail -1)
    pid=$(pgrep -f "^$bin --kubeconfig $KC" | head -1)
    read -r u s < <(awk '{print $14/100, $15/100}' "/proc/$pid/stat")
    rss=$(awk '/VmRSS/{print int($2/1024)}' "/proc/$pid/status")
    frames=$(awk -v t1="$t1" '$2 == "frame" && $1 <= t1 {n++; if ($3 > m) m = $3}
        END {printf "%d frames, slowest %.2f ms", n, m / 1000}' "$log")
    echo "$(basename "$bin") synced $(((t1 - t0) / 1000000)) ms user $u s sys $s s rss $rss MB; $frames"
    tmux -L $TMUX_SERVER send-keys q
    sleep 1
    tmux -L $TMUX_SERVER kill-server 2>/dev/null || true
}

for _ in $(seq 1 "$ROUNDS"); do
    for bin in "$@"; do
        one_sync "$bin"
        sleep 2
    done
done
