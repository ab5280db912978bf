/**
 * Pins the public API (src/index.ts): its runtime names, and (compiled, never run as such) the shapes a research
 * script relies on. A change here is a change of the package's interface: update docs/library.md with it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as api from './index.js';
import type {
  AnalysisResult, AnalyzeInput, Classifier, ExtractedDataset, LayerInfo, ProbeFactory, Ranker, Ranking, RankInput, RowSource, Sentence,
  StudyConfig, MinimalOptions,
} from './index.js';

const PUBLIC = [
  'DEFAULT_PROBE_PARAMS', 'Evaluation', 'Extractor', 'InputError', 'LabelVocab', 'LinearProbe', 'LogisticProbe', 'MemoryActivationWriter',
  'NEUROX_SIZES', 'NeuroXProbe', 'NotFittedError', 'RANKERS', 'RANKER_NAMES', 'Rng', 'TASKS', 'ablation', 'analyze', 'buildDataset',
  'buildFromCheckpoint', 'classificationReport', 'compareRankers', 'consensusOrdering', 'controlAnalysis', 'convertActivations',
  'corpusConcepts', 'createActivationWriter', 'createProbe', 'defaultConfig', 'defaultProbeFactory', 'denseSource', 'evaluate',
  'explainNeurons', 'extractActivations', 'extractDataset', 'filterSites', 'getRanker', 'getTask', 'labelSentences', 'layerAnalysis',
  'loadConfig', 'loadNeuroxJson', 'minimalSubset', 'neuronSharing', 'neuronViews', 'openActivations', 'parseSitePatterns', 'rankNeurons',
  'readCorpus', 'readDataset', 'readNeuroxHdf5', 'readStudyResults', 'readTokenLabelFiles', 'resolveModel', 'runIntervention', 'runStudy',
  'saveProbe', 'selectColumns', 'selectRows', 'sharingFromResults', 'splitSentences', 'supportedModelTypes', 'topKOverlap',
  'validateConfig', 'writeReport',
];

test('the public API is exactly the curated names', () => {
  assert.deepEqual(Object.keys(api).sort(), [...PUBLIC].sort());
  for (const k of PUBLIC) assert.notEqual((api as Record<string, unknown>)[k], undefined, k);
  assert.equal(typeof api.extractDataset, 'function');
  assert.ok(api.RANKER_NAMES.includes('lca'));
});

// Type-level checks: they fail the build (tsc), not the run, when a public shape drifts.
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const typeChecks = (): void => {
  // readonly label arrays are accepted where labels are read
  const labels: readonly string[] = Object.freeze(['a', 'b']);
  const rankInput: RankInput = { labels };
  const minimal: Pick<MinimalOptions, 'labels'> = { labels };
  const analyzeLabels: AnalyzeInput['labels'] = labels;
  // a dataset from extractDataset is a RankInput and an analysis split as it is
  const ds = {} as ExtractedDataset;
  const asRank: RankInput = ds;
  const asSplit: AnalyzeInput['train'] = ds;
  // a custom ranker plugs into rankNeurons and analyze
  const custom: Ranker = { name: 'mine', description: 'a custom ranker', needs: 'data', rank: (): Ranking => ({ method: 'mine', ordering: new Int32Array(0) }) };
  const viaAnalyze: AnalyzeInput['ranker'] = custom;
  const r: Ranking = api.rankNeurons(custom, rankInput);
  // probes are Classifiers, the default factory is a ProbeFactory, studies return AnalysisResults
  const c: Classifier = api.createProbe();
  const f: ProbeFactory = api.defaultProbeFactory();
  const x: Equal<ReturnType<typeof api.runStudy>, Promise<api.RunSummary>> = true;
  const y: Equal<ExtractedDataset['layers'], LayerInfo[]> = true;
  const z: Equal<Parameters<typeof api.readCorpus>[0], string> = true;
  void [minimal, analyzeLabels, asRank, asSplit, viaAnalyze, r, c, f, x, y, z, {} as AnalysisResult, {} as RowSource, {} as Sentence, {} as StudyConfig];
};
void typeChecks;
