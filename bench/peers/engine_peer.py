#!/usr/bin/env python3
"""PyTorch peer of bench/engine.ts: the same decoder-only Transformer training step and the same
float32 matmuls, timed the same way (median of repeats after warm-up). Prints one JSON object on
stdout; progress goes to stderr. Thread settings come from the caller: --threads (torch intra-op)
and the OPENBLAS_NUM_THREADS environment variable (read by OpenBLAS when torch loads)."""
import argparse
import json
import math
import os
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, d, heads, mlp_ratio, max_seq):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.fc1 = nn.Linear(d, mlp_ratio * d)
        self.fc2 = nn.Linear(mlp_ratio * d, d)
        allow = torch.ones(max_seq, max_seq, dtype=torch.bool).tril()
        self.register_buffer("blocked", ~allow, persistent=False)

    def attention(self, q, k, v):
        t = q.size(-2)
        scores = torch.matmul(q, k.transpose(-2, -1)) * (1.0 / math.sqrt(q.size(-1)))
        scores = scores.masked_fill(self.blocked[:t, :t], float("-inf"))
        return torch.matmul(torch.softmax(scores, -1), v)

    def forward(self, x):
        b, t, d = x.shape
        h = self.heads

        def split(z):
            return z.view(b, t, h, d // h).transpose(1, 2)

        q, k, v = self.qkv(self.ln1(x)).chunk(3, -1)
        a = self.attention(split(q), split(k), split(v)).transpose(1, 2).reshape(b, t, d)
        x = x + self.proj(a)
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))


class TinyGpt(nn.Module):
    def __init__(self, vocab, d, heads, layers, max_seq, mlp_ratio):
        super().__init__()
        self.vocab = vocab
        self.tok = nn.Embedding(vocab, d)
        self.pos = nn.Embedding(max_seq, d)
        nn.init.normal_(self.tok.weight, std=0.02)
        nn.init.normal_(self.pos.weight, std=0.02)
        self.blocks = nn.ModuleList([Block(d, heads, mlp_ratio, max_seq) for _ in range(layers)])
        self.ln_f = nn.LayerNorm(d)
        self.head = nn.Linear(d, vocab, bias=False)

    def forward(self, ids):
        t = ids.size(1)
        x = self.tok(ids) + self.pos(torch.arange(t))
        for blk in self.blocks:
            x = blk(x)
        return self.head(self.ln_f(x))

    def loss(self, ids, targets):
        return F.cross_entropy(self.forward(ids).view(-1, self.vocab), targets.view(-1))


def time_ms(fn):
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000.0


def time_both_ms(fn):
    """(wall, process CPU over all threads) in ms."""
    c0, t0 = time.process_time(), time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000.0, (time.process_time() - c0) * 1000.0


class Peer:
    """Holds the model and matmul operands so the caller can interleave its own timings with ours."""

    def __init__(self, a):
        torch.manual_seed(0)
        self.model = TinyGpt(a.vocab, a.d_model, a.heads, a.layers, a.seq, 4)
        self.opt = torch.optim.AdamW(self.model.parameters(), lr=1e-3, weight_decay=0.01)
        self.ids = torch.randint(0, a.vocab, (a.batch, a.seq))
        self.targets = torch.randint(0, a.vocab, (a.batch, a.seq))
        self.mats = {}
        self.losses = []

    def step(self):
        loss = self.model.loss(self.ids, self.targets)
        loss.backward()
        self.opt.step()
        self.opt.zero_grad(set_to_none=True)
        self.losses.append(loss.item())

    def mm(self, n):
        if n not in self.mats:
            self.mats[n] = (torch.randn(n, n), torch.randn(n, n))
            for _ in range(3):
                torch.mm(*self.mats[n])
        a, b = self.mats[n]
        return time_ms(lambda: torch.mm(a, b))

    def params(self):
        return sum(p.numel() for p in self.model.parameters())


def serve(peer):
    """Line protocol on stdin/stdout: 'step K' or 'mm N K' -> {"ms": [...]}; 'info'; 'quit'."""
    print(json.dumps({"ready": True, "torch_version": torch.__version__, "params": peer.params(),
                      "intra_op": torch.get_num_threads(), "openblas_env": os.environ.get("OPENBLAS_NUM_THREADS")}), flush=True)
    for line in sys.stdin:
        cmd = line.split()
        if not cmd or cmd[0] == "quit":
            break
        if cmd[0] == "step":
            both = [time_both_ms(peer.step) for _ in range(int(cmd[1]))]
            out = {"ms": [w for w, _ in both], "cpu_ms": [c for _, c in both], "loss": peer.losses[-1]}
        elif cmd[0] == "mm":
            out = {"ms": [peer.mm(int(cmd[1])) for _ in range(int(cmd[2]))]}
        else:
            out = {"error": f"unknown command {cmd[0]!r}"}
        print(json.dumps(out), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--serve", action="store_true", help="line protocol for interleaved timing (used by bench/engine.ts)")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seq", type=int, default=64)
    ap.add_argument("--vocab", type=int, default=8000)
    ap.add_argument("--d-model", type=int, default=256)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--matmul-repeats", type=int, default=20)
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    peer = Peer(a)
    if a.serve:
        serve(peer)
        return
    # Stand-alone run: one JSON object with the same fields as the interleaved protocol gives.
    out = {"torch_version": torch.__version__, "params": peer.params()}
    for n, reps in ((512, a.matmul_repeats), (1024, max(5, a.matmul_repeats // 2))):
        ms = statistics.median(peer.mm(n) for _ in range(reps))
        out[f"matmul_gflops_{n}"] = 2.0 * n**3 / (ms / 1000.0) / 1e9
    times = []
    for i in range(a.warmup + a.steps):
        ms = time_ms(peer.step)
        if i >= a.warmup:
            times.append(ms)
        print(f"peer: step {i + 1}/{a.warmup + a.steps} {ms:.1f} ms", file=sys.stderr)
    out["step_ms"] = statistics.median(times)
    out["step_ms_all"] = times
    out["first_loss"], out["last_loss"] = peer.losses[0], peer.losses[-1]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
