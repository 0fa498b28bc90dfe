#!/usr/bin/env bash
# Evaluate the v3b BiGR: 10k-sample generative metrics, then the linear-probe layer/lr sweep.
cd "$(git rev-parse --show-toplevel)"  # run from the repository root
mkdir -p runs/v3eval
t0=$(date +%s)
npx bigr eval --model runs/fmnist-bigr-v3b --n 10000 --seed 0 --out runs/v3eval/eval-model-10k.json
t1=$(date +%s); echo "eval wall seconds: $((t1 - t0))"
npx bigr probe --model runs/fmnist-bigr-v3b --sweep --lr-sweep 0.5,2,8 --out runs/v3eval/probe-model.json
t2=$(date +%s); echo "probe wall seconds: $((t2 - t1))"
