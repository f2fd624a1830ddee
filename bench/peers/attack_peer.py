#!/usr/bin/env python3
"""PyTorch peer of bench/attack.ts: RevertLM's left-to-right candidate search (src/attacks/revertlm/
repair.ts, one pass) on the same inputs, with its own Llama device part and KV cache in PyTorch.

Each problem directory holds problem.json (shapes, settings, tensor index) and tensors.bin (the
device part's weights with any LoRA merged, the observed states, the mask, the starting
reconstruction, the proposal sources' scores and the log-probabilities). Driven line by line on
stdin so its timings interleave with ours: prints a JSON "ready" line, then answers each
"search <name>" with one JSON line {ms, cpu_ms, ids}; "quit" ends it.
Thread settings come from the caller: --threads (torch intra-op) and OPENBLAS_NUM_THREADS."""
import argparse
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F


def load(dirname):
    with open(os.path.join(dirname, "problem.json")) as f:
        meta = json.load(f)
    with open(os.path.join(dirname, "tensors.bin"), "rb") as f:
        blob = bytearray(f.read())
    tensors = {}
    for name, e in meta["tensors"].items():
        dtype = torch.float32 if e["dtype"] == "float32" else torch.int64
        n = math.prod(e["shape"])
        t = torch.frombuffer(blob, dtype=dtype, count=n, offset=e["offset"]).reshape(e["shape"]).clone()
        tensors[name] = t
    return meta, tensors


class Device:
    """Llama embeddings + blocks [0, k): RMSNorm, RoPE (half rotation), grouped-query attention, SwiGLU."""

    def __init__(self, meta, w):
        c = meta["config"]
        self.d, self.h, self.hkv = c["dModel"], c["nHeads"], c["nKvHeads"]
        self.hd = self.d // self.h
        self.eps, self.theta, self.k = c["normEps"], c["ropeTheta"], c["layers"]
        self.w = w
        self.E = w["embed"]

    def norm(self, x, weight):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * weight

    def rope(self, x, pos):
        half = self.hd // 2
        inv = torch.tensor([1.0 / math.pow(self.theta, (2 * i) / self.hd) for i in range(half)], dtype=torch.float64)
        a = pos * inv
        cos = torch.cat([torch.cos(a), torch.cos(a)]).float()
        sin = torch.cat([torch.sin(a), torch.sin(a)]).float()
        rotated = torch.cat([-x[..., half:], x[..., :half]], -1)
        return x * cos + rotated * sin

    def step(self, tokens, cache, keymask, pos):
        """One position for N rows: tokens [N], cache: list of (k, v) [N, Hkv, pos, hd] (or None), keymask [N, pos+1] bool.
        Returns the new state [N, D] and the extended cache."""
        x = self.E[tokens].unsqueeze(1)  # [N, 1, D]
        n = x.size(0)
        out_cache = []
        for i in range(self.k):
            p = f"layers.{i}."
            h = self.norm(x, self.w[p + "norm1"])
            q = (h @ self.w[p + "q"].t()).view(n, 1, self.h, self.hd).transpose(1, 2)
            k = (h @ self.w[p + "k"].t()).view(n, 1, self.hkv, self.hd).transpose(1, 2)
            v = (h @ self.w[p + "v"].t()).view(n, 1, self.hkv, self.hd).transpose(1, 2)
            q, k = self.rope(q, pos), self.rope(k, pos)
            if cache is not None and cache[i] is not None:
                k = torch.cat([cache[i][0], k], 2)
                v = torch.cat([cache[i][1], v], 2)
            out_cache.append((k, v))
            rep = self.h // self.hkv
            kk = k.repeat_interleave(rep, dim=1) if rep > 1 else k
            vv = v.repeat_interleave(rep, dim=1) if rep > 1 else v
            scores = (q @ kk.transpose(-2, -1)) * (1.0 / math.sqrt(self.hd))
            scores = scores.masked_fill(keymask.view(n, 1, 1, -1).logical_not(), float("-inf"))
            y = torch.nan_to_num(torch.softmax(scores, -1), 0.0) @ vv
            x = x + (y.transpose(1, 2).reshape(n, 1, self.d) @ self.w[p + "o"].t())
            h2 = self.norm(x, self.w[p + "norm2"])
            x = x + (F.silu(h2 @ self.w[p + "gate"].t()) * (h2 @ self.w[p + "up"].t())) @ self.w[p + "down"].t()
        return x.squeeze(1), out_cache

    def full(self, ids, mask):
        """H_k of whole sequences [B, T] (for σ)."""
        B, T = ids.shape
        cache = None
        outs = []
        for t in range(T):
            h, cache = self.step(ids[:, t], cache, mask[:, : t + 1].ne(0), t)
            outs.append(h)
        return torch.stack(outs, 1)


def distance(pred, obs, l2w):
    dot = (pred * obs).sum(-1)
    cos = dot / (pred.norm(dim=-1) * obs.norm(dim=-1)).clamp(min=1e-8)
    rel = (pred - obs).pow(2).sum(-1) / obs.norm(dim=-1).pow(2).clamp(min=1e-8)
    return (1 - cos) + l2w * rel


def search(meta, w, dev):
    s = meta["settings"]
    obs, mask, init = w["obs"], w["mask"], w["init"]
    B, T = init.shape
    sources, logprob = w["sources"], w.get("logprob")
    deepest = max(s["topK"], s["escalateK"])
    R = min(deepest, sources.size(-1))
    # Ranks are taken at the rows a position searches only (as repair.ts's PositionRanks does).
    lp = logprob.reshape(-1).numpy() if logprob is not None and s["priorWeight"] > 0 else None
    V = sources.size(-1)
    first = 1 if s["fixFirst"] else 0
    lens = mask.sum(1).tolist()
    # σ: the median mismatch of the starting reconstruction over real positions >= first.
    d0 = distance(dev.full(init, mask), obs, s["l2Weight"])
    real = mask.gt(0)
    real[:, :first] = False
    vals = sorted(d0[real].tolist())
    sigma = max(vals[len(vals) >> 1], 1e-12) if vals else 1e-12
    accept = max(s["tolerance"], s["acceptScale"] * sigma)
    cur = init.tolist()
    cache = None
    chunk = s["chunk"]

    def score_rows(rows, tokens, t):
        out = []
        for i in range(0, len(rows), chunk):
            r = torch.tensor(rows[i : i + chunk], dtype=torch.int64)
            sub = None if cache is None else [(k.index_select(0, r), v.index_select(0, r)) for k, v in cache]
            h, _ = dev.step(torch.tensor(tokens[i : i + chunk], dtype=torch.int64), sub, mask.index_select(0, r)[:, : t + 1].ne(0), t)
            out.extend(distance(h, obs.index_select(0, r)[:, t], s["l2Weight"]).tolist())
        return out

    def comb(b, t, tok, d):
        return d / sigma - (s["priorWeight"] * float(lp[(b * T + t) * V + tok]) if lp is not None else 0.0)

    neighbour_k = s.get("neighbourK") or 0 if s.get("standOut") else 0
    neighbour_cache = {}

    def neighbours(tok):
        # the token's nearest tokens by cosine of the input embeddings, itself excluded
        if tok not in neighbour_cache:
            sims = dev.E @ dev.E[tok] / dev.E.norm(dim=-1).clamp_min(1e-8)
            top = sims.topk(min(neighbour_k + 1, sims.numel()))[1].tolist()
            neighbour_cache[tok] = [x for x in top if x != tok]
        return neighbour_cache[tok]

    with torch.no_grad():
        for t in range(T):
            if t >= first:
                active = [b for b in range(B) if t < lens[b]]
                if active:
                    dcur = score_rows(active, [cur[b][t] for b in active], t)
                    now = dict(zip(active, dcur))
                    open_ = [b for b in active if now[b] > accept]
                    if open_:
                        idx = torch.tensor(open_, dtype=torch.int64)
                        ranked = [src[:, t].index_select(0, idx).topk(R, -1)[1].tolist() for src in sources]
                        slot = {b: i for i, b in enumerate(open_)}
                    best = {}
                    tried = {b: {cur[b][t]} for b in open_}
                    # smallest and second smallest mismatch tried per row (the current token included)
                    near = {b: [now[b], math.inf] for b in open_}
                    stand_out = s.get("standOut") or 0.0

                    def chosen(b):
                        return best[b][1] if b in best else now[b]

                    def stands_out(b):
                        return stand_out > 0 and chosen(b) == near[b][0] and near[b][0] <= stand_out * near[b][1]
                    def try_round(rows, tokens_of):
                        owner, toks = [], []
                        for b in rows:
                            seen = tried[b]
                            for tok in tokens_of(b):
                                if tok in seen:
                                    continue
                                seen.add(tok)
                                owner.append(b)
                                toks.append(tok)
                        if not toks:
                            return
                        d = score_rows(owner, toks, t)
                        for i, b in enumerate(owner):
                            sc = comb(b, t, toks[i], d[i])
                            nb = near[b]
                            if d[i] < nb[0]:
                                nb[0], nb[1] = d[i], nb[0]
                            elif d[i] < nb[1]:
                                nb[1] = d[i]
                            ref = best[b][2] if b in best else comb(b, t, cur[b][t], now[b])
                            if sc < ref:
                                best[b] = (toks[i], d[i], sc)

                    stopped = []
                    for lo, hi in ((0, min(s["topK"], R)), (min(s["topK"], R), R)):
                        if not open_ or lo >= hi:
                            continue
                        try_round(open_, lambda b: (src[slot[b]][r] for r in range(lo, hi) for src in ranked))
                        still = []
                        for b in open_:
                            if chosen(b) <= accept:
                                continue
                            if stands_out(b):
                                stopped.append(b)
                            else:
                                still.append(b)
                        open_ = still
                    if stopped and neighbour_k > 0:
                        try_round(stopped, lambda b: neighbours(best[b][0] if b in best else cur[b][t]))
                    for b, (tok, _, _) in best.items():
                        cur[b][t] = tok
            _, cache = dev.step(torch.tensor([row[t] for row in cur], dtype=torch.int64), cache, mask[:, : t + 1].ne(0), t)
    return cur


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--problem", action="append", default=[], help="name=DIR (repeatable)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    problems = {}
    for spec in a.problem:
        name, d = spec.split("=", 1)
        meta, w = load(d)
        batches = [{k[len(f"b{i}.") :]: v for k, v in w.items() if k.startswith(f"b{i}.")} for i in range(meta["batches"])]
        problems[name] = (meta, Device(meta, w), batches)
    print(json.dumps({"event": "ready", "torch_version": torch.__version__}), flush=True)
    for line in sys.stdin:
        cmd = line.split()
        if not cmd or cmd[0] == "quit":
            break
        if cmd[0] != "search" or cmd[1] not in problems:
            print(json.dumps({"error": f"unknown command {line.strip()}"}), flush=True)
            continue
        meta, dev, batches = problems[cmd[1]]
        c0, t0 = time.process_time(), time.perf_counter()
        ids = [search(meta, b, dev) for b in batches]
        ms, cpu = (time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000
        print(json.dumps({"ms": ms, "cpu_ms": cpu, "ids": ids}), flush=True)


if __name__ == "__main__":
    main()
