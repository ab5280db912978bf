/**
 * Browser test of the generated report: opens it from file:// in headless Chromium (Debian package `chromium`,
 * driven by playwright-core) and checks that it renders without errors or network requests, that the tables and
 * every figure are there, and that the neuron explorer follows the selects, the list and clicks in the strip.
 * Leaves a screenshot in test-artifacts/report.png.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { syntheticStudy } from './fixtures.js';
import { writeReport } from './write.js';

// The page functions below run in the browser; this module is compiled without the DOM library.
declare const document: any; // eslint-disable-line @typescript-eslint/no-explicit-any
declare const window: { scrollTo(x: number, y: number): void };
declare function getComputedStyle(e: unknown): { backgroundColor: string };

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/', import.meta.url));
const NASTY = '</script><b>x</b><!--';
const PLOTS = ['plot-curve', 'plot-layers', 'plot-layeracc', 'plot-overlap', 'plot-control', 'plot-ablation', 'ex-strip', 'ex-weights'];

async function text(page: Page, selector: string): Promise<string> {
  return (await page.locator(selector).textContent()) ?? '';
}

let browser: Browser;
const dir = mkdtempSync(join(tmpdir(), 'neuroprobe-browser-'));

before(async () => {
  assert.ok(existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM}: install the Debian package 'chromium' (apt-get install chromium)`);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A fresh page that records console errors and warnings, page errors and any non-file request into `problems`. */
async function openPage(path: string, problems: string[]): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('request', (r) => { if (!/^(file|data|blob):/.test(r.url())) problems.push(`network request: ${r.url()}`); });
  await page.goto(pathToFileURL(path).href);
  return page;
}

test('the report renders in headless Chromium and its explorer responds', { timeout: 90_000 }, async () => {
  const study = syntheticStudy({ seed: 11 });
  study.results[0].neuronViews[0].topWords[0].word = NASTY;
  study.results[0].neuronViews[0].topSentences[0].words[0] = NASTY;
  const { path } = writeReport(study, join(dir, 'svg'));
  const problems: string[] = [];
  const page = await openPage(path, problems);
  try {
    await page.waitForSelector('body[data-ready="1"]', { timeout: 20_000 });

    // Header and tables.
    assert.equal(await text(page, 'h1'), study.name);
    assert.equal(await page.locator('#table-main tbody tr').count(), study.results.length);
    assert.equal(await page.locator('#table-ablation tbody tr').count(), study.results.length * 3);
    assert.match(await text(page, '#table-main tbody tr:first-child'), /bert-sim\s*upos/);

    // Every figure is drawn (an svg inside each container).
    for (const id of PLOTS) {
      assert.equal(await page.getAttribute(`#${id}`, 'data-rendered'), '1', `${id} rendered`);
      assert.ok((await page.locator(`#${id} svg`).count()) > 0, `${id} has an svg`);
    }
    assert.ok((await page.locator('#plot-curve svg g.mark-line path').count()) >= 4, 'one curve per model and task');

    // Explorer: the first neuron of the first pair, with the hostile word shown as text, not markup.
    assert.equal(await page.locator('#ex-neuron option').count(), 40);
    assert.equal(await page.locator('#ex-list .neuron-btn').count(), 40);
    const firstWords = await text(page, '#ex-words');
    assert.ok(firstWords.includes(NASTY));
    assert.equal(await page.locator('#ex-words b, #ex-sentences b').count(), 0);
    const firstSentences = await text(page, '#ex-sentences');
    assert.ok((await page.locator('#ex-sentences .tok').count()) > 10);
    const firstColor = await page.locator('#ex-sentences .tok').first().evaluate((e) => getComputedStyle(e).backgroundColor);
    assert.match(firstColor, /^rgba?\(/);

    // Choosing a neuron in the select updates the explorer.
    const third = await page.locator('#ex-neuron option').nth(2).getAttribute('value');
    await page.selectOption('#ex-neuron', third!);
    await page.waitForFunction((id) => document.getElementById('ex-title').textContent.includes(`id ${id},`), third);
    assert.notEqual(await text(page, '#ex-words'), firstWords);
    assert.notEqual(await text(page, '#ex-sentences'), firstSentences);
    assert.equal(await page.getAttribute(`#ex-list .neuron-btn[data-id="${third}"]`, 'aria-current'), 'true');
    assert.match(await text(page, '#ex-facts'), /minimal subset/);

    // Clicking a neuron in the list selects it.
    const btn = page.locator('#ex-list .neuron-btn').nth(6);
    const listId = await btn.getAttribute('data-id');
    await btn.click();
    await page.waitForFunction((id) => document.getElementById('ex-neuron').value === id, listId);
    assert.match(await text(page, '#ex-title'), new RegExp(`id ${listId},`));

    // Clicking a point in the strip plot selects that neuron.
    await page.waitForSelector('#ex-strip[data-rendered="1"] svg g.mark-symbol path');
    const before = await page.inputValue('#ex-neuron');
    const points = page.locator('#ex-strip svg g.mark-symbol path');
    const n = await points.count();
    assert.equal(n, 40);
    let changed = false;
    for (let k = n - 1; k >= 0 && !changed; k -= 7) {
      await points.nth(k).click({ force: true });
      changed = await page.waitForFunction((b) => document.getElementById('ex-neuron').value !== b, before, { timeout: 2000 }).then(() => true, () => false);
    }
    assert.ok(changed, 'a click in the strip changed the selected neuron');
    const picked = await page.inputValue('#ex-neuron');
    assert.match(await text(page, '#ex-title'), new RegExp(`id ${picked},`));

    // Hovering a word shows its activation.
    await page.locator('#ex-sentences .tok').nth(1).hover();
    assert.equal(await page.locator('#act-tip').isVisible(), true);
    assert.match(await text(page, '#act-tip'), /: -?\d+\.\d{3}/);

    // Another model and task: a different neuron list.
    const firstButton = await text(page, '#ex-list .neuron-btn >> nth=0');
    await page.selectOption('#ex-model', 'xlnet-sim');
    await page.selectOption('#ex-task', 'chunk');
    await page.waitForFunction((t) => document.querySelector('#ex-list .neuron-btn').textContent !== t, firstButton);
    await page.waitForSelector('#ex-weights[data-rendered="1"] svg');

    // The overlap chooser redraws the matrix for the chosen pair.
    await page.selectOption('#overlap-select', '3');
    await page.waitForFunction(() => document.querySelector('#plot-overlap[data-rendered="1"] svg')?.textContent?.includes('xlnet-sim · chunk'));

    await page.waitForSelector('body[data-ready="1"]');
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.locator('#ex-list .neuron-btn').nth(0).click();
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(ARTIFACTS, 'report.png'), fullPage: true });
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
  }
});

test('an empty study renders without errors and says there is nothing to show', { timeout: 60_000 }, async () => {
  const { path } = writeReport({ name: 'Empty', created: '', settings: {}, models: [], tasks: [], results: [] }, join(dir, 'empty'));
  const problems: string[] = [];
  const page = await openPage(path, problems);
  try {
    await page.waitForSelector('body[data-ready="1"]', { timeout: 20_000 });
    assert.equal(await page.locator('#table-main tbody tr').count(), 0);
    for (const id of ['plot-curve', 'plot-layers', 'plot-layeracc', 'plot-overlap', 'plot-control', 'plot-ablation']) {
      assert.equal(await page.getAttribute(`#${id}`, 'data-rendered'), 'empty', id);
    }
    assert.equal(await page.locator('#ex-empty').isVisible(), true);
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
  }
});

test('with the canvas renderer every figure is drawn on a canvas', { timeout: 60_000 }, async () => {
  const study = syntheticStudy({ seed: 2, models: ['m1'], tasks: ['upos', 'chunk', 'ner'] });
  delete study.results[2].control;
  const { path } = writeReport(study, join(dir, 'canvas'), { renderer: 'canvas' });
  const problems: string[] = [];
  const page = await openPage(path, problems);
  try {
    await page.waitForSelector('body[data-ready="1"]', { timeout: 20_000 });
    assert.equal(await page.locator('#table-main tbody tr').count(), 3);
    for (const id of PLOTS) assert.ok((await page.locator(`#${id} canvas`).count()) > 0, `${id} has a canvas`);
    assert.equal(await page.locator('#ex-model option').count(), 1);
    assert.equal(await page.locator('#ex-task option').count(), 3);
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
  }
});

test('at 1280 px no figure overflows its container with 4 tasks and 2 models; legends carry the dash encoding', { timeout: 90_000 }, async () => {
  const study = syntheticStudy({ seed: 5, models: ['bert-base-cased-sim', 'xlnet-base-cased-sim'], tasks: ['upos', 'chunk', 'deprel-base', 'feat:Number'] });
  // a tag without probe weight and a long label set, as in UD deprel
  const r = study.results[0];
  r.tags.topNeurons.SYM = [];
  r.tags.neuronsNeeded.SYM = 0;
  r.tags.unweighted = { SYM: 2 };
  const { path } = writeReport(study, join(dir, 'wide'));
  const problems: string[] = [];
  const page = await openPage(path, problems);
  try {
    await page.waitForSelector('body[data-ready="1"]', { timeout: 30_000 });
    const widths = await page.evaluate(() => {
      const main = document.querySelector('main');
      const inner = main.clientWidth - 56; // main's padding
      return [...document.querySelectorAll('.plot')].map((p: any) => {
        const fig = p.querySelector('svg') ?? p.querySelector('canvas');
        return { id: p.id, figure: fig ? Math.ceil(fig.getBoundingClientRect().width) : 0, box: p.clientWidth, scroll: p.scrollWidth, inner };
      });
    });
    assert.equal(await page.evaluate(() => document.documentElement.scrollWidth), 1280, 'the page does not scroll sideways');
    for (const w of widths) {
      if (w.figure === 0) continue;
      assert.ok(w.figure <= w.box && w.scroll <= w.box && w.box <= w.inner, `${w.id}: figure ${w.figure} px in a ${w.box} px container (scroll ${w.scroll}, page ${w.inner})`);
    }
    assert.ok(widths.filter((w) => w.figure > 0).length >= 7);
    // the per-layer chart's Task legend and the curve's Reference legend draw lines with each entry's dash
    const dashes = async (id: string, title: string): Promise<string[]> =>
      page.evaluate(([plot, t]) => {
        const legends = [...document.querySelectorAll(`#${plot} g.role-legend`)];
        const legend = legends.find((g: any) => g.querySelector('.role-legend-title')?.textContent === t);
        return legend ? [...legend.querySelectorAll('.role-legend-symbol path')].map((p: any) => p.getAttribute('stroke-dasharray') ?? '') : [];
      }, [id, title]);
    const task = await dashes('plot-layeracc', 'Task');
    assert.equal(task.length, 4);
    assert.equal(new Set(task).size, 4, `four different dashes: ${task.join(' | ')}`);
    const ref = await dashes('plot-curve', 'Reference');
    assert.equal(ref.length, 2);
    assert.notEqual(ref[0], ref[1]);
    // the two models' oracle rules take the two models' colours
    const ruleColours = await page.evaluate(() => [...new Set([...document.querySelectorAll('#plot-curve g.mark-rule.role-mark line, #plot-curve g.mark-rule.role-mark path')].map((l: any) => l.getAttribute('stroke')))]);
    assert.equal(ruleColours.length, 2, `rule colours ${ruleColours.join(', ')}`);
    // the n/a tag reads as such in the overlap figure
    assert.ok((await text(page, '#plot-overlap')).includes('n/a (too rare in training: 2 examples)'));
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'report-wide.png'), fullPage: true });
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
  }
});
