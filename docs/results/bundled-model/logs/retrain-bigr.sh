#!/usr/bin/env bash
# Second half of the retrain, resumed: the first run (--steps 6000) was stopped at step 1177 because the shared
# machine was too loaded to finish in the session; it continues on a 4,000-step schedule (--force-resume records it).
set -euo pipefail
cd /work/wt-train
T1=$(date +%s)
npx bigr train --tokenizer /work/main/runs/fmnist-tokenizer-v2 --out /work/main/runs/fmnist-bigr-v2 --preset BiGR-XS --layers 4 --steps 4000 \
  --batch-size 32 --lr 1e-3 --warmup 200 --ema-decay 0.999 --dropout 0 --seed 0 --checkpoint-every 500 --weights ema --force-resume
T2=$(date +%s); echo "bigr wall seconds (resumed part): $((T2-T1))"
