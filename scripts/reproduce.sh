#!/usr/bin/env bash
# Regenerates every figure the README quotes into results/<name>.json (see scripts/record.mjs: each
# file holds the command, the commit, the machine's cores and load, the date and the result).
# Hours on a 2-core machine; not part of CI. Run a subset by name: scripts/reproduce.sh sweep-stories260k bench-engine
# Needs ../shared (stories260K, WikiText-2, TinyStories) beside the checkout, and a built tree (npm run build).
set -euo pipefail
cd "$(dirname "$0")/.."
S=../shared
REC="node scripts/record.mjs"

declare -A RUNS=(
  # Speed against the Python PyTorch / scikit-learn peers, in the same run (ratios and medians).
  [bench-engine]="./revertlm bench engine --json"
  [bench-models]="./revertlm bench models --json"
  [bench-leakage]="./revertlm bench leakage --json"
  [bench-split]="./revertlm bench split --json"
  [bench-attack]="./revertlm bench attack --json"
  # The same with the victim's text sent 4 times over (224 windows): the drifted cost at a larger capture, measured.
  [bench-attack-x4]="./revertlm bench attack --repeat 4 --json"
  [bench-tag]="./revertlm bench tag --json"
  # Attacks at default budgets, exact and personalized scenarios side by side.
  [sweep-stories260k]="./revertlm attack-sweep --model $S/models/stories260K --aux $S/data/wikitext2-test.raw --victim $S/data/tinystories_sample.txt --json"
  [sweep-mail-llama]="./revertlm attack-sweep --model models/mail-llama --aux spamassassin:hard-ham-1 --victim spamassassin:easy-ham-2 --json"
  [sweep-mail-llama-deep]="./revertlm attack-sweep --model models/mail-llama-deep --aux spamassassin:hard-ham-1 --victim spamassassin:easy-ham-2 --splits 1,3,6,9,11 --json"
  # The deepest split of stories260K alone at the default budget (8000 x 1500; the full sweep above is
  # hours): the four attacks that separate, 32 victim windows (BiSR's optimisation costs ~15 s a window).
  [sweep-stories260k-k4]="./revertlm attack-sweep --model $S/models/stories260K --aux $S/data/wikitext2-test.raw --victim $S/data/tinystories_sample.txt --splits 4 --attacks revertlm,bisr,sip,nn --victim-segments 32 --json"
  # RevertLM alone at that split, personalized scenario, every one of the 32 windows printed (--show 32):
  # which window the sweep's 31 of 32 misses, and how.
  [attack-stories260k-k4-personalized]="./revertlm attack --model $S/models/stories260K --split 4 --attack revertlm --aux $S/data/wikitext2-test.raw --victim $S/data/tinystories_sample.txt --victim-segments 32 --personalize lora --wire-dtype float16 --show 32 --json"
  # The shallower splits of stories260K at the default budget (about 90 minutes on 2 cores).
  [sweep-stories260k-k123]="./revertlm attack-sweep --model $S/models/stories260K --aux $S/data/wikitext2-test.raw --victim $S/data/tinystories_sample.txt --splits 1,2,3 --attacks revertlm,bisr,sip,nn --victim-segments 32 --json"
  # The 4-block embedded default at the default budget, one split at a time (about 26 minutes each on 2 cores).
  [sweep-mail-llama-k1]="./revertlm attack-sweep --model models/mail-llama --aux spamassassin:hard-ham-1 --victim spamassassin:easy-ham-2 --splits 1 --attacks revertlm,bisr,sip,nn --victim-segments 32 --json"
  [sweep-mail-llama-k2]="./revertlm attack-sweep --model models/mail-llama --aux spamassassin:hard-ham-1 --victim spamassassin:easy-ham-2 --splits 2 --attacks revertlm,bisr,sip,nn --victim-segments 32 --json"
  [sweep-mail-llama-k3]="./revertlm attack-sweep --model models/mail-llama --aux spamassassin:hard-ham-1 --victim spamassassin:easy-ham-2 --splits 3 --attacks revertlm,bisr,sip,nn --victim-segments 32 --json"
  # The deepest split of the 12-block model alone at the default budget, both scenarios, 16 victim windows.
  [sweep-mail-llama-deep-k11]="./revertlm attack-sweep --model models/mail-llama-deep --aux spamassassin:hard-ham-1 --victim spamassassin:easy-ham-2 --splits 11 --attacks revertlm,bisr,sip,nn --victim-segments 16 --json"
  # Optimisation-based inversion (no training budget: its own defaults) on the 12-block model at every split of the sweep.
  [sweep-mail-llama-deep-opt]="./revertlm attack-sweep --model models/mail-llama-deep --aux spamassassin:hard-ham-1 --victim spamassassin:easy-ham-2 --splits 1,3,6,9,11 --attacks opt --victim-segments 16 --json"
  # The middle splits of the 12-block model, one at a time (each about an hour on 2 cores).
  [sweep-mail-llama-deep-k6]="./revertlm attack-sweep --model models/mail-llama-deep --aux spamassassin:hard-ham-1 --victim spamassassin:easy-ham-2 --splits 6 --attacks revertlm,bisr,sip,nn --victim-segments 16 --json"
  [sweep-mail-llama-deep-k9]="./revertlm attack-sweep --model models/mail-llama-deep --aux spamassassin:hard-ham-1 --victim spamassassin:easy-ham-2 --splits 9 --attacks revertlm,bisr,sip,nn --victim-segments 16 --json"
  [sweep-mail-llama-deep-k1]="./revertlm attack-sweep --model models/mail-llama-deep --aux spamassassin:hard-ham-1 --victim spamassassin:easy-ham-2 --splits 1 --attacks revertlm,bisr,sip,nn --victim-segments 16 --json"
  [sweep-mail-llama-deep-k3]="./revertlm attack-sweep --model models/mail-llama-deep --aux spamassassin:hard-ham-1 --victim spamassassin:easy-ham-2 --splits 3 --attacks revertlm,bisr,sip,nn --victim-segments 16 --json"
  # The same sweeps at a reduced budget (2000 auxiliary windows x 300 steps, 32 victim windows, the four
  # attacks that separate; optimisation-based inversion left out): what fits a session of a few hours.
  [sweep-stories260k-short]="./revertlm attack-sweep --model $S/models/stories260K --aux $S/data/wikitext2-test.raw --victim $S/data/tinystories_sample.txt --attacks revertlm,bisr,sip,nn --examples 2000 --steps 300 --victim-segments 32 --json"
  # Short documents (Shakespeare's speeches, one EOS between every two) at stories260K, whose EOS
  # embedding lies among 251 near-copies (the token grammar and the separator tie-break, README).
  [sweep-stories260k-shakespeare-short]="./revertlm attack-sweep --model $S/models/stories260K --aux $S/data/wikitext2-test.raw --victim $S/data/tinyshakespeare.txt --victim-format paragraphs --splits 2,4 --attacks revertlm,bisr,sip --examples 2000 --steps 300 --victim-segments 32 --json"
  # Text neither model was trained on nor tuned for: maths word problems (GSM8K answers, with their
  # calculator annotations) on the e-mail model, and code (CodeAlpaca outputs) on the TinyStories model,
  # whose tokenizer spells most code symbols with byte tokens the model never learned apart.
  [sweep-mail-llama-gsm8k-short]="./revertlm attack-sweep --model models/mail-llama --aux spamassassin:hard-ham-1 --victim $S/data/gsm8k_test.jsonl --victim-field answer --splits 2 --attacks revertlm,sip,nn --examples 2000 --steps 300 --victim-segments 32 --json"
  [sweep-stories260k-gsm8k-short]="./revertlm attack-sweep --model $S/models/stories260K --aux $S/data/wikitext2-test.raw --victim $S/data/gsm8k_test.jsonl --victim-field answer --splits 2,4 --attacks revertlm,sip,nn --examples 2000 --steps 300 --victim-segments 32 --json"
  [sweep-stories260k-dialogsum-short]="./revertlm attack-sweep --model $S/models/stories260K --aux $S/data/wikitext2-test.raw --victim $S/data/dialogsum.test.jsonl --victim-field dialogue --splits 2,4 --attacks revertlm,sip,nn --examples 2000 --steps 300 --victim-segments 32 --json"
  [sweep-stories260k-piqa-short]="./revertlm attack-sweep --model $S/models/stories260K --aux $S/data/wikitext2-test.raw --victim $S/data/piqa_valid.jsonl --victim-field sol1 --splits 2,4 --attacks revertlm,sip,nn --examples 2000 --steps 300 --victim-segments 32 --json"
  [sweep-stories260k-email-short]="./revertlm attack-sweep --model $S/models/stories260K --aux $S/data/wikitext2-test.raw --victim spamassassin:easy-ham-2 --splits 2,4 --attacks revertlm,sip,nn --examples 2000 --steps 300 --victim-segments 32 --json"
  [sweep-stories260k-sms-short]="./revertlm attack-sweep --model $S/models/stories260K --aux $S/data/wikitext2-test.raw --victim $S/data/SMSSpamCollection --victim-format tsv --victim-column 1 --victim-no-header --splits 2,4 --attacks revertlm,sip,nn --examples 2000 --steps 300 --victim-segments 32 --json"
  [sweep-mail-llama-code-short]="./revertlm attack-sweep --model models/mail-llama --aux spamassassin:hard-ham-1 --victim $S/data/code_alpaca_2k.json --victim-field output --splits 2,3 --attacks revertlm,sip,nn --examples 2000 --steps 300 --victim-segments 32 --json"
  [sweep-mail-llama-piqa-short]="./revertlm attack-sweep --model models/mail-llama --aux spamassassin:hard-ham-1 --victim $S/data/piqa_valid.jsonl --victim-field sol1 --splits 2,3 --attacks revertlm,sip,nn --examples 2000 --steps 300 --victim-segments 32 --json"
  [sweep-stories260k-code-short]="./revertlm attack-sweep --model $S/models/stories260K --aux $S/data/wikitext2-test.raw --victim $S/data/code_alpaca_2k.json --victim-field output --splits 2,4 --attacks revertlm,sip,nn --examples 2000 --steps 300 --victim-segments 32 --json"
  # Why code through stories260K comes back word for word but rarely token for token once the device is
  # personalized: byte-token twins, the estimate's residual drift, and what the estimate fits on (research driver).
  [twin-limit-code-k2]="node dist/scripts/research/twin_limit.js --split 2 --shared $S"
  [sweep-stories260k-k4-short]="./revertlm attack-sweep --model $S/models/stories260K --aux $S/data/wikitext2-test.raw --victim $S/data/tinystories_sample.txt --splits 4 --attacks revertlm,bisr,sip,nn --examples 2000 --steps 300 --victim-segments 32 --json"
  [sweep-stories260k-k123-short]="./revertlm attack-sweep --model $S/models/stories260K --aux $S/data/wikitext2-test.raw --victim $S/data/tinystories_sample.txt --splits 1,2,3 --attacks revertlm,bisr,sip,nn --examples 2000 --steps 300 --victim-segments 32 --json"
  [sweep-mail-llama-short]="./revertlm attack-sweep --model models/mail-llama --aux spamassassin:hard-ham-1 --victim spamassassin:easy-ham-2 --attacks revertlm,bisr,sip,nn --examples 2000 --steps 300 --victim-segments 32 --json"
  [sweep-mail-llama-deep-short]="./revertlm attack-sweep --model models/mail-llama-deep --aux spamassassin:hard-ham-1 --victim spamassassin:easy-ham-2 --splits 1,6,11 --scenarios personalized --attacks revertlm,sip,nn --examples 2000 --steps 300 --victim-segments 16 --json"
  [sweep-mail-llama-deep-k39-short]="./revertlm attack-sweep --model models/mail-llama-deep --aux spamassassin:hard-ham-1 --victim spamassassin:easy-ham-2 --splits 3,9 --scenarios personalized --attacks revertlm,sip,nn --examples 2000 --steps 300 --victim-segments 16 --json"
  [sweep-stories260k-k4-wide-short]="./revertlm attack-sweep --model $S/models/stories260K --aux $S/data/wikitext2-test.raw --victim $S/data/tinystories_sample.txt --splits 4 --scenarios personalized --attacks revertlm,sip --examples 2000 --steps 300 --victim-segments 32 --json"
  # The 12-block model's audit with every default (splits 1, 3, 6, 9, 11; 64 victim windows; budgets
  # 8000 x 1500; the Gaussian curve at split 6): many hours on 2 cores, so it resumes where an
  # interrupted run stopped (re-run the same entry to go on).
  [audit-mail-llama-deep]="./revertlm audit --model models/mail-llama-deep --aux spamassassin:hard-ham-1 --victim spamassassin:easy-ham-2 --out results/audit-mail-llama-deep --resume --json"
  # The deep model's audit at the reduced budget: leakage of all 13 representations, every attack at
  # k = 1, 3, 6, 9, 11, exact and personalized, and the report's depth chart (no trade-off curve).
  [audit-mail-llama-deep-short]="./revertlm audit --config scripts/configs/audit-mail-llama-deep-short.json --out results/audit-mail-llama-deep-short --json"
  [sweep-mail-llama-deep-k11-exact-short]="./revertlm attack-sweep --model models/mail-llama-deep --aux spamassassin:hard-ham-1 --victim spamassassin:easy-ham-2 --splits 11 --scenarios exact --attacks revertlm,sip --examples 2000 --steps 300 --victim-segments 16 --json"
  [tradeoff-stories260k-short]="./revertlm tradeoff --model $S/models/stories260K --split 4 --aux $S/data/wikitext2-test.raw --victim $S/data/tinystories_sample.txt --victim-separator <|endoftext|> --defense gaussian --levels 0,0.5,1,2 --attacks revertlm,sip --scenarios personalized --examples 2000 --steps 300 --json"
  # Harder personalization and less attacker knowledge (stories260K).
  [sweep-stories260k-lora-all]="./revertlm attack-sweep --model $S/models/stories260K --aux $S/data/wikitext2-test.raw --victim $S/data/tinystories_sample.txt --personalize lora --personalize-targets q,k,v,o,gate,up,down --wire-dtype float16 --json"
  [sweep-stories260k-full]="./revertlm attack-sweep --model $S/models/stories260K --aux $S/data/wikitext2-test.raw --victim $S/data/tinystories_sample.txt --personalize full --wire-dtype float16 --json"
  [sweep-stories260k-architecture]="./revertlm attack-sweep --model $S/models/stories260K --aux $S/data/wikitext2-test.raw --victim $S/data/tinystories_sample.txt --personalize lora --knowledge architecture --wire-dtype float16 --attacks revertlm-learned,sip --json"
  # The same three at the reduced budget (2000 x 300, 32 victim windows).
  [sweep-stories260k-lora-all-short]="./revertlm attack-sweep --model $S/models/stories260K --aux $S/data/wikitext2-test.raw --victim $S/data/tinystories_sample.txt --personalize lora --personalize-targets q,k,v,o,gate,up,down --wire-dtype float16 --attacks revertlm,bisr,sip,nn --examples 2000 --steps 300 --victim-segments 32 --json"
  [sweep-stories260k-full-short]="./revertlm attack-sweep --model $S/models/stories260K --aux $S/data/wikitext2-test.raw --victim $S/data/tinystories_sample.txt --personalize full --wire-dtype float16 --attacks revertlm,bisr,sip,nn --examples 2000 --steps 300 --victim-segments 32 --json"
  [sweep-stories260k-architecture-short]="./revertlm attack-sweep --model $S/models/stories260K --aux $S/data/wikitext2-test.raw --victim $S/data/tinystories_sample.txt --personalize lora --knowledge architecture --wire-dtype float16 --attacks revertlm-learned,sip --examples 2000 --steps 300 --victim-segments 32 --json"
  # k = 4 of the two again with the repair of commit 9cd5ed1 (RevertLM and SIP only).
  [sweep-stories260k-lora-all-k4-wide-short]="./revertlm attack-sweep --model $S/models/stories260K --aux $S/data/wikitext2-test.raw --victim $S/data/tinystories_sample.txt --splits 4 --personalize lora --personalize-targets q,k,v,o,gate,up,down --wire-dtype float16 --attacks revertlm,sip --examples 2000 --steps 300 --victim-segments 32 --json"
  [sweep-stories260k-full-k4-wide-short]="./revertlm attack-sweep --model $S/models/stories260K --aux $S/data/wikitext2-test.raw --victim $S/data/tinystories_sample.txt --splits 4 --personalize full --wire-dtype float16 --attacks revertlm,sip --examples 2000 --steps 300 --victim-segments 32 --json"
  # k = 4 of the three at the default budget (8000 x 1500, 32 victim windows); LoRA on every projection and full fine-tuning in one sweep.
  [sweep-stories260k-harder-k4]="./revertlm attack-sweep --model $S/models/stories260K --aux $S/data/wikitext2-test.raw --victim $S/data/tinystories_sample.txt --splits 4 --scenarios lora-all,full --attacks revertlm,sip,nn --victim-segments 32 --json"
  [sweep-stories260k-architecture-k4]="./revertlm attack-sweep --model $S/models/stories260K --aux $S/data/wikitext2-test.raw --victim $S/data/tinystories_sample.txt --splits 4 --personalize lora --knowledge architecture --wire-dtype float16 --attacks revertlm-learned,sip --victim-segments 32 --json"
  # k = 1, 2, 3 of the three at the default budget (the same settings as the k = 4 entries above):
  # LoRA on every projection and full fine-tuning side by side in one sweep (the attackers, trained on the pretrained part, once for both).
  [sweep-stories260k-harder-k123]="./revertlm attack-sweep --model $S/models/stories260K --aux $S/data/wikitext2-test.raw --victim $S/data/tinystories_sample.txt --splits 1,2,3 --scenarios lora-all,full --attacks revertlm,sip,nn --victim-segments 32 --json"
  [sweep-stories260k-architecture-k123]="./revertlm attack-sweep --model $S/models/stories260K --aux $S/data/wikitext2-test.raw --victim $S/data/tinystories_sample.txt --splits 1,2,3 --personalize lora --knowledge architecture --wire-dtype float16 --attacks revertlm-learned,sip --victim-segments 32 --json"
  # mail-llama (4 blocks): the harder scenarios at the reduced budget (2000 x 300, 32 victim windows).
  [sweep-mail-llama-harder-short]="./revertlm attack-sweep --model models/mail-llama --aux spamassassin:hard-ham-1 --victim spamassassin:easy-ham-2 --splits 1,2,3 --scenarios lora-all,full --attacks revertlm,sip,nn --examples 2000 --steps 300 --victim-segments 32 --json"
  # mail-llama's harder scenarios at the default budget, one split per entry (~30 min each on 2 cores).
  [sweep-mail-llama-harder-k3]="./revertlm attack-sweep --model models/mail-llama --aux spamassassin:hard-ham-1 --victim spamassassin:easy-ham-2 --splits 3 --scenarios lora-all,full --attacks revertlm,sip,nn --victim-segments 32 --json"
  [sweep-mail-llama-harder-k2]="./revertlm attack-sweep --model models/mail-llama --aux spamassassin:hard-ham-1 --victim spamassassin:easy-ham-2 --splits 2 --scenarios lora-all,full --attacks revertlm,sip,nn --victim-segments 32 --json"
  [sweep-mail-llama-harder-k1]="./revertlm attack-sweep --model models/mail-llama --aux spamassassin:hard-ham-1 --victim spamassassin:easy-ham-2 --splits 1 --scenarios lora-all,full --attacks revertlm,sip,nn --victim-segments 32 --json"
  [sweep-mail-llama-architecture-short]="./revertlm attack-sweep --model models/mail-llama --aux spamassassin:hard-ham-1 --victim spamassassin:easy-ham-2 --splits 1,2,3 --personalize lora --knowledge architecture --wire-dtype float16 --attacks revertlm-learned,sip --examples 2000 --steps 300 --victim-segments 32 --json"
  # Private text the defaults were never tuned on (generalisation), reduced budget (2000 x 300, 32 victim
  # windows), exact and personalized: real personal SMS messages and everyday dialogues on the e-mail model.
  [sweep-mail-llama-sms-short]="./revertlm attack-sweep --model models/mail-llama --aux spamassassin:hard-ham-1 --victim $S/data/SMSSpamCollection --victim-format tsv --victim-column 1 --victim-no-header --attacks revertlm,bisr,sip,nn --examples 2000 --steps 300 --victim-segments 32 --json"
  [sweep-mail-llama-dialogsum-short]="./revertlm attack-sweep --model models/mail-llama --aux spamassassin:hard-ham-1 --victim $S/data/dialogsum.test.jsonl --victim-field dialogue --attacks revertlm,bisr,sip,nn --examples 2000 --steps 300 --victim-segments 32 --json"
  # The GPT-2 family (models/mail-gpt2: mail-llama's recipe with --family gpt2) on mail-llama's victim and auxiliary text.
  [sweep-mail-gpt2-short]="./revertlm attack-sweep --model models/mail-gpt2 --aux spamassassin:hard-ham-1 --victim spamassassin:easy-ham-2 --splits 1,2,3 --attacks revertlm,bisr,sip,nn --examples 2000 --steps 300 --victim-segments 32 --json"
  # The 12-block model on the SMS messages at a shallow, a middle and the deepest split (16 windows; BiSR left out as in the deep model's other short sweeps).
  [sweep-mail-llama-deep-sms-short]="./revertlm attack-sweep --model models/mail-llama-deep --aux spamassassin:hard-ham-1 --victim $S/data/SMSSpamCollection --victim-format tsv --victim-column 1 --victim-no-header --splits 1,6,11 --attacks revertlm,sip,nn --examples 2000 --steps 300 --victim-segments 16 --json"
  [ablations-stories260k]="./revertlm attack-sweep --model $S/models/stories260K --aux $S/data/wikitext2-test.raw --victim $S/data/tinystories_sample.txt --splits 4 --attacks revertlm,revertlm-nn,revertlm-noprior,revertlm-noreencode,revertlm-oracle --json"
  # The repair's search cost with and without the stand-out stop (default standOut 0.5, neighbourK 32; research driver,
  # attacker 2000 x 300 cached under /tmp, 16 windows, personalized device): candidates re-encoded by round.
  [search-deep-k11-nostop]="node dist/scripts/research/personalized_attack.js --model models/mail-llama-deep --aux spamassassin:hard-ham-1 --victim spamassassin:easy-ham-2 --splits 11 --attacks revertlm --examples 2000 --steps 300 --windows 16 --cache /tmp/revertlm-search-cache --config {\"revertlm\":{\"repair\":{\"standOut\":0,\"neighbourK\":0}}}"
  [search-deep-k11]="node dist/scripts/research/personalized_attack.js --model models/mail-llama-deep --aux spamassassin:hard-ham-1 --victim spamassassin:easy-ham-2 --splits 11 --attacks revertlm --examples 2000 --steps 300 --windows 16 --cache /tmp/revertlm-search-cache"
  # Code through the 12-block model at its deepest split (exact and personalized scenarios): with half RevertLM's steps
  # on stage 1 and the shapes searched (before f6d02fb, c67c0c1) it fell below SIP personalized.
  [sweep-mail-llama-deep-code-k11-short]="./revertlm attack-sweep --model models/mail-llama-deep --aux spamassassin:hard-ham-1 --victim $S/data/code_alpaca_2k.json --victim-field output --splits 11 --attacks revertlm,sip,nn --examples 2000 --steps 300 --victim-segments 16 --json"
  # The learned stages alone on the same traffic (no re-encoding, no estimation): what the alternation starts from.
  [sweep-mail-llama-deep-code-k11-learned-short]="./revertlm attack-sweep --model models/mail-llama-deep --aux spamassassin:hard-ham-1 --victim $S/data/code_alpaca_2k.json --victim-field output --splits 11 --scenarios personalized --attacks revertlm-learned,sip --examples 2000 --steps 300 --victim-segments 16 --json"
  # The same traffic with twice the steps for every attack (2000 x 600): whether the gap is the budget.
  [sweep-mail-llama-deep-code-k11-600]="./revertlm attack-sweep --model models/mail-llama-deep --aux spamassassin:hard-ham-1 --victim $S/data/code_alpaca_2k.json --victim-field output --splits 11 --attacks revertlm,sip,nn --examples 2000 --steps 600 --victim-segments 16 --json"
  # The same traffic at the default budget (8000 x 1500).
  [sweep-mail-llama-deep-code-k11]="./revertlm attack-sweep --model models/mail-llama-deep --aux spamassassin:hard-ham-1 --victim $S/data/code_alpaca_2k.json --victim-field output --splits 11 --attacks revertlm,sip,nn --victim-segments 16 --json"
  # The reduced budget (2000 x 300) spent differently: a quarter of RevertLM's steps on stage 1 instead of half
  # (research driver, personalized scenario; attacker cached under /tmp).
  [share-deep-code-k11]="node dist/scripts/research/personalized_attack.js --model models/mail-llama-deep --aux spamassassin:hard-ham-1 --victim-spec {\"source\":\"$S/data/code_alpaca_2k.json\",\"field\":\"output\"} --splits 11 --attacks revertlm --examples 2000 --steps 300 --windows 16 --cache /tmp/revertlm-share-cache --cache-tag share25 --config {\"revertlm\":{\"projectorShare\":0.25}}"
  # The same with half the steps on stage 1 and the announced adapter shape: the half's CLI records on this
  # traffic (c5a96e5) searched the shapes instead (README, records list, sixth change); this separates the two.
  [share-deep-code-k11-half]="node dist/scripts/research/personalized_attack.js --model models/mail-llama-deep --aux spamassassin:hard-ham-1 --victim-spec {\"source\":\"$S/data/code_alpaca_2k.json\",\"field\":\"output\"} --splits 11 --attacks revertlm --examples 2000 --steps 300 --windows 16 --cache /tmp/revertlm-share-cache --cache-tag share50 --config {\"revertlm\":{\"projectorShare\":0.5}}"
  # The same quarter on GSM8K's answers at that split (the reduced budget's other shortfall there).
  [share-deep-gsm8k-k11]="node dist/scripts/research/personalized_attack.js --model models/mail-llama-deep --aux spamassassin:hard-ham-1 --victim-spec {\"source\":\"$S/data/gsm8k_test.jsonl\",\"field\":\"answer\"} --splits 11 --attacks revertlm --examples 2000 --steps 300 --windows 16 --cache /tmp/revertlm-share-cache --cache-tag share25-gsm8k --config {\"revertlm\":{\"projectorShare\":0.25}}"
  # The same quarter at every split of stories260K, where stage 1 carries more, against the half (the default before
  # f6d02fb), on the same 32 windows (research driver, personalized scenario, reduced budget; attackers cached under /tmp).
  [share-stories260k]="node dist/scripts/research/personalized_attack.js --model $S/models/stories260K --aux $S/data/wikitext2-test.raw --victim $S/data/tinystories_sample.txt --splits 1,2,3,4 --attacks revertlm --examples 2000 --steps 300 --windows 32 --cache /tmp/revertlm-share-cache --cache-tag share25 --config {\"revertlm\":{\"projectorShare\":0.25}}"
  [share-stories260k-half]="node dist/scripts/research/personalized_attack.js --model $S/models/stories260K --aux $S/data/wikitext2-test.raw --victim $S/data/tinystories_sample.txt --splits 1,2,3,4 --attacks revertlm --examples 2000 --steps 300 --windows 32 --cache /tmp/revertlm-share-cache --cache-tag share50 --config {\"revertlm\":{\"projectorShare\":0.5}}"
  # The quarter (the default since f6d02fb) at every split of the 4-block e-mail model, 32 windows (research driver,
  # personalized scenario, reduced budget).
  [share-mail-llama]="node dist/scripts/research/personalized_attack.js --model models/mail-llama --aux spamassassin:hard-ham-1 --victim spamassassin:easy-ham-2 --splits 1,2,3 --attacks revertlm --examples 2000 --steps 300 --windows 32 --cache /tmp/revertlm-share-cache --cache-tag share25-default"
  # Other text that drifts the deepest split far, same reduced budget: GSM8K's answers and DialogSum's dialogues.
  [sweep-mail-llama-deep-gsm8k-k11-short]="./revertlm attack-sweep --model models/mail-llama-deep --aux spamassassin:hard-ham-1 --victim $S/data/gsm8k_test.jsonl --victim-field answer --splits 11 --attacks revertlm,sip,nn --examples 2000 --steps 300 --victim-segments 16 --json"
  [sweep-mail-llama-deep-dialogsum-k11-short]="./revertlm attack-sweep --model models/mail-llama-deep --aux spamassassin:hard-ham-1 --victim $S/data/dialogsum.test.jsonl --victim-field dialogue --splits 11 --attacks revertlm,sip,nn --examples 2000 --steps 300 --victim-segments 16 --json"
  # The deepest split of the SMS sweep alone, through attack-sweep (exact and personalized scenarios).
  [sweep-mail-llama-deep-sms-k11-short]="./revertlm attack-sweep --model models/mail-llama-deep --aux spamassassin:hard-ham-1 --victim $S/data/SMSSpamCollection --victim-format tsv --victim-column 1 --victim-no-header --splits 11 --attacks revertlm,sip,nn --examples 2000 --steps 300 --victim-segments 16 --json"
  # The stream's separators (EOS between short messages) tried at every searched position, on and off: SMS
  # victim, mail-llama-deep k = 11, personalized, 16 windows (research driver, attacker 2000 x 300 cached under /tmp).
  [separators-deep-k11-sms]="node dist/scripts/research/personalized_attack.js --model models/mail-llama-deep --aux spamassassin:hard-ham-1 --victim-spec {\"source\":\"$S/data/SMSSpamCollection\",\"format\":\"tsv\",\"column\":1,\"header\":false} --splits 11 --attacks revertlm --examples 2000 --steps 300 --windows 16 --cache /tmp/revertlm-search-cache"
  [separators-deep-k11-sms-off]="node dist/scripts/research/personalized_attack.js --model models/mail-llama-deep --aux spamassassin:hard-ham-1 --victim-spec {\"source\":\"$S/data/SMSSpamCollection\",\"format\":\"tsv\",\"column\":1,\"header\":false} --splits 11 --attacks revertlm --examples 2000 --steps 300 --windows 16 --cache /tmp/revertlm-search-cache --config {\"revertlm\":{\"repair\":{\"trySeparators\":false}}}"
  # How much of each text set the models cannot tell apart at their input (near-copy tokens).
  [near-copies]="node dist/scripts/research/near_copies.js --shared $S"
  # RevertLM's generator size at depth (the measurement behind GENERATOR_DEFAULTS).
  [ablation-generator-deep]="node scripts/ablate_generator.mjs 11"
  # Privacy–utility under Gaussian noise in the personalized scenario.
  [tradeoff-stories260k]="./revertlm tradeoff --model $S/models/stories260K --split 4 --aux $S/data/wikitext2-test.raw --victim $S/data/tinystories_sample.txt --victim-separator <|endoftext|> --defense gaussian --levels 0,0.5,1,2 --attacks revertlm,sip --scenarios personalized --json"
  # Information per block of the deep model.
  [leakage-mail-llama-deep]="./revertlm leakage --model models/mail-llama-deep --data spamassassin:easy-ham-2 --json"
  [leakage-stories260k]="./revertlm leakage --model $S/models/stories260K --data $S/data/tinystories_sample.txt --separator <|endoftext|> --json"
  # The embedded default, end to end.
  [demo]="./revertlm demo --out results/demo --json"
)
ORDER=(bench-engine bench-models bench-leakage bench-split bench-attack bench-attack-x4 bench-tag leakage-stories260k leakage-mail-llama-deep
  sweep-stories260k sweep-stories260k-k4 sweep-stories260k-k123 sweep-mail-llama sweep-mail-llama-k3 sweep-mail-llama-k2 sweep-mail-llama-k1 sweep-mail-llama-deep sweep-mail-llama-deep-k11 sweep-mail-llama-deep-k1 sweep-mail-llama-deep-k3 sweep-mail-llama-deep-k6 sweep-mail-llama-deep-k9 sweep-mail-llama-deep-opt sweep-stories260k-lora-all sweep-stories260k-full sweep-stories260k-architecture
  sweep-stories260k-harder-k4 sweep-stories260k-architecture-k4
  sweep-stories260k-harder-k123 sweep-stories260k-architecture-k123 sweep-mail-llama-harder-k3 sweep-mail-llama-harder-k2 sweep-mail-llama-harder-k1
  ablations-stories260k search-deep-k11-nostop search-deep-k11 ablation-generator-deep tradeoff-stories260k audit-mail-llama-deep demo
  sweep-stories260k-short sweep-mail-llama-gsm8k-short sweep-mail-llama-code-short sweep-mail-llama-piqa-short sweep-mail-llama-deep-code-k11-short sweep-mail-llama-deep-code-k11-learned-short sweep-mail-llama-deep-code-k11-600 sweep-mail-llama-deep-code-k11 share-deep-code-k11 share-deep-code-k11-half share-deep-gsm8k-k11 share-stories260k share-stories260k-half share-mail-llama sweep-mail-llama-deep-gsm8k-k11-short sweep-mail-llama-deep-dialogsum-k11-short sweep-stories260k-code-short sweep-stories260k-piqa-short sweep-stories260k-email-short sweep-stories260k-sms-short near-copies twin-limit-code-k2 sweep-stories260k-k4-short sweep-stories260k-k123-short sweep-mail-llama-short sweep-mail-llama-deep-short sweep-mail-llama-deep-k39-short sweep-mail-llama-deep-k11-exact-short tradeoff-stories260k-short
  sweep-stories260k-lora-all-short sweep-stories260k-full-short sweep-stories260k-architecture-short
  sweep-stories260k-k4-wide-short audit-mail-llama-deep-short
  sweep-stories260k-lora-all-k4-wide-short sweep-stories260k-full-k4-wide-short
  sweep-mail-llama-harder-short sweep-mail-llama-architecture-short
  sweep-mail-llama-sms-short sweep-mail-llama-dialogsum-short sweep-mail-llama-deep-sms-short sweep-mail-llama-deep-sms-k11-short separators-deep-k11-sms separators-deep-k11-sms-off
  sweep-mail-gpt2-short)

names=("$@")
[ ${#names[@]} -gt 0 ] || names=("${ORDER[@]}")
for n in "${names[@]}"; do
  cmd=${RUNS[$n]:-}
  if [ -z "$cmd" ]; then echo "unknown figure '$n'; known: ${ORDER[*]}" >&2; exit 2; fi
  # shellcheck disable=SC2086
  $REC "$n" -- $cmd
done
