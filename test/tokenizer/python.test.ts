// Cross-check with the reference implementation: Python `tokenizers` (and `transformers`, when
// installed) must load the files and encode exactly as @huggingface/tokenizers does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { trainBPE, saveTokenizer, loadTokenizerDir } from '../../src/tokenizer/index.js';
import { syntheticCorpus, tmp } from './helpers.js';

const PYTHON = '/usr/bin/python3';
const has = (mod: string) => spawnSync(PYTHON, ['-c', `import ${mod}`], { timeout: 60_000 }).status === 0;

const SAMPLES = [
  'the privacy of split learning',
  'Hello, World! jane.doe@example.org 555-0100',
  'Café naïve Zürich Ελλάδα 東京の数据 😀👩‍💻',
  "  it's\tdon't\n\nnew  lines  ",
  'a<|endoftext|>b <pad>',
];

const SCRIPT = `
import json, sys
from tokenizers import Tokenizer
d, samples = sys.argv[1], json.loads(sys.stdin.read())
tok = Tokenizer.from_file(d + "/tokenizer.json")
out = {"ids": [tok.encode(s, add_special_tokens=False).ids for s in samples]}
out["decoded"] = [tok.decode(i, skip_special_tokens=False) for i in out["ids"]]
try:
    from transformers import AutoTokenizer
    t = AutoTokenizer.from_pretrained(d)
    out["transformers"] = [t(s, add_special_tokens=False)["input_ids"] for s in samples]
    out["special"] = [t.bos_token_id, t.eos_token_id, t.pad_token_id]
except ImportError:
    pass
print(json.dumps(out))
`;

test('Python tokenizers/transformers load the files and encode identically', (t) => {
  if (!has('tokenizers')) return t.skip(`${PYTHON} has no 'tokenizers' module: Python cross-check skipped`);
  const model = trainBPE(syntheticCorpus(31), { vocabSize: 600, specialTokens: { bos: '<|endoftext|>', eos: '<|endoftext|>', pad: '<pad>' } });
  const dir = tmp();
  saveTokenizer(dir, model);
  const r = spawnSync(PYTHON, ['-c', SCRIPT, dir], { input: JSON.stringify(SAMPLES), encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  const py = JSON.parse(r.stdout) as { ids: number[][]; decoded: string[]; transformers?: number[][]; special?: (number | null)[] };
  const js = loadTokenizerDir(dir).tokenizer;
  SAMPLES.forEach((s, i) => {
    assert.deepEqual(py.ids[i], js.encode(s, { add_special_tokens: false }).ids, `ids differ for ${JSON.stringify(s)}`);
    assert.equal(py.decoded[i], s);
  });
  if (py.transformers) {
    assert.deepEqual(py.transformers, py.ids);
    assert.deepEqual(py.special, [0, 0, 1]);
  }
});
