#!/usr/bin/env bash
# Training and batch-1 decoding throughput of xlstm4j and of its PyTorch peer (bench/pytorch/xlstm_peer.py, Debian's
# python3-torch on OpenBLAS) on the same presets with the same thread count, run alternately on this machine, with
# the ratios and the official implementation's reference figures (docs/PERFORMANCE.md).
#
#   bench/compare.sh                                   # all presets, train and decode, all cores, 2 rounds each
#   bench/compare.sh --presets "m-small ms-small" --modes train --threads 2 --rounds 3
#
# Each figure is the median over rounds of each tool's own median (over steps or decode runs); the spread over
# rounds is printed too. The load average is printed before and after, since the machine may be shared.
# The peer runs with OMP_WAIT_POLICY=PASSIVE unless set otherwise: with OpenMP's default spin-waiting, PyTorch on two
# threads collapses (5 instead of 400 decode tokens/s) as soon as another process holds one of the two cores.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
presets="m-tiny ms-tiny s-tiny m-small ms-small"
modes="train decode"
threads=$(nproc)
rounds=2
steps=6
py=/usr/bin/python3
while [ $# -gt 0 ]; do
  case "$1" in
    --presets) presets="$2"; shift 2 ;;
    --modes) modes="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --steps) steps="$2"; shift 2 ;;
    --python) py="$2"; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "compare.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
"$py" -c 'import torch' 2>/dev/null || {
  echo "compare.sh: $py cannot import torch; install it with: apt-get install -y python3-torch libopenblas0-pthread" >&2; exit 1; }

# build through the launcher (it compiles when sources changed), then call the benchmark classes directly
"$root/xlstm" --version >/dev/null
. "$root/scripts/java-env.sh"
xlstm_find_java
java=("$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC
      ${XLSTM_JAVA_OPTS:-} -cp "$root/target/classes:$root/target/lib/*")

tps() { sed -n 's/.*throughput: \([0-9.]*\) tokens\/s median.*/\1/p' | head -n 1; }
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {if (NR==0) print "nan"; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
spread() { tr ' ' '\n' | grep -v '^$' | sort -g | awk 'NR==1{lo=$1} {hi=$1} END {printf "%s–%s", lo, hi}'; }
official() {  # reference figures of the official implementation on this kind of machine (train / decode tokens/s)
  case "$1/$2" in
    m-tiny/train) echo 1614 ;; m-tiny/decode) echo 170 ;;
    m-small/train) echo 517 ;; m-small/decode) echo 16 ;;
    ms-small/train) echo 164 ;; ms-small/decode) echo 22 ;;
    *) echo "-" ;;
  esac
}

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; threads $threads; $(date -u +%Y-%m-%dT%H:%MZ)"
echo "torch: $("$py" -c 'import torch; print(torch.__version__)') (OMP_WAIT_POLICY=$OMP_WAIT_POLICY); java: $("${java[0]}" -version 2>&1 | head -n 1)"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-9s %-6s %12s %14s %9s %10s %10s   %s\n' preset mode "xlstm4j" "PyTorch peer" ratio official "vs offic." "spread over rounds (xlstm4j | peer)"
for p in $presets; do
  for m in $modes; do
    ours="" theirs=""
    for ((r = 0; r < rounds; r++)); do
      if [ "$m" = train ]; then
        o=$("${java[@]}" org.xlstm4j.cli.BenchTrainCommand --preset "$p" --threads "$threads" --steps "$steps" 2>&1 | tps)
        t=$("$py" "$root/bench/pytorch/xlstm_peer.py" train --preset "$p" --threads "$threads" --steps 3 --warmup 1 2>&1 | tps)
      else
        o=$("${java[@]}" org.xlstm4j.cli.BenchDecodePresetSupport "$p" "$threads" 256 5 256 2>&1 | tps)
        t=$("$py" "$root/bench/pytorch/xlstm_peer.py" decode --preset "$p" --threads "$threads" --tokens 32 --runs 3 --warmup 8 2>&1 | tps)
      fi
      ours="$ours ${o:-}" theirs="$theirs ${t:-}"
    done
    mo=$(echo "$ours" | median) mt=$(echo "$theirs" | median) off=$(official "$p" "$m")
    ratio=$(awk -v a="$mo" -v b="$mt" 'BEGIN {if (b > 0) printf "%.1f×", a / b; else print "-"}')
    voff=$(awk -v a="$mo" -v b="$off" 'BEGIN {if (b + 0 > 0) printf "%.1f×", a / b; else print "-"}')
    printf '%-9s %-6s %12s %14s %9s %10s %10s   %s | %s\n' "$p" "$m" "$mo" "$mt" "$ratio" "$off" "$voff" \
      "$(echo "$ours" | spread)" "$(echo "$theirs" | spread)"
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
