#!/bin/bash
# Throughput of one 2-thread training process vs two 1-thread processes (mini, single-site, 160 steps each).
D=$(realpath "${1:?usage: bash bench/jobs-throughput.sh <prepared single-site folder>}")
cd "$(dirname "$0")/.."
rm -rf ${OUT:-work/jobs-throughput}; mkdir -p ${OUT:-work/jobs-throughput}
t0=$(date +%s.%N)
node bin/massive.js train --strategy repeated --profile mini --data $D --out ${OUT:-work/jobs-throughput}/one --epochs 10 --seed 1 > ${OUT:-work/jobs-throughput}/one.log 2>&1
t1=$(date +%s.%N)
MASSIVE_CONV_THREADS=1 node bin/massive.js train --strategy repeated --profile mini --data $D --out ${OUT:-work/jobs-throughput}/a --epochs 10 --seed 1 > ${OUT:-work/jobs-throughput}/a.log 2>&1 &
MASSIVE_CONV_THREADS=1 node bin/massive.js train --strategy repeated --profile mini --data $D --out ${OUT:-work/jobs-throughput}/b --epochs 10 --seed 2 > ${OUT:-work/jobs-throughput}/b.log 2>&1 &
wait
t2=$(date +%s.%N)
echo "one process, 2 threads: 160 steps in $(awk "BEGIN{print $t1 - $t0}") s"
echo "two processes, 1 thread each: 2 x 160 steps in $(awk "BEGIN{print $t2 - $t1}") s"
