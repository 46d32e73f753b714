#!/usr/bin/env python3
"""Times Hugging Face transformers' native PyTorch chunkwise mLSTM forward (issue 8's comparison point) on the GPU.

Shape defaults to the TFLA paper's: B=8, NH=16, T=8192, DK=128, DV=256, chunk 64, bf16 q/k/v/gates, no initial
state, under torch.no_grad(). Prints one line with the median and best over the timed runs (CUDA events), and the
same FLOP count as `xlstm bench cuda-mlstm` (B*NH*T*(2L(DK+DV) + 4*DK*DV)).
"""
import argparse
import statistics

import torch
import transformers
from transformers.models.xlstm import modeling_xlstm as mx


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--heads", type=int, default=16)
    p.add_argument("--seq", type=int, default=8192)
    p.add_argument("--dk", type=int, default=128)
    p.add_argument("--dv", type=int, default=256)
    p.add_argument("--chunk", type=int, default=64)
    p.add_argument("--runs", type=int, default=10)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--dtype", default="bf16", choices=["bf16", "fp32"])
    a = p.parse_args()
    fn = getattr(mx, "mlstm_chunkwise_native_autograd", None)
    if fn is None:
        raise SystemExit("transformers %s: modeling_xlstm has no mlstm_chunkwise_native_autograd (is the external "
                         "xlstm package installed? then transformers uses its kernels instead)" % transformers.__version__)
    dt = torch.bfloat16 if a.dtype == "bf16" else torch.float32
    dev = torch.device("cuda")
    g = torch.Generator(device=dev).manual_seed(0)
    B, NH, T, DK, DV = a.batch, a.heads, a.seq, a.dk, a.dv
    q = torch.randn(B, NH, T, DK, device=dev, dtype=dt, generator=g)
    k = torch.randn(B, NH, T, DK, device=dev, dtype=dt, generator=g)
    v = torch.randn(B, NH, T, DV, device=dev, dtype=dt, generator=g)
    ig = (torch.rand(B, NH, T, device=dev, generator=g) * 6 - 3).to(dt)
    fg = (torch.rand(B, NH, T, device=dev, generator=g) * 6).to(dt)
    times = []
    with torch.no_grad():
        for i in range(a.warmup + a.runs):
            s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            s.record()
            h = fn(q, k, v, ig, fg, chunk_size=a.chunk, return_last_states=False)
            e.record()
            torch.cuda.synchronize()
            if i >= a.warmup:
                times.append(s.elapsed_time(e))
    if not torch.isfinite(h.float()).all():
        raise SystemExit("transformers' chunkwise forward produced non-finite outputs")
    flops = B * NH * T * (2 * min(a.chunk, T) * (DK + DV) + 4 * DK * DV)
    med = statistics.median(times)
    print("transformers %s (torch %s, %s) native chunkwise mLSTM forward %s B=%d NH=%d T=%d DK=%d DV=%d L=%d: "
          "median %.3f ms, best %.3f ms over %d runs (%d warm-up); %.1f TFLOP/s at the median"
          % (transformers.__version__, torch.__version__, torch.cuda.get_device_name(), a.dtype, B, NH, T, DK, DV,
             a.chunk, med, min(times), a.runs, a.warmup, flops / (med * 1e-3) / 1e12))


if __name__ == "__main__":
    main()
