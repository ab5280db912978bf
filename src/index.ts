/**
 * neuroprobe: neuron-level interpretation of pre-trained language models. This file is the whole public API, grouped
 * by pipeline stage (docs/library.md walks through it; docs/architecture.md describes the stages). Anything not
 * exported here is internal: the CLI, benches and tests reach internals through src/internal.ts, which the package
 * does not export. src/api.test.ts pins these names.
 */

// --- errors and seeds -------------------------------------------------------------------------------------------
/** InputError: bad input (file, line, what was expected; the CLI exits 2). NotFittedError: a probe used before fit. */
export { InputError, NotFittedError } from './util/errors.js';
/** The seeded random stream every random step takes. */
export { Rng } from './util/rng.js';
export type { ProgressCallback, ProgressEvent } from './util/progress.js';

// --- data and tasks (src/data) ------------------------------------------------------------------------------------
/** Corpora: CoNLL-U (syntactic words only; multiword ranges give no word), plain text, Brown; NeuroX token/label files. */
export { readCorpus } from './data/corpus.js';
export { readTokenLabelFiles } from './data/neurox-text.js';
/** Tasks: word labels from a corpus (upos, xpos, deprel, feat:NAME, column:N, control:TASK, ...). */
export { TASKS, getTask, labelSentences } from './data/tasks.js';
/** Labelled datasets with train/dev/test splits and the code-point-sorted label vocabulary. */
export { buildDataset, readDataset, splitSentences } from './data/dataset.js';
export { LabelVocab } from './data/vocab.js';
export type { Sentence, Word } from './data/types.js';
export type { Task, TaskOptions } from './data/tasks.js';
export type { Dataset, DatasetOptions, DatasetSplit } from './data/dataset.js';

// --- models and extraction (src/models, src/extract) --------------------------------------------------------------
/** Open a model (local folder, hub id) and extract per-word activations of its sites into any ActivationWriter. */
export { Extractor, extractActivations } from './extract/extractor.js';
export { resolveModel } from './extract/model.js';
/** One call: a model, a corpus and a task to aligned { X, y, words, labels, vocab, neuronIds }. */
export { extractDataset } from './extract/dataset.js';
/** Site names and globs ('blocks.*.mlp.hook_post') to the sites a model offers, in layer order. */
export { filterSites, parseSitePatterns } from './extract/sites.js';
/** The checkpoint builder: a forward graph with every site from config.json + safetensors (no ONNX export needed). */
export { buildFromCheckpoint, supportedModelTypes } from './models/build.js';
export { MemoryActivationWriter } from './extract/memory-writer.js';
export type { Aggregation, ExtractorOptions, ExtractRunOptions, ExtractStats, ExtractActivationsOptions } from './extract/extractor.js';
export type { ResolvedModel } from './extract/model.js';
export type { ExtractDatasetOptions, ExtractedDataset } from './extract/dataset.js';

// --- the activation store and NeuroX formats (src/store) ----------------------------------------------------------
/** Open any activation file (neuroprobe store, NeuroX hdf5 or json-lines) as rows; write one by its extension. */
export { openActivations, createActivationWriter } from './store/load.js';
export { convertActivations } from './store/convert.js';
export { readNeuroxHdf5 } from './store/neurox-hdf5.js';
export { loadNeuroxJson } from './store/neurox-json.js';
/** Views without copies: an in-memory matrix as rows, a subset of rows or columns. */
export { denseSource, selectRows, selectColumns } from './store/views.js';
export type { ActivationMeta, ActivationWriter, DenseMatrix, LayerInfo, RowSource } from './store/types.js';
export type { OpenedActivations, OpenActivationsOptions } from './store/load.js';

// --- probes (src/probe) -------------------------------------------------------------------------------------------
/** Elastic-net probes (scikit-learn style): logistic, NeuroX's Adam loop, linear regression; save/load. */
export { LogisticProbe, NeuroXProbe, LinearProbe, createProbe, DEFAULT_PROBE_PARAMS } from './probe/linear-probe.js';
/** Metrics of a fitted probe on one split. */
export { evaluate, classificationReport } from './probe/metrics.js';
export type { Classifier, FitInfo, FitOptions, ProbeParams } from './probe/types.js';
export type { ProbeParamsExt, ProbeFitInfo, ProbeMeta } from './probe/linear-probe.js';
export type { SplitMetrics, ClassificationReport } from './probe/metrics.js';

// --- rankers (src/rank) -------------------------------------------------------------------------------------------
/** The registry (lca, probeless, iou, gaussian, random, bottom, selectivity); rankNeurons also takes a custom Ranker. */
export { RANKERS, RANKER_NAMES, getRanker, rankNeurons } from './rank/registry.js';
export type { Ranker, Ranking, RankInput, ProbeFactory, ProbeWeights } from './rank/types.js';

// --- selection and ablation (src/select) --------------------------------------------------------------------------
/** The smallest top-ranked set reaching the oracle's dev accuracy within δ; top/random/bottom ablation. */
export { minimalSubset, NEUROX_SIZES } from './select/minimal.js';
export { ablation } from './select/ablation.js';
export type { MinimalOptions, MinimalSearch } from './select/minimal.js';
export type { AblationOptions } from './select/ablation.js';
export type { AblationRow, CurvePoint, LabeledSplit, MinimalSubset } from './select/types.js';

// --- analysis (src/analysis) --------------------------------------------------------------------------------------
/** The whole per-(model, task) analysis: oracle, ranking, minimal subset, ablation, layers, tags, control, views. */
export { analyze } from './analysis/analyze.js';
export { controlAnalysis } from './analysis/control.js';
export { layerAnalysis } from './analysis/layers.js';
export { neuronViews } from './analysis/neurons.js';
/** Compositional explanations of neurons over corpus concepts. */
export { explainNeurons, corpusConcepts } from './analysis/explain.js';
/** Neurons shared across tasks. */
export { neuronSharing, sharingFromResults } from './analysis/sharing.js';
/** Rankers compared: top-k overlap, consensus ordering, each one's subset and ablation. */
export { compareRankers, consensusOrdering, topKOverlap } from './analysis/rankers-compare.js';
export type { AnalyzeInput, AnalyzeOutput, AnalysisSplit } from './analysis/analyze.js';
export type { AnalysisResult, ControlResult, LayerResult, NeuronView, ProbeSummary, TagResult } from './analysis/types.js';
export type { ExplainOptions, ExplainResult, NeuronExplanation } from './analysis/explain.js';
export type { SharingResult } from './analysis/sharing.js';
export type { CompareRankersInput, RankerComparison } from './analysis/rankers-compare.js';

// --- studies and reports (src/run, src/report) --------------------------------------------------------------------
/** A study from a YAML/JSON config: extraction, analyses, results.json, the HTML report; resumable. */
export { runStudy } from './run/study.js';
export { loadConfig, validateConfig, defaultConfig } from './run/config.js';
/** The probe factory studies and analyze() use by default, and the probe folder format with its metadata. */
export { defaultProbeFactory } from './analysis/probe-factory.js';
export { saveProbe } from './analysis/save.js';
export { writeReport } from './report/write.js';
export { readStudyResults } from './report/load.js';
export type { StudyConfig, ModelConfig } from './run/config.js';
export type { RunStudyOptions, RunSummary } from './run/study.js';
export type { StudyResults } from './report/types.js';

// --- interventions (src/intervene) --------------------------------------------------------------------------------
/** Zero/mean/value/scale neurons in a model and measure LM loss and number agreement. */
export { Evaluation, runIntervention } from './intervene/run.js';
export type { InterventionResult, RunInterventionOptions } from './intervene/run.js';
