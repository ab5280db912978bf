/**
 * Report benchmark: time to build and write the HTML report of a paper-scale synthetic study (4 models × 4 tasks,
 * 13 layers × 768 neurons, 50 neuron views with 10 sentences each), against writing the same study as results.json
 * (the baseline, measured in the same run), plus the page size split into bundled library and data.
 * With `--browser` it also times loading the page in headless Chromium until every figure is drawn.
 *   npm run bench -- report [--browser] [--reps N]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { syntheticStudy } from '../src/report/fixtures.js';
import { bundledScripts } from '../src/report/assets.js';
import { reportPageData, renderReportHtml } from '../src/report/html.js';
import { jsonForScript } from '../src/report/escape.js';
import { writeReport } from '../src/report/write.js';
import { writeJsonAtomic } from '../src/util/atomic.js';

function best(reps: number, fn: () => void): number {
  let min = Infinity;
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    fn();
    min = Math.min(min, performance.now() - t);
  }
  return min;
}

export async function run(args: string[]): Promise<void> {
  const reps = Number(args[args.indexOf('--reps') + 1]) || 5;
  const study = syntheticStudy({
    seed: 1,
    models: ['bert-base-cased', 'xlnet-base-cased', 'elmo', 't-elmo'],
    tasks: ['pos', 'sem', 'chunk', 'ccg'],
    layers: 13,
    width: 768,
    views: 50,
    sentencesPerView: 10,
  });
  const dir = mkdtempSync(join(tmpdir(), 'neuroprobe-bench-report-'));
  try {
    bundledScripts(); // read the library once, outside the timings
    const tJson = best(reps, () => writeJsonAtomic(join(dir, 'results.json'), study));
    const tRender = best(reps, () => renderReportHtml(study));
    let bytes = 0;
    const tWrite = best(reps, () => {
      bytes = writeReport(study, join(dir, 'report')).bytes;
    });
    const lib = bundledScripts().reduce((s, x) => s + Buffer.byteLength(x.source), 0);
    const data = Buffer.byteLength(jsonForScript(reportPageData(study)));
    console.log(`study: ${study.results.length} analyses, ${study.results[0].neurons} neurons each, ${study.results[0].neuronViews.length} views each`);
    console.log(`results.json write (baseline): ${tJson.toFixed(1)} ms`);
    console.log(`render HTML:                   ${tRender.toFixed(1)} ms`);
    console.log(`render + atomic write:         ${tWrite.toFixed(1)} ms  (${(tWrite / tJson).toFixed(2)}× the results.json write)`);
    console.log(`page: ${(bytes / 1024).toFixed(0)} KiB = library ${(lib / 1024).toFixed(0)} KiB + data ${(data / 1024).toFixed(0)} KiB + page ${((bytes - lib - data) / 1024).toFixed(0)} KiB`);
    if (args.includes('--browser')) {
      const { chromium } = await import('playwright-core');
      const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
      try {
        const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
        const t = performance.now();
        await page.goto(pathToFileURL(join(dir, 'report', 'index.html')).href);
        await page.waitForSelector('body[data-ready="1"]', { timeout: 120_000 });
        const tLoad = performance.now() - t;
        const t2 = performance.now();
        const second = await page.locator('#ex-neuron option').nth(1).getAttribute('value');
        await page.selectOption('#ex-neuron', second!);
        await page.waitForFunction((id) => (globalThis as unknown as { document: { getElementById(x: string): { textContent: string } } }).document.getElementById('ex-title').textContent.includes(`id ${id},`), second);
        console.log(`browser: load until every figure is drawn ${tLoad.toFixed(0)} ms; explorer neuron switch ${(performance.now() - t2).toFixed(0)} ms`);
      } finally {
        await browser.close();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
