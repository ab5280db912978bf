/**
 * The report's header tables: where the inputs came from (models, their weights' SHA-256, corpora) and the settings,
 * as readable tables rather than raw JSON. Two models whose weights hash the same are flagged.
 */
import { escapeHtml } from './escape.js';
import type { Provenance, StudyResults } from './types.js';

/** For each model name, the other models with byte-identical weights (only names that have such twins). */
export function identicalWeights(p: Provenance | undefined): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  if (!p) return out;
  for (const m of p.models) {
    // randomly initialised models share files with their pre-trained twin but not weights
    const same = (o: typeof m): boolean => o !== m && Boolean(o.weightsSha256) && o.weightsSha256 === m.weightsSha256 && JSON.stringify(o.randomInit) === JSON.stringify(m.randomInit);
    const twins = p.models.filter(same).map((o) => o.name);
    if (twins.length) out[m.name] = twins;
  }
  return out;
}

/** A hash shown short, with the full value in a tooltip. */
function hashCell(hex: string): string {
  return `<td><code title="${escapeHtml(hex)}">${escapeHtml(hex.slice(0, 12))}…</code></td>`;
}

function cell(v: unknown): string {
  return `<td>${v === undefined || v === null || v === '' ? '<span class="empty">—</span>' : escapeHtml(String(v))}</td>`;
}

/** The provenance tables (models, corpora), or a note when the file predates them. */
export function provenanceHtml(study: StudyResults): string {
  const p = study.provenance;
  if (!p) return '<p class="empty">No provenance recorded (results written before neuroprobe recorded it, or not by <code>neuroprobe run</code>).</p>';
  const twins = identicalWeights(p);
  const models = p.models
    .map((m) => {
      const where = m.hub ? `${m.hub.id}${m.hub.revision ? ` @ ${m.hub.revision}` : ''}` : m.path;
      const random = m.randomInit !== undefined ? ' <span class="flag">random initialisation</span>' : '';
      const flag = random + (twins[m.name] ? ` <span class="flag" title="the weights files hash the same">identical weights to ${escapeHtml(twins[m.name].join(', '))}</span>` : '');
      return `<tr><td>${escapeHtml(m.name)}${flag}</td><td class="path">${escapeHtml(where)}</td>${cell(m.modelType)}${cell(m.family)}${cell(m.source)}${cell(m.dtype)}${hashCell(m.weightsSha256)}</tr>`;
    })
    .join('');
  const corpora = p.corpora
    .map((c) => `<tr><td>${escapeHtml(c.split)}</td><td class="path">${escapeHtml(c.path)}</td><td class="num">${c.maxTokens === undefined ? 'all' : escapeHtml(c.maxTokens.toLocaleString('en-US'))}</td>${hashCell(c.sha256)}</tr>`)
    .join('');
  return (
    `<p class="meta">neuroprobe <b>${escapeHtml(p.neuroprobe)}</b> · seed <b>${escapeHtml(p.seed)}</b></p>` +
    `<table id="table-models" class="prov"><thead><tr><th>Model</th><th>Path or hub id</th><th>model_type</th><th>Family</th><th>Run as</th><th>Activations</th><th>Weights SHA-256</th></tr></thead><tbody>${models}</tbody></table>` +
    `<table id="table-corpora" class="prov"><thead><tr><th>Split</th><th>Corpus</th><th class="num">Words kept</th><th>SHA-256</th></tr></thead><tbody>${corpora}</tbody></table>`
  );
}

/** A setting's value as text: lists joined with commas, nested objects as `key: value` pairs. */
export function settingText(v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (Array.isArray(v)) return v.map(settingText).join(', ');
  if (typeof v === 'object') return Object.entries(v as Record<string, unknown>).map(([k, x]) => `${k}: ${settingText(x)}`).join('; ');
  return String(v);
}

/** Settings as a two-column table: nested objects flattened into dotted keys, lists of objects one row each. */
export function settingsRows(obj: Record<string, unknown>, prefix = ''): [string, string][] {
  const rows: [string, string][] = [];
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === 'object' && !Array.isArray(v)) rows.push(...settingsRows(v as Record<string, unknown>, key));
    else if (Array.isArray(v) && v.some((x) => x && typeof x === 'object')) {
      v.forEach((x, i) => {
        const label = x && typeof x === 'object' && typeof (x as { name?: unknown }).name === 'string' ? (x as { name: string }).name : String(i);
        if (x && typeof x === 'object') rows.push(...settingsRows(x as Record<string, unknown>, `${key}[${label}]`));
        else rows.push([`${key}[${label}]`, settingText(x)]);
      });
    } else rows.push([key, settingText(v)]);
  }
  return rows;
}

/** The settings table (`<table class="kv">`). */
export function settingsHtml(obj: Record<string, unknown>): string {
  const rows = settingsRows(obj);
  if (rows.length === 0) return '<p class="empty">none recorded</p>';
  return `<table class="kv"><tbody>${rows.map(([k, v]) => `<tr><td>${escapeHtml(k)}</td><td>${escapeHtml(v)}</td></tr>`).join('')}</tbody></table>`;
}
