#!/usr/bin/env bash
# Prepare the paper's stream (PAOT) from the real datasets for the paper profile:
#   bash data-prep/prepare-paot.sh <PAOT root> <out dir> [train list] [test list]
# The lists default to <root>/PAOT_train.txt and <root>/PAOT_test.txt (the reference code's format: one
# "image<TAB>label" line per case, paths relative to the root). A rerun skips prepared cases.
set -euo pipefail
root=${1:?usage: bash data-prep/prepare-paot.sh <PAOT root> <out dir> [train list] [test list]}
out=${2:?usage: bash data-prep/prepare-paot.sh <PAOT root> <out dir> [train list] [test list]}
train=${3:-$root/PAOT_train.txt}
test=${4:-$root/PAOT_test.txt}
for f in "$train" "$test"; do
  [ -f "$f" ] || { echo "prepare-paot: no list file $f (pass the train and test lists as arguments 3 and 4)" >&2; exit 2; }
done
kit="$(cd "$(dirname "$0")/.." && pwd)"
node "$kit/bin/massive.js" prep --profile paper --root "$root" --list "$train" --list "$test" --out "$out"
echo "prepare-paot: prepared folder $out (manifest.json lists every case; train with: npx massive train --profile paper --data $out ...)"
