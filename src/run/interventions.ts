/**
 * The study's `interventions:` stage (src/intervene/study.ts): per model, after the analyses, intervene inside the
 * forward pass on the sets of the task's probe ranking. Keyed by the model, the ranking, the scored corpus and the
 * section's settings, so a resumed study reuses it.
 */
import type { AnalysisResult } from '../analysis/types.js';
import { parseMode } from '../intervene/neurons.js';
import { runInterventionStudy, type InterventionStudyResult } from '../intervene/study.js';
import { InputError } from '../util/errors.js';
import type { ProgressCallback } from '../util/progress.js';
import type { StudyConfig } from './config.js';
import type { StageCache } from './stages.js';
import type { PreparedStudy } from './study.js';

/** Check the section against the study before any work: its task must be one of the study's word-level tasks. */
export function checkInterventions(cfg: StudyConfig, baseTasks: string[]): void {
  const iv = cfg.interventions;
  if (!iv) return;
  try {
    parseMode(iv.mode);
  } catch (err) {
    throw new InputError(`interventions.mode: ${(err as InputError).message}`, { expected: 'zero, mean, value:X or scale:X' });
  }
  if (!baseTasks.includes(iv.task)) {
    throw new InputError(`interventions.task ${JSON.stringify(iv.task)} is not one of the study's tasks`, { expected: `one of ${baseTasks.join(', ') || '(no word-level tasks)'}` });
  }
  for (const m of cfg.models) {
    if (m.layers !== 'all' || m.ffn) {
      throw new InputError(`interventions: model ${m.name} is extracted with ${m.ffn ? 'ffn taps' : `layers ${JSON.stringify(m.layers)}`}`, {
        expected: 'layers: all and no ffn, so the ranking ids are residual-stream ids (layer * width + unit)',
      });
    }
  }
}

export async function runStudyInterventions(
  cfg: StudyConfig,
  results: readonly AnalysisResult[],
  splits: PreparedStudy['splits'],
  cache: StageCache,
  record: (stage: string, label: string, o: { reused: boolean; seconds: number; key: string }) => void,
  onProgress?: ProgressCallback,
): Promise<InterventionStudyResult[]> {
  const iv = cfg.interventions;
  if (!iv) return [];
  const split = iv.split === 'dev' ? splits.dev : splits.test;
  if (!split) throw new InputError('interventions.split is dev, but the study has no dev corpus', { expected: 'split: test, or data.dev' });
  const out: InterventionStudyResult[] = [];
  for (const model of cfg.models) {
    const r = results.find((x) => x.model === model.name && x.task === iv.task && x.level !== 'sentence');
    if (!r) continue;
    const label = `${model.name} / ${iv.task}`;
    const inputs = { model: model.path, randomInit: model.randomInit, ordering: r.ranking.ordering, corpus: split.checksum, config: iv, seed: cfg.seed };
    const outcome = await cache.run('interventions', label, inputs, async () =>
      runInterventionStudy({
        modelName: model.name!,
        modelPath: model.path,
        randomInit: model.randomInit,
        corpus: split.sentences,
        ordering: r.ranking.ordering,
        probeAblation: r.ablation,
        config: iv,
        seed: cfg.seed,
        onProgress: (done, total) => onProgress?.({ kind: 'interventions', done, total, unit: 'sets' }),
      }),
    );
    record('interventions', label, outcome);
    out.push(outcome.value);
  }
  return out;
}
