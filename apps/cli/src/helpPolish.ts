/**
 * Help and option typing for every command, in one place: each option whose setting has a default in the command's
 * `*_DEFAULTS` table gets it as its commander default (`(default: …)` in --help); options with a fixed set of values
 * get commander's `choices` (validated at parse time, listed in --help); numeric settings are parsed by commander into
 * numbers (a non-number is a usage error naming the flag, the value and the default); global flags are shown in every
 * command's help; each command ends with examples. A commander default is shown, never used as a setting: a command
 * reads only the options given on its command line (givenFlags.ts), so a value from `--config <file>` still wins over
 * the default (config.ts: defaults ← config file ← flags).
 */
import { InvalidArgumentError, type Command, type Option } from 'commander';
import { ORDERING_STRATEGIES } from '@bigr/sampler';
import { GENERATE_DEFAULTS } from './commands/generate.js';
import { HASH_DEFAULTS } from './commands/hash.js';
import { SEARCH_DEFAULTS } from './commands/search.js';
import { ENCODE_DEFAULTS } from './commands/encode.js';
import { DECODE_DEFAULTS } from './commands/decode.js';
import { EDIT_DEFAULTS, INPAINT_DEFAULTS, OUTPAINT_DEFAULTS } from './commands/inpaint.js';
import { INTERPOLATE_DEFAULTS } from './commands/interpolate.js';
import { ENRICH_DEFAULTS } from './commands/enrich.js';
import { TRAIN_DEFAULTS } from './commands/train.js';
import { TRAIN_TOKENIZER_DEFAULTS } from './commands/trainTokenizer.js';
import { IMPORT_DEFAULTS } from './commands/import.js';
import { EVAL_DEFAULTS } from './commands/eval.js';
import { FEATURES_DEFAULTS } from './commands/features.js';
import { PROBE_DEFAULTS } from './commands/probe.js';
import { EXPORT_ONNX_DEFAULTS } from './commands/exportOnnx.js';
import { STUDY_DEFAULTS } from './commands/study.js';

/** Defaults per command name. */
export const COMMAND_DEFAULTS: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  generate: GENERATE_DEFAULTS,
  hash: HASH_DEFAULTS,
  search: SEARCH_DEFAULTS,
  encode: ENCODE_DEFAULTS,
  decode: DECODE_DEFAULTS,
  inpaint: INPAINT_DEFAULTS,
  outpaint: OUTPAINT_DEFAULTS,
  edit: EDIT_DEFAULTS,
  interpolate: INTERPOLATE_DEFAULTS,
  enrich: ENRICH_DEFAULTS,
  train: TRAIN_DEFAULTS,
  'train-tokenizer': TRAIN_TOKENIZER_DEFAULTS,
  import: IMPORT_DEFAULTS,
  eval: EVAL_DEFAULTS,
  features: FEATURES_DEFAULTS,
  probe: PROBE_DEFAULTS,
  'export-onnx': EXPORT_ONNX_DEFAULTS,
  study: STUDY_DEFAULTS,
};

/** Fixed value sets, by option attribute name (the same everywhere they appear). */
export const OPTION_CHOICES: Readonly<Record<string, readonly string[]>> = {
  codeMode: ['threshold', 'bernoulli'],
  codes: ['bernoulli', 'threshold'],
  cfgSchedule: ['constant', 'linear'],
  gumbelSchedule: ['constant', 'down', 'up'],
  order: ORDERING_STRATEGIES,
  confidence: ['margin', 'entropy'],
  budget: ['known', 'masked'],
  weights: ['raw', 'ema'],
  split: ['train', 'test'],
  real: ['test', 'train-sample'],
};

/** Examples shown after each command's options. */
export const COMMAND_EXAMPLES: Readonly<Record<string, readonly string[]>> = {
  env: ['bigr env', 'bigr --json env'],
  generate: [
    'bigr generate --class sneaker --n 16 --out grid.png',
    'bigr generate --class all --n 10 --seed 7 --cfg 2.5 --out all.jpg',
    'bigr generate --model owner/name@main --class 3 --n 4 --out hub.png',
  ],
  'train-tokenizer': ['bigr train-tokenizer --out runs/fmnist-tokenizer --nf 16 --steps 1500 --batch-size 16 --lr 1e-3'],
  train: ['bigr train --tokenizer runs/fmnist-tokenizer --out runs/fmnist-bigr --preset BiGR-XS --layers 3 --steps 2400 --lr 1e-3'],
  inpaint: ['bigr inpaint shoe.png --box 4,4,20,20 --samples 8 --out inpainted.png'],
  outpaint: ['bigr outpaint shoe.png --box 8,8,24,24 --out outpainted.png'],
  edit: ['bigr edit shirt.png --box 0,0,28,14 --class trouser --out edited.png'],
  interpolate: ['bigr interpolate --from sneaker --to sandal --out sweep.png'],
  enrich: ['bigr enrich small.png --rounds 4 --out enriched.png'],
  encode: ['bigr encode images/ --out codes.bigr', 'bigr encode a.png b.png --code-mode bernoulli --seed 3 --out codes.bigr'],
  decode: ['bigr decode codes.bigr --out decoded.png'],
  hash: ['bigr hash gallery/ --index gallery.bhx', 'bigr hash new.png --index gallery.bhx   # appends'],
  search: ['bigr search query.png --index gallery.bhx --k 5'],
  import: ['bigr import --bigr bigr_L_d24.pt --bae binaryae_ema_1000000.th --classes imagenet.txt --out models/bigr-l'],
  export: ['bigr export --format pytorch --model models/bigr-l --out export/'],
  'export-onnx': ['bigr export-onnx --model models/bigr-l --out onnx/'],
  features: ['bigr features --out runs/features.json'],
  probe: ['bigr probe --sweep --lr-sweep 0.5,2,8 --out runs/probe.json'],
  eval: ['bigr eval --model apps/cli/models/fashion-mnist --n 1000 --out eval.json', 'bigr eval --samples grid.png --out eval.json'],
  study: ['bigr study paper --out runs/paper', 'bigr study paper --out runs/paper --only tokenizer,train-s3'],
};

function flagOf(option: Option): string {
  return option.long ?? option.short ?? option.flags;
}

/** A commander argument parser that accepts finite numbers only; the error names the flag, the value and the default. */
export function numberArg(flag: string, defaultValue?: number): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n))
      throw new InvalidArgumentError(`${flag} must be a number, got "${value}"${defaultValue !== undefined ? ` (default: ${defaultValue})` : ''}.`);
    return n;
  };
}

function describeDefault(value: unknown): string | null {
  if (value === '' || value === undefined || value === null) return null;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Applies defaults, choices, number parsing, global options and examples to every command of `program`. */
export function polishHelp(program: Command): void {
  for (const cmd of program.commands) {
    cmd.configureHelp({ showGlobalOptions: true });
    const name = cmd.name();
    const defaults = COMMAND_DEFAULTS[name] ?? {};
    for (const option of cmd.options as Option[]) {
      const key = option.attributeName();
      const value = defaults[key];
      const choices = OPTION_CHOICES[key];
      // (`--codes <file.bigr>` of the image apps is a path, `--codes <mode>` of features/probe a choice)
      if (choices && !option.argChoices && option.required && !/<file|<dir|<path/.test(option.flags)) option.choices(choices);
      // An option whose description states its own default (e.g. --diffusion-steps: the model's) does not quote the
      // table's placeholder value in its error.
      if (typeof value === 'number' && option.required && !option.parseArg)
        option.argParser(numberArg(flagOf(option), /default/i.test(option.description) ? undefined : value));
      // A negated switch (--no-original) shares its setting with the positive one, which carries the default.
      if (option.negate || option.defaultValue !== undefined || /default/i.test(option.description)) continue;
      const shown = value === 0 && /^override/i.test(option.description) ? "the preset's" : describeDefault(value);
      if (shown !== null) option.default(value, shown);
    }
    const examples = COMMAND_EXAMPLES[name];
    if (examples) cmd.addHelpText('after', `\nExamples:\n${examples.map((e) => `  ${e}`).join('\n')}`);
  }
}
