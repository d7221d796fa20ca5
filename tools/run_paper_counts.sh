#!/usr/bin/env bash
# Issue 29, item 6: the paper's absolute label counts with the fine-tuned tier
# (minilm-fast, 10,000-text pools; IMDB 4,000, see below), one seed at a time over every strategy so
# that finished seeds can be paired at once. Resumable: run it again after an
# interruption and finished runs are skipped.
#
#   nice -n 19 bash tools/run_paper_counts.sh [TASK ...]     (default: ag_news sst2)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
STRATEGIES=${STRATEGIES:-"random entropy badge cal allsh allsh-cl"}
SEEDS=${SEEDS:-"0 1 2 3 4"}
declare -A BUDGET=([ag_news]=114 [sst2]=606 [imdb]=225 [qnli]=995 [qqp]=3270)
# IMDB's reviews run to 256 tokens: a pool of 4,000, its copies and the 2,000
# test reviews are what the tier's 2 GiB trunk cache holds (float16 rows of
# 384 per token), so every query runs only the top layers. A 10,000 pool
# would not fit, and each query would recompute the frozen trunk.
declare -A POOL=([ag_news]=10000 [sst2]=10000 [imdb]=4000 [qnli]=10000 [qqp]=10000)
declare -A TEST=([ag_news]=2000 [sst2]=872 [imdb]=2000 [qnli]=2000 [qqp]=2000)
tasks=("$@"); [ ${#tasks[@]} -gt 0 ] || tasks=(ag_news sst2)
for task in "${tasks[@]}"; do
    for seed in $SEEDS; do
        # shellcheck disable=SC2086
        "$PY" -m allsh_sklearn.experiments --setting in-domain --tasks "$task" \
            --classifier minilm-fast --pool-size "${POOL[$task]}" --test-size "${TEST[$task]}" \
            --budgets "${BUDGET[$task]}" --strategies $STRATEGIES --seeds "$seed" \
            --data-home "${ALLSH_SKLEARN_DATA:-../shared/data}" \
            --output "${OUTPUT:-results/paper_counts}" --no-plots
    done
done
