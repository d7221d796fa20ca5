#!/usr/bin/env bash
# Issue 29, item 8: the paper's protocol on its whole SST-2 pool on a GPU
# machine: 60,614 phrases (the ALPS split whose 1% is 606), 61 initial labels, batches of 50 up to the
# paper's 606 labels, all-MiniLM-L6-v2 fine-tuned whole (float32, 200 steps
# per fit, lr 2e-5), random against ALLSH (TF-IDF copies, KL), as many seeds
# as fit in TIME_LIMIT seconds; ends with ALLSH's paired difference from
# random and its 95% interval.
#
# Here, once:   python tools/gpu_bundle.py pack     (writes .gpu_bundle/, 24 MiB)
# There (the device tool's run, carry [".gpu_bundle"], timeout_s 600):
#               bash tools/gpu_sst2_full_pool.sh
# Extra arguments go to benchmarks/bench_al_minilm.py (the last one given
# wins), e.g. a CPU rehearsal at toy size:
#   PY=.venv/bin/python DEVICE=cpu bash tools/gpu_sst2_full_pool.sh \
#       --pool-size 200 --labels 60 --train-steps 3 --seeds 0
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-python3}
OUT=${OUT:-results/gpu}
mkdir -p "$OUT"
[ -d .gpu_bundle/minilm ] || { echo "No .gpu_bundle/: run 'python tools/gpu_bundle.py pack' here first and carry it." >&2; exit 2; }
SITE=$(mktemp -d)
"$PY" -m pip install -q --no-index --no-deps --no-compile --target "$SITE" .gpu_bundle/wheels/*.whl
export PYTHONPATH="$SITE:$PWD" PYTHONUNBUFFERED=1
MODEL=$(mktemp -d)
"$PY" tools/gpu_bundle.py unpack --to "$MODEL"
"$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else '')"
"$PY" benchmarks/bench_al_minilm.py --pool-size 0 --labels 606 \
    --strategies random allsh --seeds 0 1 2 3 4 5 6 7 8 9 \
    --device "${DEVICE:-cuda}" --inference-batch-size 1024 \
    --time-limit "${TIME_LIMIT:-420}" --model "$MODEL" --data-home .gpu_bundle/data \
    --output "$OUT/gpu_sst2_full_pool.json" "$@" 2>&1 | tee "$OUT/gpu_sst2_full_pool.log"
