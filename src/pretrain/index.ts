// Pretraining small causal LMs (tokenizer + model) from a text corpus.
export { pretrain, type PretrainInput, type PretrainResult, type PretrainProgress } from './train.js';
export { resolveSettings, modelConfigFor, settingsConflicts, SettingsError, RESUMABLE_CHANGES, type PretrainSettings } from './config.js';
export { saveCheckpoint, readCheckpointState, restoreCheckpoint, hasCheckpoint, checkpointDir, type CheckpointState } from './checkpoint.js';
export { tokenizeCorpus, tokensDigest, unigramEntropy } from './corpus.js';
export { sampleBatch } from './batches.js';
export { SeededRandom } from '../util/prng.js';
