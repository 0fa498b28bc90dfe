import { basename } from 'node:path';
import { configFfnHidden, gridSide, headDim } from '@bigr/backbone';
import { downsampleFactor } from '@bigr/tokenizer';
import type { ImportedSource, ImportReport } from './importOfficial.js';

/** Human-readable size: 1.35 GB, 262.1 MB, 12.0 KB. */
function size(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${(bytes / 1e3).toFixed(1)} KB`;
}

function millions(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : String(n);
}

function describeSource(s: ImportedSource): string {
  const layout = s.layout === 'torch-zip' ? 'PyTorch zip' : 'safetensors';
  const entry = s.entry === 'root' ? 'state dict at the root' : `state dict "${s.entry}"`;
  return `${basename(s.path)} (${layout}, ${entry}, ${s.tensors} tensors, ${size(s.fileBytes)})`;
}

/**
 * The lines the CLI prints after an import: what was read, what was inferred (and from what), what was verified,
 * what was dropped, and notes. Pure formatting of an {@link ImportReport}.
 */
export function formatImportReport(r: ImportReport): string[] {
  const lines: string[] = [];
  if (r.bigr) {
    const { inferred: i, source } = r.bigr;
    const b = i.backbone;
    const t = i.transcoder;
    const g = gridSide(b);
    const heads =
      i.headsSource === 'released-head-dim'
        ? `${b.heads} head${b.heads === 1 ? '' : 's'} (head_dim ${headDim(b)} as released; the weights do not record it, use --heads/--head-dim otherwise)`
        : `${b.heads} head${b.heads === 1 ? '' : 's'} (head_dim ${headDim(b)}, as given)`;
    lines.push(`BiGR checkpoint: ${describeSource(source)}`);
    lines.push(`  model size: ${i.preset ?? 'not a released size (custom)'}; K = ${b.bitsPerToken} bits per token (d${b.bitsPerToken})`);
    lines.push(
      `  backbone: D ${b.dim}, ${b.layers} layers, ${heads}, SwiGLU hidden ${configFfnHidden(b)}, N ${b.tokens} tokens (${g}×${g} grid), ` +
        `${b.numClasses} classes + null (index ${b.numClasses}), adaLN ${b.useAdaLN ? 'on' : 'off'}, ${millions(i.backboneParameters)} parameters`,
    );
    lines.push(
      `  transcoder: width ${t.width}, ${t.blocks} blocks, T = ${t.timesteps} diffusion steps (S = ${t.inferenceSteps} at inference), ` +
        `${millions(i.transcoderParameters)} parameters`,
    );
    const dup = i.hasDuplicate ? 'duplicate denoiser copy identical' : 'no duplicate denoiser copy in the file';
    const sched =
      i.schedulerBuffers.length > 0
        ? `scheduler buffers equal the recomputed linear schedule (T = ${t.timesteps})`
        : `no scheduler buffers in the file (T = ${t.timesteps} assumed)`;
    lines.push(`  verified: ${dup}; ${sched}`);
  }
  const { inferred: a, source, dropped } = r.bae;
  const c = a.config;
  const variant = a.variant === 'released-256' ? 'released 256 px layout' : a.variant === 'released-512' ? 'released 512 px layout' : 'custom layout';
  const resFrom = a.resolutionSource === 'bigr-grid' ? 'from the BiGR grid' : a.resolutionSource === 'option' ? 'as given' : 'released convention';
  const f = downsampleFactor(c);
  lines.push(`B-AE checkpoint: ${describeSource(source)}`);
  lines.push(
    `  ${variant}: nf ${c.nf}, ch_mult [${c.chMult.join(', ')}], res_blocks ${c.resBlocks}, attn_resolutions [${c.attnResolutions.join(', ')}], ` +
      `emb_dim ${c.embDim}, K ${c.codeDim}, ${c.inChannels} channels, norm_first ${c.normFirst}`,
  );
  lines.push(`  image size ${c.resolution} px (${resFrom}); ${f}× downsampling → ${c.resolution / f}×${c.resolution / f} latent`);
  const droppedParts = [
    dropped.disc > 0 ? `${dropped.disc} disc.*` : '',
    dropped.perceptual > 0 ? `${dropped.perceptual} perceptual.*` : '',
    a.unusedTensors > 0 ? `${a.unusedTensors} unused (ResBlock conv_out with in = out, generator.logsigma)` : '',
  ].filter(Boolean);
  if (droppedParts.length > 0) lines.push(`  dropped: ${droppedParts.join(', ')} tensors`);
  for (const n of r.notes) lines.push(`note: ${n}`);
  lines.push(r.kind === 'bigr' ? `wrote BiGR model directory ${r.out} (tokenizer in ${r.tokenizerDir})` : `wrote tokenizer directory ${r.out}`);
  return lines;
}
