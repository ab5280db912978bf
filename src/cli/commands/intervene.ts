/**
 * `neuroprobe intervene`: change neurons inside the forward pass (zero / corpus mean / a value / a scale) and measure
 * what the model itself does: LM loss and subject–verb number agreement, against the plain model and K random
 * neuron sets of the same size (src/intervene/).
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { readCorpus } from '../../data/corpus.js';
import { LmModel } from '../../intervene/model.js';
import { parseMode, parseNeurons } from '../../intervene/neurons.js';
import { Evaluation, runIntervention, type EvalName, type Scores } from '../../intervene/run.js';
import { InputError } from '../../util/errors.js';
import type { CliIO } from '../io.js';

function int(name: string, min: number) {
  return (v: string): number => {
    const x = Number(v);
    if (!Number.isInteger(x) || x < min) throw new InputError(`${name} ${v} is not valid`, { expected: `an integer >= ${min}` });
    return x;
  };
}

function fmt(s: Scores): string {
  const parts: string[] = [];
  if (s.lm) parts.push(`LM loss ${s.lm.loss.toFixed(4)} (${s.lm.tokens} pieces)`);
  if (s.agreement) parts.push(`agreement ${(s.agreement.accuracy * 100).toFixed(2)} % of ${s.agreement.pairs} (attractor ${(s.agreement.attractors.with.accuracy * 100).toFixed(1)} % of ${s.agreement.attractors.with.pairs})`);
  return parts.join('; ');
}

export function register(program: Command, io: CliIO): void {
  program
    .command('intervene')
    .description('Intervene on neurons inside the forward pass and measure the model itself (LM loss, number agreement)')
    .requiredOption('--model <dir|id>', 'model folder (safetensors checkpoint with its LM head) or hub id')
    .requiredOption('--corpus <file>', 'CoNLL-U corpus (agreement pairs need UPOS, XPOS, FEATS, HEAD, DEPREL)')
    .option('--site <name>', 'one site (e.g. blocks.2.mlp.hook_post); ids are then its units 0..width-1 (default: the residual stream, ids layer*width+unit, layer 0 = embeddings)')
    .option('--neurons <spec>', 'none | ids (3,17,40-45) | ranking.json:top:N | ranking.json:bottom:N', 'none')
    .option('--mode <mode>', 'zero | mean | value:X | scale:X', 'zero')
    .option('--eval <list>', 'lm,agreement', 'lm,agreement')
    .option('--random <k>', 'K seeded random sets of the same size', int('--random', 0), 0)
    .option('--seed <n>', 'seed of the random sets and of the masked-LM masking', int('--seed', 0), 0)
    .option('--max-sentences <n>', 'use only the first N sentences of the corpus', int('--max-sentences', 1))
    .option('--threads <n>', 'ONNX Runtime threads', int('--threads', 1))
    .option('--random-init <seed>', 'seeded random weights of the same architecture', int('--random-init', 0))
    .option('--json', 'print one JSON object on stdout')
    .action(async (o: Record<string, string | number | boolean | undefined>) => {
      const evals = String(o.eval).split(',').map((x) => x.trim()).filter(Boolean);
      for (const e of evals) if (e !== 'lm' && e !== 'agreement') throw new InputError(`--eval ${o.eval}: unknown measure ${e}`, { expected: 'a comma-separated list of lm, agreement' });
      if (!evals.length) throw new InputError('--eval is empty', { expected: 'lm, agreement or both' });
      const mode = parseMode(String(o.mode));
      const neurons = parseNeurons(String(o.neurons));
      const corpusPath = String(o.corpus);
      if (!existsSync(corpusPath)) throw new InputError(`corpus ${corpusPath} does not exist`, { location: { file: corpusPath }, expected: 'a CoNLL-U file' });
      let corpus = readCorpus(corpusPath);
      if (typeof o.maxSentences === 'number') corpus = corpus.slice(0, o.maxSentences);
      const model = await LmModel.open({ model: String(o.model), site: typeof o.site === 'string' ? o.site : undefined, threads: o.threads as number | undefined, randomInit: o.randomInit as number | undefined });
      try {
        const ev = await Evaluation.prepare(model, corpus, evals as EvalName[], mode, Number(o.seed));
        const prog = io.progress();
        const result = await runIntervention(ev, {
          neurons,
          random: Number(o.random),
          seed: Number(o.seed),
          site: typeof o.site === 'string' ? o.site : undefined,
          onProgress: (done, total) => prog.onProgress({ kind: 'intervene', done, total, unit: 'sets' }),
        });
        prog.done();
        io.result(result, Boolean(o.json), () =>
          [
            `${result.model}, ${result.mode} on ${result.neurons.length} neurons (${result.site})`,
            ...(result.agreementPairs ? [`agreement pairs: ${result.agreementPairs.pairs} (${result.agreementPairs.withAttractor} with an attractor; dropped: ${result.agreementPairs.noOtherForm} without another form, ${result.agreementPairs.multiPiece} multi-piece)`] : []),
            `baseline:   ${fmt(result.baseline)}`,
            `intervened: ${fmt(result.intervened)}`,
            ...result.random.map((r, i) => `random ${i + 1}:   ${fmt(r)}`),
          ].join('\n'),
        );
      } finally {
        await model.dispose();
      }
    });
}
