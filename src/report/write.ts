/** Writing the report to disk. */
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import { renderReportHtml, type ReportOptions } from './html.js';
import type { StudyResults } from './types.js';

/** What {@link writeReport} wrote. */
export interface ReportFile {
  /** Path of index.html. */
  path: string;
  bytes: number;
}

/**
 * Write the self-contained report of `study` to `outDir/index.html` atomically (temp file + rename), creating
 * `outDir` if needed.
 */
export function writeReport(study: StudyResults, outDir: string, opts: ReportOptions = {}): ReportFile {
  const html = renderReportHtml(study, opts);
  const path = join(outDir, 'index.html');
  const buf = Buffer.from(html, 'utf8');
  writeFileAtomic(path, buf);
  return { path, bytes: buf.length };
}
