/**
 * Memory and time of building a model from a checkpoint: a BERT-base-shaped checkpoint (12 × 768, FFN 3072, vocab
 * 28,996; 108 M parameters, 434 MB in float32) with seeded random weights is written once to a temporary folder in
 * float32 and in float16, then each is opened in a fresh process (`Extractor.create` with the checkpoint builder) and
 * run over 200 EWT dev sentences. Printed per dtype: load time, extraction time, the process's peak RSS, the RSS of
 * an idle process that loaded the same modules (baseline, same run), and their difference against the weights'
 * float32 size — the target is peak − baseline ≤ float32 weights + what the batch needs.
 *
 *   npm run bench -- model-load [--layers N] [--keep DIR]
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from '../src/util/rng.js';
import { floatToHalfArray } from '../src/util/float16.js';

function arg(args: string[], name: string, dflt: string): string {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
}

const H = 768;
const I = 3072;
const V = 28996;

function shapes(layers: number): Array<[string, number[]]> {
  const out: Array<[string, number[]]> = [
    ['bert.embeddings.word_embeddings.weight', [V, H]],
    ['bert.embeddings.position_embeddings.weight', [512, H]],
    ['bert.embeddings.token_type_embeddings.weight', [2, H]],
    ['bert.embeddings.LayerNorm.weight', [H]],
    ['bert.embeddings.LayerNorm.bias', [H]],
  ];
  for (let l = 0; l < layers; l++) {
    const p = `bert.encoder.layer.${l}.`;
    for (const n of ['attention.self.query', 'attention.self.key', 'attention.self.value', 'attention.output.dense']) out.push([`${p}${n}.weight`, [H, H]], [`${p}${n}.bias`, [H]]);
    out.push([`${p}attention.output.LayerNorm.weight`, [H]], [`${p}attention.output.LayerNorm.bias`, [H]]);
    out.push([`${p}intermediate.dense.weight`, [I, H]], [`${p}intermediate.dense.bias`, [I]]);
    out.push([`${p}output.dense.weight`, [H, I]], [`${p}output.dense.bias`, [H]]);
    out.push([`${p}output.LayerNorm.weight`, [H]], [`${p}output.LayerNorm.bias`, [H]]);
  }
  return out;
}

/** Write a safetensors file tensor by tensor (never the whole model in memory). */
function writeCheckpoint(file: string, layers: number, dtype: 'F32' | 'F16', seed: number): number {
  const list = shapes(layers);
  const bytes = dtype === 'F32' ? 4 : 2;
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let off = 0;
  let params = 0;
  for (const [name, shape] of list) {
    const n = shape.reduce((a, b) => a * b, 1);
    header[name] = { dtype, shape, data_offsets: [off, off + n * bytes] };
    off += n * bytes;
    params += n;
  }
  let json = JSON.stringify(header);
  while ((8 + json.length) % 8) json += ' ';
  const fd = openSync(file, 'w');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  writeSync(fd, len);
  writeSync(fd, Buffer.from(json));
  const rng = new Rng(seed);
  for (const [name, shape] of list) {
    const n = shape.reduce((a, b) => a * b, 1);
    const vals = new Float32Array(n);
    const isNorm = name.includes('LayerNorm.weight');
    for (let i = 0; i < n; i++) vals[i] = name.endsWith('.bias') ? 0 : isNorm ? 1 : rng.normal() * 0.02;
    if (dtype === 'F32') writeSync(fd, new Uint8Array(vals.buffer));
    else writeSync(fd, new Uint8Array(floatToHalfArray(vals).buffer));
  }
  closeSync(fd);
  return params;
}

async function child(args: string[]): Promise<void> {
  const { Extractor } = await import('../src/extract/extractor.js');
  const { readCorpus } = await import('../src/data/corpus.js');
  const corpus = readCorpus('assets/data/ud/en_ewt-ud-dev.conllu').slice(0, Number(arg(args, '--sentences', '200')));
  const dir = arg(args, '--child', '');
  if (args.includes('--idle')) {
    console.log(JSON.stringify({ rssMiB: process.resourceUsage().maxRSS / 1024 }));
    return;
  }
  const t0 = performance.now();
  const ex = await Extractor.create({ model: dir, source: 'safetensors', offline: true });
  const load = (performance.now() - t0) / 1000;
  const loadRss = process.resourceUsage().maxRSS / 1024;
  const t1 = performance.now();
  let rows = 0;
  await ex.extract(corpus, { completedSentences: 0, writeSentence: (_w: string[], r: Float32Array) => void (rows += r.length), checkpoint() {}, close() {}, abort() {} }, { batchSize: 32 });
  const seconds = (performance.now() - t1) / 1000;
  await ex.dispose();
  console.log(JSON.stringify({ load, loadRss, seconds, rssMiB: process.resourceUsage().maxRSS / 1024 }));
}

export async function run(args: string[]): Promise<void> {
  if (args.includes('--child')) return child(args);
  const layers = Number(arg(args, '--layers', '12'));
  const keep = arg(args, '--keep', '');
  const root = keep || mkdtempSync(join(tmpdir(), 'np-model-load-'));
  const self = fileURLToPath(new URL('./run.js', import.meta.url));
  const runChild = (extra: string[]) =>
    JSON.parse(execFileSync(process.execPath, [self, 'model-load', ...extra], { encoding: 'utf8', maxBuffer: 1 << 24 }).trim().split('\n').pop() as string) as { load?: number; loadRss?: number; seconds?: number; rssMiB: number };
  try {
    const idle = runChild(['--child', root, '--idle']);
    console.log(`baseline: a process that loaded the modules, no model: peak RSS ${idle.rssMiB.toFixed(0)} MiB`);
    for (const dtype of ['F32', 'F16'] as const) {
      const dir = join(root, dtype.toLowerCase());
      mkdirSync(dir, { recursive: true });
      const params = writeCheckpoint(join(dir, 'model.safetensors'), layers, dtype, 1);
      writeFileSync(
        join(dir, 'config.json'),
        JSON.stringify({ model_type: 'bert', hidden_size: H, num_attention_heads: 12, num_hidden_layers: layers, intermediate_size: I, hidden_act: 'gelu', layer_norm_eps: 1e-12, max_position_embeddings: 512, type_vocab_size: 2, vocab_size: V, pad_token_id: 0 }),
      );
      for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join('assets/models/bert-mini-en', f), join(dir, f));
      const w32 = (params * 4) / 2 ** 20;
      const r = runChild(['--child', dir, '--sentences', arg(args, '--sentences', '200')]);
      const extra = r.rssMiB - idle.rssMiB;
      console.log(
        `${dtype} checkpoint (${(params / 1e6).toFixed(1)} M parameters, ${w32.toFixed(0)} MiB in float32): load ${r.load!.toFixed(2)} s, ${arg(args, '--sentences', '200')} sentences ${r.seconds!.toFixed(2)} s, ` +
          `peak RSS after loading ${r.loadRss!.toFixed(0)} MiB (baseline + ${((r.loadRss! - idle.rssMiB) / w32).toFixed(2)} × the float32 weights), ` +
          `after extracting ${r.rssMiB.toFixed(0)} MiB = baseline + ${extra.toFixed(0)} MiB = ${(extra / w32).toFixed(2)} × the float32 weights`,
      );
    }
  } finally {
    if (!keep) rmSync(root, { recursive: true, force: true });
  }
}
