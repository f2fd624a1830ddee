#!/usr/bin/env python3
"""PyTorch peer of bench/models.ts: the same GPT-2-shaped model as src/models (pre-norm blocks,
separate q/k/v projections, explicit causal attention, tanh GELU, tied head), timed the same way:
a no-grad eval forward, and a LoRA step (rank r on q and v; forward + backward + AdamW).
Driven line by line on stdin so its timings interleave with ours: it prints a JSON "ready" line, then
answers each command ("forward", "lora": run once, report wall and process CPU ms; "quit") with one
JSON line.
Thread settings come from the caller: --threads (torch intra-op) and OPENBLAS_NUM_THREADS."""
import argparse
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class LoRALinear(nn.Module):
    def __init__(self, base, rank, alpha):
        super().__init__()
        self.base = base
        self.scale = alpha / rank
        bound = 1 / math.sqrt(base.in_features)
        self.A = nn.Parameter(torch.empty(rank, base.in_features).uniform_(-bound, bound))
        self.B = nn.Parameter(torch.zeros(base.out_features, rank))

    def forward(self, x):
        return self.base(x) + F.linear(F.linear(x, self.A), self.B) * self.scale


class Attention(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))

    def forward(self, x):
        b, t, d = x.shape
        h = self.heads

        def split(z):
            return z.view(b, t, h, d // h).transpose(1, 2)

        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        scores = torch.matmul(q, k.transpose(-2, -1)) * (1.0 / math.sqrt(d // h))
        allow = torch.ones(t, t, dtype=torch.bool).tril()
        scores = scores.masked_fill(allow.logical_not(), float("-inf"))
        y = torch.matmul(torch.softmax(scores, -1), v)
        return self.o(y.transpose(1, 2).reshape(b, t, d))


class Block(nn.Module):
    def __init__(self, d, heads, d_ff, eps):
        super().__init__()
        self.norm1 = nn.LayerNorm(d, eps=eps)
        self.attn = Attention(d, heads)
        self.norm2 = nn.LayerNorm(d, eps=eps)
        self.up = nn.Linear(d, d_ff)
        self.down = nn.Linear(d_ff, d)

    def forward(self, x):
        h = x + self.attn(self.norm1(x))
        return h + self.down(F.gelu(self.up(self.norm2(h)), approximate="tanh"))


class GPT2(nn.Module):
    def __init__(self, vocab, d, heads, layers, d_ff, max_pos, eps=1e-5):
        super().__init__()
        self.wte = nn.Embedding(vocab, d)
        self.wpe = nn.Embedding(max_pos, d)
        self.blocks = nn.ModuleList([Block(d, heads, d_ff, eps) for _ in range(layers)])
        self.norm = nn.LayerNorm(d, eps=eps)
        with torch.no_grad():
            for name, p in self.named_parameters():
                if name.endswith(".bias"):
                    p.zero_()
                elif "norm" in name:
                    p.fill_(1)
                else:
                    p.normal_(0, 0.02)

    def forward(self, ids):
        t = ids.size(1)
        x = self.wte(ids) + self.wpe(torch.arange(t))
        for blk in self.blocks:
            x = blk(x)
        return F.linear(self.norm(x), self.wte.weight)


def main():
    ap = argparse.ArgumentParser()
    for name, default in [("threads", 1), ("vocab", 50257), ("d-model", 768), ("heads", 12), ("layers", 12),
                          ("d-ff", 3072), ("max-pos", 1024), ("batch", 8), ("seq", 128), ("lora-batch", 8), ("rank", 8)]:
        ap.add_argument(f"--{name}", type=int, default=default)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = GPT2(a.vocab, a.d_model, a.heads, a.layers, a.d_ff, a.max_pos).eval()
    ids = torch.randint(0, a.vocab, (a.batch, a.seq))
    lids = torch.randint(0, a.vocab, (a.lora_batch, a.seq))
    state = {}

    def forward():
        with torch.no_grad():
            model(ids)

    def lora_step():
        if "opt" not in state:
            for p in model.parameters():
                p.requires_grad_(False)
            for blk in model.blocks:
                blk.attn.q = LoRALinear(blk.attn.q, a.rank, a.rank)
                blk.attn.v = LoRALinear(blk.attn.v, a.rank, a.rank)
            state["opt"] = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
        opt = state["opt"]
        logits = model(lids)
        loss = F.cross_entropy(logits[:, :-1].reshape(-1, a.vocab), lids[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()

    commands = {"forward": forward, "lora": lora_step}
    print(json.dumps({"ready": True, "torch_version": torch.__version__, "threads": torch.get_num_threads()}), flush=True)
    for line in sys.stdin:
        cmd = line.strip()
        if cmd == "quit":
            break
        fn = commands.get(cmd)
        if fn is None:
            print(json.dumps({"error": f"unknown command {cmd!r}"}), flush=True)
            continue
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        ms, cpu_ms = (time.perf_counter() - t0) * 1000.0, (time.process_time() - c0) * 1000.0
        print(json.dumps({"ms": ms, "cpu_ms": cpu_ms}), flush=True)


if __name__ == "__main__":
    main()
