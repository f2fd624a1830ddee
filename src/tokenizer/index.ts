// Byte-level BPE tokenizer training and Hugging Face tokenizer files.
export { trainBPE, countWords, DEFAULT_SPECIAL_TOKENS, type BPEModel, type TrainBPEOptions, type SpecialTokens } from './train.js';
export { bpeToTokenizerJson, tokenizerJsonString, tokenizerConfigJson, type TokenizerFileOptions } from './format.js';
export { saveTokenizer, loadTokenizerDir, TOKENIZER_FILE, TOKENIZER_CONFIG_FILE } from './save.js';
export { GPT2_PATTERN, preTokenize, toByteLevel, fromByteLevel, BYTE_TO_CHAR, BYTE_ALPHABET } from './bytes.js';
export { BPEEncoder, fastEncoderUnsupported } from './encode.js';
