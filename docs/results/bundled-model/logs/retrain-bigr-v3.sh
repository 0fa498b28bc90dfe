#!/usr/bin/env bash
# Bundled-model retrain v3 (onnxruntime training): BiGR D192 L5 on the v2 tokenizer. Resumable: re-run the same command.
cd "$(git rev-parse --show-toplevel)"  # run from the repository root
start=$(date +%s)
npx bigr train --tokenizer runs/fmnist-tokenizer-v2 --out runs/fmnist-bigr-v3b --preset BiGR-XS --dim 192 --layers 5 --heads 3 \
  --denoiser-width 128 --denoiser-blocks 2 --steps 8000 --batch-size 32 --lr 1e-3 --warmup 250 --ema-decay 0.999 --dropout 0 \
  --seed 0 --checkpoint-every 500 --weights ema
echo "bigr wall seconds (this part): $(( $(date +%s) - start ))"
