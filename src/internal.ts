/**
 * Internal entry point: every module the CLI, the benches and the tests may reach in one import. Not part of the
 * package's exports (package.json exports only src/index.ts, the curated public API); names here may change
 * between versions. New public names go to src/index.ts, grouped by pipeline stage, and into src/api.test.ts.
 */
export * from './util/errors.js';
export * from './util/rng.js';
export * from './util/float16.js';
export * from './util/atomic.js';
export * from './util/hash.js';
export * from './util/progress.js';
export type * from './data/types.js';
export type * from './store/types.js';
export * from './store/views.js';
export type * from './analysis/types.js';
// data: corpus readers, tasks, control tasks, datasets (src/data)
export * from './data/conllu.js';
export * from './data/neurox-text.js';
export * from './data/brown.js';
export * from './data/corpus.js';
export * from './data/entity.js';
export * from './data/tasks.js';
export * from './data/control.js';
export * from './data/vocab.js';
export * from './data/dataset.js';
export * from './data/stats.js';
export { checkReadableFile, iterateLines } from './data/lines.js';
// store: activation files (neuroprobe store, NeuroX hdf5 and json-lines) and the format-dispatching loader
export { StoreWriter, createStoreWriter, openStore, ActivationStore, isStore, partialPathFor, STORE_FORMAT, STORE_VERSION } from './store/store.js';
export type { StoreHeader, StoreWriterOptions, RowRange } from './store/store.js';
export { bytesPerValue, totalColumns, layerColumns, uniformLayers, uniformWidth } from './store/layout.js';
export { Hdf5Writer, createHdf5Writer, readNeuroxHdf5, NeuroxHdf5, SentenceKeys, isHdf5, SENTENCE_TO_INDEX } from './store/neurox-hdf5.js';
export type { Hdf5WriterOptions, NeuroxSentence, NeuroxReadOptions } from './store/neurox-hdf5.js';
export { JsonWriter, createJsonWriter, iterateNeuroxJson, loadNeuroxJson } from './store/neurox-json.js';
export type { JsonWriterOptions, JsonSentence, LoadedJson } from './store/neurox-json.js';
export { openActivations, createActivationWriter, detectFormat, formatFromPath, ACTIVATION_FORMATS } from './store/load.js';
export type { ActivationFormat, SentenceRows, OpenedActivations, OpenActivationsOptions, CreateWriterOptions } from './store/load.js';
export { convertActivations, parseLayerList, layerSelection } from './store/convert.js';
export type { ConvertOptions, ConvertSummary } from './store/convert.js';
// report: the self-contained HTML report (src/report)
export type * from './report/types.js';
export { writeReport, type ReportFile } from './report/write.js';
export { renderReportHtml, reportPageData, REPORT_FIGURES, type PageData, type ReportOptions } from './report/html.js';
export { readStudyResults, validateStudyResults, withRunInfo } from './report/load.js';
export {
  curveSpec, layerHeatSpec, layerAccuracySpec, overlapSpec, controlSpec, ablationSpec, weightsTemplate, stripTemplate, logTicks, massPercent,
  VEGA_CONFIG, NEGATIVE_COLOR, POSITIVE_COLOR, type VegaLiteSpec,
} from './report/specs.js';
export { summaryRows, ablationRows, summaryTableHtml, ablationTableHtml, type SummaryRow, type AblationTableRow } from './report/table.js';
export { escapeHtml, jsonForScript, inlineScript } from './report/escape.js';
// rank: neuron rankers (LCA, probeless, IoU/AP, Gaussian, selectivity, random, bottom) and correlation clustering
export type * from './rank/types.js';
export * from './rank/lca.js';
export * from './rank/probeless.js';
export * from './rank/iou.js';
export * from './rank/gaussian.js';
export * from './rank/clustering.js';
export * from './rank/selectivity.js';
export * from './rank/registry.js';
export { forEachBlock, readF32, readColumns, argsortDesc } from './rank/blocks.js';
// select + analysis: minimal neuron subsets, ablation, control tasks, layers/tags, neuron views, analyze()
export * from './select/minimal.js';
export * from './select/ablation.js';
export type * from './select/types.js';
export { controlLabels, controlAnalysis, type ControlLabelOptions, type ControlAnalysisOptions } from './analysis/control.js';
export * from './analysis/layers.js';
export * from './analysis/tags.js';
export * from './analysis/neurons.js';
export * from './analysis/analyze.js';
export { SoftmaxGD, softmaxGDFactory, SOFTMAX_GD_DEFAULTS } from './analysis/testing.js';
export * from './select/cache.js';
// probe engine (src/probe): elastic-net probes on ONNX Runtime GEMMs, metrics, save/load
export type * from './probe/types.js';
export * from './probe/linear-probe.js';
export * from './probe/metrics.js';
export { setKernelThreads, ortForward, ortBackward } from './probe/gemm.js';
export { penaltyValue, proxInPlace, type Penalty } from './probe/objective.js';
export { referenceSolve, type ReferenceResult } from './probe/reference.js';
export { readSafetensors, writeSafetensors, encodeSafetensors, type NamedTensor } from './probe/safetensors.js';
// extraction (src/extract, src/runtime/ort.ts)
export * from './extract/model.js';
export * from './extract/tokenize.js';
export * from './extract/surgery.js';
export * from './extract/windows.js';
export * from './extract/extractor.js';
export * from './extract/memory-writer.js';
export * from './runtime/ort.js';
export { openRawMatrix, RawMatrixWriter } from './probe/file-source.js';
// queue: a study's stages as BullMQ jobs on Redis (src/queue, docs/scale-out.md)
export { runQueuedStudy, type QueuedRunOptions } from './queue/submit.js';
export { startWorker, type WorkerOptions, type RunningWorker } from './queue/worker.js';
export { queueStatus, type QueueStatus } from './queue/status.js';
export { FsArtefactStore, type ArtefactStore, type ArtefactRef, type Published } from './queue/artefacts.js';
export * from './extract/dataset.js';
export * from './extract/sites.js';
export { buildFromCheckpoint, supportedModelTypes, familyFor } from './models/build.js';
export * from './analysis/explain.js';
export * from './analysis/sharing.js';
export * from './analysis/rankers-compare.js';
export { defaultProbeFactory, DEFAULT_PROBE_ENGINE, ANALYSIS_PROBE_DEFAULTS } from './analysis/probe-factory.js';
export { saveProbe, readInlineProbe } from './analysis/save.js';
export { runStudy } from './run/study.js';
export { loadConfig, validateConfig, defaultConfig } from './run/config.js';
