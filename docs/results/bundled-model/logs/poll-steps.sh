#!/usr/bin/env bash
# Records (unix time, step) pairs of the running training logs every 10 s, for loss-vs-wall-time curves.
cd "$(dirname "$0")"
while true; do
  for f in retrain.log retrain-bigr.log train-v3b.log; do
    [ -f "$f" ] || continue
    s=$(grep -aoE '^(train-tokenizer|train): [0-9]+/' "$f" | tail -1)
    [ -n "$s" ] && echo "$(date +%s) $f $s" >> step-times.txt
  done
  sleep 10
done
