/** The model families with a checkpoint builder (one module each; add a new family here). */
import type { Family } from '../family.js';
import { bertFamily, distilbertFamily } from './bert.js';

export const FAMILIES: Family[] = [bertFamily, distilbertFamily];
