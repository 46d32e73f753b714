#!/usr/bin/python3
"""PyTorch peer of `xlstm bench train` / `xlstm bench decode --preset`: the paper's xLSTM language model written
from the specification (docs of xlstm4j, spec sections in comments) in plain PyTorch, in the style of the official
NeurIPS code (parallel stabilized mLSTM form for training, the vanilla sLSTM loop over time, step functions for
decoding). It is not the official `xlstm` package: it is a peer with the same presets and the same work per step, so
that the two can be timed side by side on the same machine.

    /usr/bin/python3 bench/pytorch/xlstm_peer.py train --preset m-small --threads 2 --steps 10
    /usr/bin/python3 bench/pytorch/xlstm_peer.py decode --preset ms-small --threads 2

Runs with Debian's python3-torch (OpenBLAS). Output lines match the Java benchmark's ("throughput: X tokens/s median").
"""
import argparse
import math
import os
import resource
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

PRESETS = {  # name: (kind, embedding dim, blocks)
    "m-tiny": ("m", 128, 4), "ms-tiny": ("ms", 128, 4), "s-tiny": ("s", 128, 4),
    "m-small": ("m", 384, 6), "ms-small": ("ms", 384, 6),
}
VOCAB, BATCH, SEQ = 256, 8, 256


def round_up(x, multiple=64):
    return int(math.ceil(x / multiple) * multiple)


def small_init(t, dim):
    nn.init.normal_(t, mean=0.0, std=math.sqrt(2 / (5 * dim)))


class OffsetLayerNorm(nn.Module):
    """LayerNorm with scale 1 + weight, no bias, eps 1e-5 (spec §1)."""

    def __init__(self, dim):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(dim))

    def forward(self, x):
        return F.layer_norm(x, (x.shape[-1],), weight=1 + self.weight, bias=None, eps=1e-5)


class MultiHeadNorm(nn.Module):
    """Per-head LayerNorm over (B, NH, S, DH) via group_norm, scale 1 + weight (spec §1); returns (B, S, NH·DH)."""

    def __init__(self, nh, dh):
        super().__init__()
        self.nh = nh
        self.weight = nn.Parameter(torch.zeros(nh * dh))

    def forward(self, x):
        B, NH, S, DH = x.shape
        y = F.group_norm(x.transpose(1, 2).reshape(B * S, NH * DH), NH, weight=1 + self.weight, bias=None, eps=1e-5)
        return y.view(B, S, NH * DH)


class HeadwiseLinear(nn.Module):
    """Block-diagonal linear layer (LinearHeadwiseExpand, spec §1)."""

    def __init__(self, dim, nh, embedding_dim):
        super().__init__()
        self.nh = nh
        self.weight = nn.Parameter(torch.empty(nh, dim // nh, dim // nh))
        small_init(self.weight, embedding_dim)

    def forward(self, x):
        shape = x.shape
        x = x.view(*shape[:-1], self.nh, -1)
        return torch.einsum("...hd,hod->...ho", x, self.weight).reshape(shape)


class CausalConv1d(nn.Module):
    """Depthwise causal conv over time with bias (spec §2.4); step mode keeps a (B, K, D) buffer."""

    def __init__(self, dim, k):
        super().__init__()
        self.k = k
        self.conv = nn.Conv1d(dim, dim, k, groups=dim, padding=k - 1, bias=True)

    def forward(self, x):  # (B, S, D)
        y = self.conv(x.transpose(1, 2))
        return y[:, :, : -(self.k - 1)].transpose(1, 2)

    def step(self, x, state):  # x (B, D), state (B, K, D)
        state = torch.roll(state, shifts=-1, dims=1)
        state[:, -1] = x
        y = (state * self.conv.weight[:, 0, :].transpose(0, 1)).sum(dim=1) + self.conv.bias
        return y, state


def parallel_stabilized(q, k, v, ig, fg, eps=1e-6):
    """The parallel (quadratic) stabilized mLSTM form (spec §3.3); q, k, v (B, NH, S, DH), ig, fg (B, NH, S, 1)."""
    B, NH, S, DH = q.shape
    log_f = F.logsigmoid(fg)
    ltr = torch.tril(torch.ones((S, S), dtype=torch.bool))
    cs = torch.cat([torch.zeros((B, NH, 1, 1)), torch.cumsum(log_f, dim=-2)], dim=-2)
    rep = cs.repeat(1, 1, 1, S + 1)
    log_fg = torch.where(ltr, (rep - rep.transpose(-2, -1))[:, :, 1:, 1:], -float("inf"))
    log_d = log_fg + ig.transpose(-2, -1)
    max_log_d, _ = torch.max(log_d, dim=-1, keepdim=True)
    d = torch.exp(log_d - max_log_d)
    c = (q @ (k / math.sqrt(DH)).transpose(-2, -1)) * d
    normalizer = torch.maximum(c.sum(dim=-1, keepdim=True).abs(), torch.exp(-max_log_d))
    return (c / (normalizer + eps)) @ v


def recurrent_step_stabilized(c, n, m, q, k, v, ig, fg, eps=1e-6):
    """One stabilized mLSTM step (spec §3.2); q, k, v (B, NH, DH), ig, fg (B, NH, 1, 1); C (B, NH, DH, DH)."""
    DH = q.shape[-1]
    q, k, v = q.unsqueeze(-1), k.unsqueeze(-1), v.unsqueeze(-1)
    log_f = F.logsigmoid(fg)
    m_new = torch.max(log_f + m, ig)
    f_act = torch.exp(log_f + m - m_new)
    i_act = torch.exp(ig - m_new)
    k_scaled = k / math.sqrt(DH)
    c_new = f_act * c + i_act * (k_scaled @ v.transpose(-1, -2))
    n_new = f_act * n + i_act * k_scaled
    h_num = q.transpose(-1, -2) @ c_new
    qn = q.transpose(-1, -2) @ n_new
    h = h_num / (torch.maximum(qn.abs(), torch.exp(-m_new)) + eps)
    return h.squeeze(-2), (c_new, n_new, m_new)


class MLstmLayer(nn.Module):
    """Pre-up-projection mLSTM layer (spec §4.1)."""

    def __init__(self, E, nh=4, conv=4, qkv_block=4, proj_factor=2.0, num_blocks=1):
        super().__init__()
        I = round_up(proj_factor * E)
        self.I, self.nh, self.dh = I, nh, I // nh
        self.proj_up = nn.Linear(E, 2 * I, bias=False)
        self.q_proj = HeadwiseLinear(I, I // qkv_block, E)
        self.k_proj = HeadwiseLinear(I, I // qkv_block, E)
        self.v_proj = HeadwiseLinear(I, I // qkv_block, E)
        self.conv1d = CausalConv1d(I, conv)
        self.igate = nn.Linear(3 * I, nh)
        self.fgate = nn.Linear(3 * I, nh)
        self.outnorm = MultiHeadNorm(nh, self.dh)
        self.learnable_skip = nn.Parameter(torch.ones(I))
        self.proj_down = nn.Linear(I, E, bias=False)
        small_init(self.proj_up.weight, E)
        nn.init.zeros_(self.igate.weight)
        nn.init.normal_(self.igate.bias, std=0.1)
        nn.init.zeros_(self.fgate.weight)
        with torch.no_grad():
            self.fgate.bias.copy_(torch.linspace(3.0, 6.0, nh))
        nn.init.normal_(self.proj_down.weight, std=2 / (num_blocks * math.sqrt(E)))

    def _gates(self, q, k, v):
        u = torch.cat([q, k, v], dim=-1)
        return self.igate(u), self.fgate(u)

    def forward(self, x):
        B, S, _ = x.shape
        x_m, z = torch.split(self.proj_up(x), self.I, dim=-1)
        x_c = F.silu(self.conv1d(x_m))
        q, k, v = self.q_proj(x_c), self.k_proj(x_c), self.v_proj(x_m)
        ig, fg = self._gates(q, k, v)
        heads = lambda t: t.view(B, S, self.nh, -1).transpose(1, 2)
        h = parallel_stabilized(heads(q), heads(k), heads(v), ig.transpose(-1, -2).unsqueeze(-1),
                                fg.transpose(-1, -2).unsqueeze(-1))
        h = self.outnorm(h) + self.learnable_skip * x_c
        return self.proj_down(h * F.silu(z))

    def step(self, x, state):  # x (B, E)
        c, n, m, conv_state = state
        B = x.shape[0]
        x_m, z = torch.split(self.proj_up(x), self.I, dim=-1)
        x_conv, conv_state = self.conv1d.step(x_m, conv_state)
        x_c = F.silu(x_conv)
        q, k, v = self.q_proj(x_c), self.k_proj(x_c), self.v_proj(x_m)
        ig, fg = self._gates(q, k, v)
        heads = lambda t: t.view(B, self.nh, -1)
        h, (c, n, m) = recurrent_step_stabilized(c, n, m, heads(q), heads(k), heads(v),
                                                 ig.view(B, self.nh, 1, 1), fg.view(B, self.nh, 1, 1))
        h = self.outnorm(h.unsqueeze(2)).view(B, -1) + self.learnable_skip * x_c
        return self.proj_down(h * F.silu(z)), (c, n, m, conv_state)

    def zero_state(self, B):
        return (torch.zeros(B, self.nh, self.dh, self.dh), torch.zeros(B, self.nh, self.dh, 1),
                torch.zeros(B, self.nh, 1, 1), torch.zeros(B, self.conv1d.k, self.I))


def slstm_pointwise(raw, state):
    """The vanilla sLSTM pointwise step (spec §2.1); raw (B, 4E) = Wx + Ry + b, state (4, B, E) = [h, c, n, m]."""
    _, c, n, m = state.unbind(0)
    i_raw, f_raw, z_raw, o_raw = raw.view(raw.shape[0], 4, -1).unbind(1)
    logfplusm = m + F.logsigmoid(f_raw)
    m_new = i_raw if torch.all(n == 0.0) else torch.max(i_raw, logfplusm)
    o = torch.sigmoid(o_raw)
    i = torch.minimum(torch.exp(i_raw - m_new), torch.ones_like(i_raw))
    f = torch.minimum(torch.exp(logfplusm - m_new), torch.ones_like(i_raw))
    c_new = f * c + i * torch.tanh(z_raw)
    n_new = f * n + i
    return torch.stack((o * c_new / n_new, c_new, n_new, m_new), dim=0)


class SLstmLayer(nn.Module):
    """sLSTM layer (spec §2.4) with the vanilla cell loop over time; gate order i, f, z, o."""

    def __init__(self, E, nh=4, conv=4, block_idx=0, num_blocks=1):
        super().__init__()
        self.E, self.nh, self.dh = E, nh, E // nh
        self.conv1d = CausalConv1d(E, conv)
        self.fgate, self.igate = HeadwiseLinear(E, nh, E), HeadwiseLinear(E, nh, E)
        self.zgate, self.ogate = HeadwiseLinear(E, nh, E), HeadwiseLinear(E, nh, E)
        self.recurrent_kernel = nn.Parameter(torch.zeros(nh, self.dh, 4 * self.dh))  # (h, k, g·DH + j)
        bias = torch.zeros(4, nh, self.dh)  # power-law forget-gate bias (spec §2.3)
        r = block_idx / (num_blocks - 1) if num_blocks > 1 else 0.0
        j = torch.arange(self.dh) / max(self.dh - 1, 1)
        bias[1] = -(-5.0 + 12.0 * j ** (0.3 + 1.3 * r))
        self.bias = nn.Parameter(bias.reshape(-1))
        self.group_norm = MultiHeadNorm(nh, self.dh)

    def _ry(self, h):  # h (B, E) → (B, 4E) in (gate, head, unit) order
        B = h.shape[0]
        ry = torch.bmm(h.view(B, self.nh, self.dh).transpose(0, 1), self.recurrent_kernel)  # (NH, B, 4DH)
        return ry.view(self.nh, B, 4, self.dh).permute(1, 2, 0, 3).reshape(B, 4 * self.E)

    def _cell(self, wx, state):  # wx (B, S, 4E), state (4, B, E)
        hs = []
        for t in range(wx.shape[1]):
            state = slstm_pointwise(wx[:, t] + self._ry(state[0]) + self.bias, state)
            hs.append(state[0])
        return torch.stack(hs, dim=1), state

    def _wx(self, x, x_c):
        return torch.cat([self.fgate(x_c), self.igate(x_c), self.zgate(x), self.ogate(x)], dim=-1)  # official swap

    def forward(self, x):
        B, S, _ = x.shape
        x_c = F.silu(self.conv1d(x))
        h, _ = self._cell(self._wx(x, x_c), torch.zeros(4, B, self.E))
        return self.group_norm(h.view(B, S, self.nh, self.dh).transpose(1, 2))

    def step(self, x, state):  # x (B, E)
        cell, conv_state = state
        x_conv, conv_state = self.conv1d.step(x, conv_state)
        h, cell = self._cell(self._wx(x, F.silu(x_conv)).unsqueeze(1), cell)
        B = x.shape[0]
        return self.group_norm(h.view(B, 1, self.nh, self.dh).transpose(1, 2)).view(B, -1), (cell, conv_state)

    def zero_state(self, B):
        return torch.zeros(4, B, self.E), torch.zeros(B, self.conv1d.k, self.E)


class GatedFFN(nn.Module):
    """proj_down(gelu(gate) ⊙ up), hidden P = ceil(1.3·E/64)·64 (spec §2.6)."""

    def __init__(self, E, num_blocks=1):
        super().__init__()
        self.P = round_up(1.3 * E)
        self.proj_up = nn.Linear(E, 2 * self.P, bias=False)
        self.proj_down = nn.Linear(self.P, E, bias=False)
        small_init(self.proj_up.weight, E)
        nn.init.normal_(self.proj_down.weight, std=2 / math.sqrt(E))

    def forward(self, x):
        gate, up = torch.split(self.proj_up(x), self.P, dim=-1)
        return self.proj_down(F.gelu(gate) * up)


class Block(nn.Module):
    def __init__(self, kind, E, idx, num_blocks):
        super().__init__()
        self.kind = kind
        self.norm = OffsetLayerNorm(E)
        if kind == "m":
            self.layer = MLstmLayer(E, num_blocks=num_blocks)
        else:
            self.layer = SLstmLayer(E, block_idx=idx, num_blocks=num_blocks)
            self.ffn_norm, self.ffn = OffsetLayerNorm(E), GatedFFN(E)

    def forward(self, x):
        x = x + self.layer(self.norm(x))
        return x + self.ffn(self.ffn_norm(x)) if self.kind == "s" else x

    def step(self, x, state):
        y, state = self.layer.step(self.norm(x), state)
        x = x + y
        return (x + self.ffn(self.ffn_norm(x)) if self.kind == "s" else x), state


class XLstmLM(nn.Module):
    """Token embedding → blocks → post-blocks LayerNorm → LM head, untied, no positional encoding (spec §4.2)."""

    def __init__(self, preset):
        super().__init__()
        kind, E, n = PRESETS[preset]
        kinds = ["s" if (kind == "s" or (kind == "ms" and i % 2 == 1)) else "m" for i in range(n)]
        self.embedding = nn.Embedding(VOCAB, E)
        self.blocks = nn.ModuleList(Block(k, E, i, n) for i, k in enumerate(kinds))
        self.post_norm = OffsetLayerNorm(E)
        self.lm_head = nn.Linear(E, VOCAB, bias=False)
        small_init(self.embedding.weight, E)
        small_init(self.lm_head.weight, E)

    def forward(self, idx):
        x = self.embedding(idx)
        for b in self.blocks:
            x = b(x)
        return self.lm_head(self.post_norm(x))

    def zero_state(self, B):
        return [b.layer.zero_state(B) for b in self.blocks]

    def step(self, tok, state):  # tok (B,)
        x = self.embedding(tok)
        new = []
        for b, s in zip(self.blocks, state):
            x, s = b.step(x, s)
            new.append(s)
        return self.lm_head(self.post_norm(x)), new


def optimizer(model):
    """AdamW with the official weight-decay groups (spec §4.2) and xlstm4j's TrainConfig defaults."""
    decay = [p for n, p in model.named_parameters() if "weight" in n and "norm" not in n and "embedding" not in n]
    ids = {id(p) for p in decay}
    rest = [p for p in model.parameters() if id(p) not in ids]
    return torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}],
                             lr=1e-3, betas=(0.9, 0.95), eps=1e-8)


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def report(what, per_s, unit_count, unit):
    med = statistics.median(per_s)
    print(f"  throughput: {med:.1f} tokens/s median (min {min(per_s):.1f}, max {max(per_s):.1f}; "
          f"{len(per_s)} {unit} after warm-up), {unit_count / med * 1e3:.3f} ms/{what}")
    return med


def bench_train(args):
    torch.manual_seed(args.seed)
    model = XLstmLM(args.preset)
    opt = optimizer(model)
    n = args.batch * args.seq
    tokens = torch.randint(0, VOCAB, (n + 1,))
    x, y = tokens[:-1].view(args.batch, args.seq), tokens[1:].view(args.batch, args.seq)
    params = sum(p.numel() for p in model.parameters())
    print(f"train {args.preset} (PyTorch {torch.__version__} peer): {params:.3g} parameters; batch {args.batch} × "
          f"sequence {args.seq}; mLSTM parallel form, vanilla sLSTM loop; {torch.get_num_threads()} threads")
    print(f"  load average at start: {os.getloadavg()[0]:.2f}")
    sys.stdout.flush()

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x).view(-1, VOCAB), y.reshape(-1))
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(args.warmup):
        step()
    tps = []
    for _ in range(args.steps):
        t0 = time.perf_counter()
        loss = step()
        tps.append(n / (time.perf_counter() - t0))
    report("step", tps, n, "steps")
    print(f"  loss {loss:.4f}; peak RSS {peak_rss_mib():.1f} MiB")
    print(f"  load average at end: {os.getloadavg()[0]:.2f}")


@torch.inference_mode()
def bench_decode(args):
    torch.manual_seed(args.seed)
    model = XLstmLM(args.preset).eval()
    params = sum(p.numel() for p in model.parameters())
    print(f"decode {args.preset} (PyTorch {torch.__version__} peer): {params:.3g} parameters; batch 1, step mode; "
          f"{torch.get_num_threads()} threads")
    print(f"  load average at start: {os.getloadavg()[0]:.2f}")
    sys.stdout.flush()
    state = model.zero_state(1)
    tok = torch.randint(0, VOCAB, (1,))
    for _ in range(16):  # the prompt, token by token
        logits, state = model.step(tok, state)
        tok = torch.randint(0, VOCAB, (1,))
    for _ in range(args.warmup):
        logits, state = model.step(logits.argmax(-1), state)
    tps = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        for _ in range(args.tokens):
            logits, state = model.step(logits.argmax(-1), state)
        tps.append(args.tokens / (time.perf_counter() - t0))
    report("token", tps, 1, "runs")
    print(f"  peak RSS {peak_rss_mib():.1f} MiB")
    print(f"  load average at end: {os.getloadavg()[0]:.2f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("mode", choices=["train", "decode"])
    ap.add_argument("--preset", required=True, choices=sorted(PRESETS))
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2, help="untimed steps (train) or tokens (decode)")
    ap.add_argument("--seq", type=int, default=SEQ)
    ap.add_argument("--batch", type=int, default=BATCH)
    ap.add_argument("--tokens", type=int, default=32, help="decode: tokens per timed run")
    ap.add_argument("--runs", type=int, default=5, help="decode: timed runs")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    (bench_train if args.mode == "train" else bench_decode)(args)


if __name__ == "__main__":
    main()
