import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { exportPytorch, PYTORCH_BAE_FILE, PYTORCH_BIGR_FILE, type PytorchExportReport } from '@bigr/pipeline';
import type { CliContext } from '../context.js';
import { guardOutputsWithSidecars, modelInputFiles } from '../outputs.js';
import { writeSidecar } from '../sidecar.js';
import { weightsHash } from './imageApps.js';
import { modelDirectory } from '../modelPaths.js';

/** Flags of `bigr export`. */
export interface ExportFlags {
  readonly format: 'pytorch';
  readonly model?: string;
  readonly out: string;
}

/**
 * `bigr export --format pytorch --model <dir> --out <dir>`: writes `bigr.pt` (`{"ema": state_dict, "args": ...}`,
 * what the official sample.py and train_ddp.py load) and `binaryae.th` (the B-AE as `ae.*`), each with a JSON
 * sidecar; `bigr import --bigr <out>/bigr.pt --bae <out>/binaryae.th` restores the model directory bit for bit.
 */
export async function exportCommand(ctx: CliContext, flags: ExportFlags): Promise<void> {
  const modelDir = await modelDirectory(flags.model ?? '');
  const files = [join(flags.out, PYTORCH_BIGR_FILE), join(flags.out, PYTORCH_BAE_FILE)];
  await guardOutputsWithSidecars('export', ctx.force, files, modelInputFiles(modelDir));
  const progress = ctx.progress('export');
  let report: PytorchExportReport;
  try {
    report = await exportPytorch(modelDir, flags.out, { signal: ctx.signal, onProgress: progress.update });
  } finally {
    progress.stop();
  }
  const modelHash = await weightsHash(modelDir).catch(() => undefined);
  const sidecars: string[] = [];
  for (const f of report.files)
    sidecars.push(
      await writeSidecar(f, {
        command: 'export',
        config: { format: flags.format, model: modelDir, out: flags.out },
        ...(modelHash ? { modelHash } : {}),
        extra: { bigrTensors: report.bigrTensors, baeTensors: report.baeTensors },
      }),
    );
  for (const f of report.files) ctx.out(`wrote ${f}`);
  ctx.out(
    `load in PyTorch: torch.load('${report.files[0]}', map_location='cpu')${report.bigrTensors > 0 ? "['ema']" : ''}; ` +
      `back here: bigr import${report.bigrTensors > 0 ? ` --bigr ${report.files[0]}` : ''} --bae ${report.files.at(-1)} --out <dir>`,
  );
  ctx.result({
    ok: true,
    command: 'export',
    format: flags.format,
    outputs: [...report.files, ...sidecars],
    bigrTensors: report.bigrTensors,
    baeTensors: report.baeTensors,
  });
}

/** Registers `bigr export`. */
export function registerExport(program: Command, ctx: () => CliContext): void {
  program
    .command('export')
    .description('export a model directory to the official PyTorch checkpoint layout (for ONNX graphs see export-onnx)')
    .addOption(new Option('--format <format>', 'checkpoint format').choices(['pytorch']).default('pytorch'))
    .option('--model <dir>', 'BiGR model or tokenizer directory (default: the bundled fashion-mnist model)')
    .requiredOption('--out <dir>', 'directory to write bigr.pt and binaryae.th into')
    .addHelpText(
      'after',
      '\nExamples:\n  bigr export --format pytorch --model runs/fmnist-bigr --out export/\n  python -c "import torch; ' +
        "print(torch.load('export/bigr.pt')['ema'].keys())\"\n  bigr import --bigr export/bigr.pt --bae export/binaryae.th --out runs/reimported",
    )
    .action(async (flags: ExportFlags) => exportCommand(ctx(), flags));
}
