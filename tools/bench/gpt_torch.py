#!/usr/bin/env python3
"""tools/bench/gpt_torch.py — the anchor for clscale's GPT speed: the same
byte-level GPT as src/nn/gpt.c (learned positions, pre-LayerNorm blocks with
biases, a 4x tanh-GELU MLP, final LayerNorm, head tied to the token
embedding, cross-entropy, AdamW with weight decay on matrices and
embeddings, gradient clipping at norm 1) trained in PyTorch on the CPU.

Prints one line, `torch THREADS tokens/s`, the throughput of --steps
training steps after --warmup untimed ones: the figure tools/bench/vs-torch.sh
puts beside `clscale train`'s own. The data are random bytes: the speed of a
step does not depend on them, and reading a corpus is not what is compared.
"""
import argparse
import math
import sys
import time

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError:
    print("gpt_torch.py: PyTorch is not installed (Debian: apt-get install python3-torch; or pip install torch)",
          file=sys.stderr)
    sys.exit(3)


class Block(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.ln2 = nn.LayerNorm(width)
        self.fc = nn.Linear(width, 4 * width)
        self.out = nn.Linear(4 * width, width)

    def attention(self, x):
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        # (B, heads, T, head_dim)
        q, k, v = (t.view(B, T, self.heads, C // self.heads).transpose(1, 2) for t in (q, k, v))
        if hasattr(F, "scaled_dot_product_attention"):
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:  # PyTorch < 2.0 (Debian 12's python3-torch is 1.13)
            s = (q @ k.transpose(-2, -1)) / math.sqrt(q.shape[-1])
            mask = torch.ones(T, T, dtype=torch.bool).tril()
            y = s.masked_fill(~mask, float("-inf")).softmax(-1) @ v
        return self.proj(y.transpose(1, 2).reshape(B, T, C))

    def forward(self, x):
        x = x + self.attention(self.ln1(x))
        return x + self.out(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))


class GPT(nn.Module):
    def __init__(self, vocab, context, width, depth, heads):
        super().__init__()
        self.wte = nn.Embedding(vocab, width)
        self.wpe = nn.Embedding(context, width)
        self.blocks = nn.ModuleList(Block(width, heads) for _ in range(depth))
        self.lnf = nn.LayerNorm(width)
        for p in self.parameters():
            if p.dim() == 2:
                nn.init.normal_(p, std=0.02)

    def forward(self, tokens, targets):
        T = tokens.shape[1]
        x = self.wte(tokens) + self.wpe(torch.arange(T))
        for b in self.blocks:
            x = b(x)
        logits = self.lnf(x) @ self.wte.weight.t()
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--width", type=int, default=128)
    ap.add_argument("--depth", type=int, default=4)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--context", type=int, default=64)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=5)
    a = ap.parse_args()
    if min(a.threads, a.width, a.depth, a.heads, a.context, a.batch, a.steps) < 1 or a.warmup < 0:
        ap.error("every size must be at least 1 (--warmup at least 0)")
    if a.width % a.heads:
        ap.error("--width must be a multiple of --heads")
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    model = GPT(256, a.context, a.width, a.depth, a.heads)
    decay = [p for p in model.parameters() if p.dim() == 2]
    rest = [p for p in model.parameters() if p.dim() != 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}],
                            lr=1e-3)
    gen = torch.Generator().manual_seed(2)

    def step():
        seq = torch.randint(0, 256, (a.batch, a.context + 1), generator=gen)
        loss = model(seq[:, :-1], seq[:, 1:])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss

    for _ in range(a.warmup):
        step()
    t0 = time.perf_counter()
    for _ in range(a.steps):
        loss = step()
    loss.item()
    dt = time.perf_counter() - t0
    print(f"torch {a.threads} {a.steps * a.batch * a.context / dt:.0f}")


if __name__ == "__main__":
    main()
