/**
 * The report's "encoded vs used" section (study `interventions:`, src/intervene/study.ts): agreement accuracy and LM
 * loss when the task's top-N, bottom-N and random N-sets are intervened on inside the forward pass, as a table and a
 * plot against N, beside the probe-side ablation of the same ranking (the probe's accuracy with top / random /
 * bottom sets, masked or retrained). Left out when the study has no interventions.
 */
import type { InterventionStudyResult } from '../intervene/study.js';
import { escapeHtml } from './escape.js';
import { VEGA_CONFIG, type VegaLiteSpec } from './specs.js';
import type { StudyResults } from './types.js';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** The study's intervention results (results.json `interventions`), else none. */
export function interventionsOf(study: StudyResults): InterventionStudyResult[] {
  const iv = (study as StudyResults & { interventions?: InterventionStudyResult[] }).interventions;
  return Array.isArray(iv) ? iv.filter((r) => r && Array.isArray(r.rows)) : [];
}

const mean = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
const SETS = ['top', 'random', 'bottom'] as const;

/** Rows {model, measure, set, size, value} for the plot (random: the mean over its sets). */
function points(results: InterventionStudyResult[]) {
  return results.flatMap((r) =>
    r.rows.flatMap((row) =>
      SETS.flatMap((set) => {
        const scores = set === 'random' ? row.random : [row[set]];
        const out: Array<{ model: string; measure: string; set: string; size: number; value: number }> = [];
        const acc = scores.map((s) => s.agreement?.accuracy).filter((x): x is number => typeof x === 'number');
        const loss = scores.map((s) => s.lm?.loss).filter((x): x is number => typeof x === 'number');
        if (acc.length) out.push({ model: r.model, measure: 'agreement accuracy (%)', set, size: row.size, value: Math.round(mean(acc) * 10000) / 100 });
        if (loss.length) out.push({ model: r.model, measure: 'LM loss (nats)', set, size: row.size, value: Math.round(mean(loss) * 10000) / 10000 });
        return out;
      }),
    ),
  );
}

export function interventionsSpec(study: StudyResults): VegaLiteSpec | null {
  const results = interventionsOf(study);
  const values = points(results);
  if (!values.length) return null;
  const baselines = results.flatMap((r) => [
    ...(r.baseline.agreement ? [{ model: r.model, measure: 'agreement accuracy (%)', value: Math.round(r.baseline.agreement.accuracy * 10000) / 100 }] : []),
    ...(r.baseline.lm ? [{ model: r.model, measure: 'LM loss (nats)', value: Math.round(r.baseline.lm.loss * 10000) / 10000 }] : []),
  ]);
  return {
    $schema: SCHEMA,
    config: VEGA_CONFIG,
    description: 'Encoded vs used: the model itself with top, random and bottom neuron sets intervened on',
    data: { values: [...values.map((v) => ({ ...v, kind: 'set' })), ...baselines.map((b) => ({ ...b, kind: 'baseline' }))] },
    facet: { row: { field: 'model', type: 'nominal', title: null }, column: { field: 'measure', type: 'nominal', title: null } },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 300,
      height: 160,
      layer: [
        {
          transform: [{ filter: "datum.kind === 'set'" }],
          mark: { type: 'line', point: true },
          encoding: {
            x: { field: 'size', type: 'quantitative', title: 'Neurons intervened on (N)' },
            y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false } },
            color: { field: 'set', type: 'nominal', title: 'Neurons', sort: [...SETS], scale: { domain: [...SETS], range: ['#1f5f99', '#999999', '#c2571a'] } },
            tooltip: [{ field: 'set' }, { field: 'size', title: 'N' }, { field: 'value', title: 'value' }],
          },
        },
        {
          transform: [{ filter: "datum.kind === 'baseline'" }],
          mark: { type: 'rule', strokeDash: [4, 4], color: '#333' },
          encoding: { y: { field: 'value', type: 'quantitative' }, tooltip: [{ field: 'value', title: 'no intervention' }] },
        },
      ],
    },
  };
}

const pct = (x: number | undefined): string => (typeof x === 'number' && Number.isFinite(x) ? (100 * x).toFixed(1) : '—');
const nats = (x: number | undefined): string => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(3) : '—');

export function interventionsHtml(study: StudyResults): string {
  const results = interventionsOf(study);
  if (!results.length) return '';
  const tables = results.map((r) => {
    const cell = (xs: Array<{ agreement?: { accuracy: number }; lm?: { loss: number } }>) => {
      const a = xs.map((s) => s.agreement?.accuracy).filter((x): x is number => typeof x === 'number');
      const l = xs.map((s) => s.lm?.loss).filter((x): x is number => typeof x === 'number');
      return `<td class="num">${a.length ? pct(mean(a)) : '—'}</td><td class="num">${l.length ? nats(mean(l)) : '—'}</td>`;
    };
    const rows = r.rows.map((row) => `<tr><td class="num">${row.size}</td>${cell([row.top])}${cell(row.random)}${cell([row.bottom])}</tr>`);
    const base = `<tr><td>none</td>${cell([r.baseline])}<td></td><td></td><td></td><td></td></tr>`;
    const probe = r.probeAblation.map(
      (a) => `<tr><td class="num">${a.percent}% (${a.count})</td><td class="num">${pct(a.masked.top)}</td><td class="num">${pct(a.masked.random)}</td><td class="num">${pct(a.masked.bottom)}</td><td class="num">${pct(a.retrained.top)}</td><td class="num">${pct(a.retrained.random)}</td><td class="num">${pct(a.retrained.bottom)}</td></tr>`,
    );
    const pairs = r.agreementPairs ? ` ${r.agreementPairs.pairs} agreement pairs (${r.agreementPairs.withAttractor} with an attractor).` : '';
    return `<h3>${escapeHtml(r.model)} · ${escapeHtml(r.task)}</h3>
<p class="note">Mode ${escapeHtml(r.mode)} on the ${escapeHtml(r.split)} corpus (${r.sentences} sentences).${pairs} Random: the mean over ${r.rows[0]?.random.length ?? 0} seeded sets.</p>
<div class="row"><table class="interventions"><thead><tr><th rowspan="2" class="num">N</th><th colspan="2">Top</th><th colspan="2">Random</th><th colspan="2">Bottom</th></tr><tr><th class="num">Agreement %</th><th class="num">LM loss</th><th class="num">Agreement %</th><th class="num">LM loss</th><th class="num">Agreement %</th><th class="num">LM loss</th></tr></thead><tbody>${base}${rows.join('')}</tbody></table>
<table class="interventions-probe"><thead><tr><th rowspan="2">Probe-side: neurons kept</th><th colspan="3">Masked (test %)</th><th colspan="3">Retrained (test %)</th></tr><tr><th class="num">Top</th><th class="num">Random</th><th class="num">Bottom</th><th class="num">Top</th><th class="num">Random</th><th class="num">Bottom</th></tr></thead><tbody>${probe.join('') || '<tr><td colspan="7">no probe-side ablation</td></tr>'}</tbody></table></div>`;
  });
  return `<section id="interventions">
<h2>Encoded vs used</h2>
<p class="note">The probe shows where the task is <b>encoded</b>; intervening inside the forward pass shows whether the model <b>uses</b> those neurons (Lakretz et al. 2019; Antverg &amp; Belinkov 2022). The task's top-N, bottom-N and random N-sets of its probe ranking are changed in the model itself, and its own predictions are scored: subject–verb number agreement on minimal pairs from the corpus (accuracy, P(correct form) &gt; P(wrong form) at the verb) and the LM loss (masked-LM for encoders, next-token for decoders). Beside it, the probe-side ablation of the same ranking: the probe's accuracy with only top / random / bottom neurons (masked, or a probe retrained on them).</p>
${tables.join('\n')}
<div class="plot" id="plot-interventions" data-empty="No interventions in this study."></div>
</section>`;
}
