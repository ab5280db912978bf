/**
 * Where `neuroprobe extract --out` writes: the single place the extraction CLI opens an ActivationWriter.
 * Formats: a neuroprobe store folder, NeuroX `.hdf5`, NeuroX `.json` (chosen by --format or the extension).
 */
import type { ActivationMeta, ActivationWriter } from '../store/types.js';
import { InputError } from '../util/errors.js';

/** Output formats of `extract --out`. */
export type OutputFormat = 'store' | 'hdf5' | 'json';

/** The format implied by a path's extension (a folder/no extension = store). */
export function formatForPath(path: string, format?: string): OutputFormat {
  if (format) {
    if (format === 'store' || format === 'hdf5' || format === 'json') return format;
    throw new InputError(`unknown output format ${format}`, { expected: 'store, hdf5 or json' });
  }
  if (/\.(hdf5|h5)$/i.test(path)) return 'hdf5';
  if (/\.jsonl?$/i.test(path)) return 'json';
  return 'store';
}

/** Open the writer for `path`. */
export async function openActivationWriter(path: string, meta: ActivationMeta, opts: { format?: string; resume?: boolean } = {}): Promise<ActivationWriter> {
  const format = formatForPath(path, opts.format);
  void meta;
  throw new InputError(`output format ${format} is not available in this build`, { location: { file: path } });
}
