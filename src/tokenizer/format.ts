// Hugging Face tokenizer files for a trained byte-level BPE, in the layout of GPT-2's
// tokenizer.json (the `tokenizers` library's serialisation), loadable by @huggingface/tokenizers,
// Python `tokenizers` and `transformers` (PreTrainedTokenizerFast / AutoTokenizer).
import type { BPEModel } from './train.js';

export interface TokenizerFileOptions {
  /** Prepend the bos token to every encoded sequence (a TemplateProcessing post-processor, as Llama 3). Default false (GPT-2). */
  addBos?: boolean;
  /** tokenizer_config.json's model_max_length (e.g. the model's context). Default: left out (unlimited). */
  modelMaxLength?: number;
}

const byteLevel = (addPrefixSpace: boolean, trimOffsets: boolean) => ({
  type: 'ByteLevel',
  add_prefix_space: addPrefixSpace,
  trim_offsets: trimOffsets,
  use_regex: true,
});

export function bpeToTokenizerJson(model: BPEModel, o: TokenizerFileOptions = {}): Record<string, unknown> {
  // A null-prototype object: a token spelt "__proto__" stays an ordinary key.
  const vocab: Record<string, number> = Object.create(null);
  model.vocab.forEach((t, i) => {
    vocab[t] = i;
  });
  const addedTokens = model.specialTokens.map((content) => ({
    id: model.vocab.indexOf(content),
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));
  // GPT-2's values: the post-processor and decoder fields only matter for offsets.
  let postProcessor: Record<string, unknown> = byteLevel(true, false);
  if (o.addBos) {
    if (model.bosToken === null) throw new Error('addBos needs a model with a bos token');
    const bosId = model.vocab.indexOf(model.bosToken);
    const bos = { SpecialToken: { id: model.bosToken, type_id: 0 } };
    postProcessor = {
      type: 'Sequence',
      processors: [
        postProcessor,
        {
          type: 'TemplateProcessing',
          single: [bos, { Sequence: { id: 'A', type_id: 0 } }],
          pair: [bos, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: model.bosToken, type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
          special_tokens: { [model.bosToken]: { id: model.bosToken, ids: [bosId], tokens: [model.bosToken] } },
        },
      ],
    };
  }
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    normalizer: null,
    pre_tokenizer: byteLevel(false, true),
    post_processor: postProcessor,
    decoder: byteLevel(true, true),
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      // "a b" strings: read by every tokenizers version (byte-level tokens never contain a space).
      merges: model.merges.map(([a, b]) => `${a} ${b}`),
    },
  };
}

/** tokenizer_config.json: special tokens and decoding settings for transformers and tokenizers.js. */
export function tokenizerConfigJson(model: BPEModel, o: TokenizerFileOptions = {}): Record<string, unknown> {
  const addedTokensDecoder: Record<string, unknown> = {};
  for (const content of model.specialTokens) {
    addedTokensDecoder[String(model.vocab.indexOf(content))] = { content, lstrip: false, normalized: false, rstrip: false, single_word: false, special: true };
  }
  return {
    tokenizer_class: 'PreTrainedTokenizerFast',
    add_bos_token: o.addBos ?? false,
    add_eos_token: false,
    add_prefix_space: false,
    added_tokens_decoder: addedTokensDecoder,
    bos_token: model.bosToken,
    eos_token: model.eosToken,
    pad_token: model.padToken,
    unk_token: null,
    // Byte-level BPE round-trips exactly; the "clean up" pass would turn " ." into ".".
    clean_up_tokenization_spaces: false,
    ...(o.modelMaxLength !== undefined ? { model_max_length: o.modelMaxLength } : {}),
  };
}

/**
 * tokenizer.json text (2-space indent, as `tokenizers` saves it) with the vocabulary in id order:
 * a plain object would put integer-like tokens ("0", "12") first when serialised.
 */
export function tokenizerJsonString(model: BPEModel, o: TokenizerFileOptions = {}): string {
  const json = bpeToTokenizerJson(model, o);
  const marker = '\u0000vocab\u0000';
  const text = JSON.stringify({ ...json, model: { ...(json.model as object), vocab: marker } }, null, 2);
  const indent = '      ';
  const vocab = `{\n${model.vocab.map((t, i) => `${indent}${JSON.stringify(t)}: ${i}`).join(',\n')}\n    }`;
  return `${text.replace(JSON.stringify(marker), () => vocab)}\n`;
}
