#!/usr/bin/env bash
# Retrains the bundled Fashion-MNIST model on the onnxruntime training engine (the README's commands).
set -euo pipefail
cd "$(dirname "$0")/.."
T0=$(date +%s)
npx bigr train-tokenizer --out runs/fmnist-tokenizer-v2 --nf 16 --norm-groups 8 --steps 3000 --batch-size 16 \
  --lr 1e-3 --seed 0 --checkpoint-every 250 --weights raw
T1=$(date +%s); echo "tokenizer wall seconds: $((T1-T0))"
npx bigr train --tokenizer runs/fmnist-tokenizer-v2 --out runs/fmnist-bigr-v2 --preset BiGR-XS --layers 4 --steps 12000 \
  --batch-size 32 --lr 1e-3 --warmup 200 --ema-decay 0.999 --dropout 0 --seed 0 --checkpoint-every 500 --weights ema
T2=$(date +%s); echo "bigr wall seconds: $((T2-T1))"
