/** The model families with a checkpoint builder (one module each; add a new family here). */
import type { Family } from '../family.js';
import { bertFamily, distilbertFamily } from './bert.js';
import { gpt2Family } from './gpt2.js';
import { gptNeoxFamily } from './gpt-neox.js';
import { gemmaFamily, llamaFamily } from './llama.js';
import { optFamily } from './opt.js';
import { xlnetFamily } from './xlnet.js';

export const FAMILIES: Family[] = [bertFamily, distilbertFamily, gpt2Family, xlnetFamily, llamaFamily, gemmaFamily, gptNeoxFamily, optFamily];
