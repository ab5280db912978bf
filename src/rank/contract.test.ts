/** Every ranker of the registry keeps the same contract (contract-testing.ts). */
import { RANKERS, RANKER_NAMES } from './registry.js';
import { describeRankerContract } from './contract-testing.js';

// gaussian's scores are each neuron's univariate MI while its ordering starts with the greedy (joint-MI) picks.
for (const name of RANKER_NAMES) describeRankerContract(() => RANKERS[name], { scoresFollowOrder: name !== 'gaussian' });
