import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { givenFlags } from '../givenFlags.js';
import { EVAL_DEFAULTS, evalCommand } from './eval.js';
import { EXPORT_ONNX_DEFAULTS, exportOnnxCommand } from './exportOnnx.js';
import { FEATURES_DEFAULTS, featuresCommand } from './features.js';
import { PROBE_DEFAULTS, probeCommand } from './probe.js';
import { generationOptions } from './imageApps.js';

/** Registers `features`, `probe`, `eval` and `export-onnx`. */
export function registerEvaluationCommands(program: Command, ctx: () => CliContext): void {
  program
    .command('features')
    .description('average-pooled backbone block features of a dataset split (docs/algorithm.md §7.1), cached as safetensors')
    .option('--config <file>', 'JSON file with any of the settings below')
    .option('--model <dir>', 'BiGR model directory (default: bundled fashion-mnist model)')
    .option('--data <dir>', "'fashion-mnist' (Debian package), an IDX directory or an image folder")
    .option('--split <split>', 'dataset split')
    .option('--layer <l|all>', "0-based block index, comma list, 'all' (one file per block) or 'default'")
    .option('--out <file.safetensors>', 'output (with --layer all: <out>.lNN.safetensors per block) + <out>.json')
    .option('--codes <mode>', 'code binarisation: bernoulli (official, seeded) or threshold')
    .option('--seed <n>', 'seed of the Bernoulli codes')
    .option('--limit <n>', 'use only the first n images')
    .option('--batch-size <n>', 'images per engine call')
    .action(async (_flags: unknown, cmd: Command) => featuresCommand(ctx(), givenFlags(cmd, FEATURES_DEFAULTS)));
  program
    .command('probe')
    .description('linear probe of BiGR features (docs/evaluation.md §8.8): optional layer sweep on a held-out split, top-1/top-5 on the test set')
    .option('--config <file>', 'JSON file with any of the settings below')
    .option('--model <dir>', 'BiGR model directory (default: bundled fashion-mnist model)')
    .option('--data <dir>', "'fashion-mnist', an IDX directory or an image folder")
    .option('--layer <l>', "block to probe without --sweep ('default' = the model's representation layer)")
    .option('--sweep', 'probe every block (and every --lr-sweep value) on a held-out split, then train the best on all')
    .option('--lr-sweep <list>', 'base learning rates compared in the sweep, e.g. 0.1,0.5,2.0 (default: --base-lr)')
    .option('--raw-pixels', 'baseline: probe raw pixels x/255 instead of model features')
    .option('--raw-codes', "baseline: probe the model tokenizer's binary codes (the backbone's input, N·K bits) instead of block features")
    .option('--holdout <n>', 'training images held out for the sweep')
    .option('--epochs <n>', 'probe epochs')
    .option('--warmup <n>', 'warm-up epochs')
    .option('--base-lr <x>', 'base lr; peak = blr × batch / 256 (2.0 for Fashion-MNIST)')
    .option('--batch-size <n>', 'probe batch size')
    .option('--codes <mode>', 'code binarisation: bernoulli (official, seeded) or threshold')
    .option('--seed <n>', 'seed of codes, hold-out split, head init and shuffling')
    .option('--limit <n>', 'use only the first n training images')
    .option('--test-limit <n>', 'use only the first n test images')
    .option('--feature-batch-size <n>', 'images per engine call when extracting features')
    .option('--cache-dir <dir>', 'feature cache (default: <dir of --out>/probe-cache)')
    .option('--out <file.json>', 'results JSON')
    .action(async (_flags: unknown, cmd: Command) => probeCommand(ctx(), givenFlags(cmd, PROBE_DEFAULTS)));
  const evaluate = program
    .command('eval')
    .description('FMNIST metrics (docs/evaluation.md §9.2): FID, sFID, IS, precision/recall, KID with the Fashion-MNIST classifier')
    .option('--config <file>', 'JSON file with any of the settings below')
    .option('--samples <path>', 'folder of sample images, .npz (arr_0 uint8) or a grid PNG from bigr generate')
    .option('--model <dir>', 'generate class-balanced samples with this BiGR model and evaluate them')
    .option('--real <set>', "real images instead of samples: 'test' (the floor: real test images) or 'train-sample' (a class-balanced training sample)")
    .option('--n <n>', 'number of images (model / train-sample: 10000; samples / test: all)')
    .option('--data <dir>', "'fashion-mnist' or an IDX directory (reference and real sets)")
    .option('--classifier <dir>', 'evaluation network (default: packages/eval/weights/fashion-classifier)')
    .option('--cache-dir <dir>', 'reference statistics/features cache (default: $BIGR_CACHE/eval, else ~/.cache/bigr/eval; never inside node_modules)')
    .option('--out <file.json>', 'metrics JSON')
    .option('--save-samples <file.npz>', 'with --model: also save the generated samples (arr_0, labels arr_1)')
    .option('--seed <n>', 'seed of sampling, sample selection and KID subsets')
    .option('--k <n>', 'precision/recall neighbourhood k')
    .option('--is-splits <n>', 'Inception-Score splits')
    .option('--kid-subsets <n>', 'KID subsets')
    .option('--kid-subset-size <n>', 'KID subset size')
    .option('--train-limit <n>', 'use only the first n training images as the reference')
    .option('--test-limit <n>', 'use only the first n test images')
    .option('--batch-size <n>', 'images per generation call; batches are written to <out>.parts/ and reused when a killed run is started again')
    .option('--workers <n>', 'generation worker threads (0 = every core)');
  generationOptions(evaluate).action(async (_flags: unknown, cmd: Command) => evalCommand(ctx(), givenFlags(cmd, EVAL_DEFAULTS)));
  program
    .command('export-onnx')
    .description('export backbone, representation, transcoder and tokenizer graphs as ONNX models + manifest.json')
    .option('--config <file>', 'JSON file with any of the settings below')
    .option('--model <dir>', 'BiGR model directory (default: bundled fashion-mnist model)')
    .option('--out <dir>', 'output directory')
    .option('--layer <l>', 'block of representation.onnx (default: the model representation layer)')
    .action(async (_flags: unknown, cmd: Command) => exportOnnxCommand(ctx(), givenFlags(cmd, EXPORT_ONNX_DEFAULTS)));
}
