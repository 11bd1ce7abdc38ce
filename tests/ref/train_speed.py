"""PyTorch's speed on r1's training step, the figure `r1 train bench` is compared
with in BENCHMARKS.md: the model of train_ref.py (the same equations the gradient
fixture checks r1 against) in float32, one step = zero_grad, forward, backward,
clip_grad_norm_(1.0), torch.optim.AdamW, on fixed random tokens; one warm-up step,
then the best and the median of --reps steps, in tokens/s.

    /usr/bin/python3 tests/ref/train_speed.py --threads 2                  # both configs
    /usr/bin/python3 tests/ref/train_speed.py --threads 1 --config default
    /usr/bin/python3 tests/ref/train_speed.py --threads 2 --blas-threads 1  # torch's own threads only
    /usr/bin/python3 tests/ref/train_speed.py --threads 2 --bf16   # forward under bfloat16 autocast

Configs (the same as `r1 train bench --batch B --seq T --set ...`):
    default  r1's pretraining model (3.84M parameters), B 4 x T 512
    issue    d 256, 6 layers (1 dense), 8 experts top-2 + 1 shared of width 256
             (10.26M parameters), B 16 x T 128:
             r1 train bench --batch 16 --seq 128 --set layers=6 --set expert_ffn=256
    recipe   `make recipe`'s base and teacher (1.65M parameters), B 8 x T 512:
             r1 train bench --batch 8 --set dim=192 --set layers=3 --set ffn_dim=576
                 --set q_lora_rank=64 --set kv_lora_rank=48 --set expert_ffn=96
    student  `make recipe`'s student (0.53M parameters), B 8 x T 512:
             r1 train bench --batch 8 --set dim=128 --set layers=2 --set ffn_dim=384
                 --set q_lora_rank=48 --set kv_lora_rank=32 --set expert_ffn=64

train_ref.py runs every expert on every token (the reference's plain form); here the
MoE layer sends each expert only its routed tokens (index_select / index_add_), as
a PyTorch MoE would, so that PyTorch does the same arithmetic as r1 (--moe dense
times the reference's form). Debian's torch takes BLAS from libblas.so.3: install
libopenblas0-pthread, or it runs the reference BLAS (~7x slower). OpenBLAS starts
one thread per core whatever torch.set_num_threads says, so the script sets its
threads to --threads too, and prints the library, its thread count and the CPU its
kernels are for (when OpenBLAS's own detection chose generic SSE3 kernels on a CPU
with AVX2 or AVX-512, the script runs itself again with OPENBLAS_CORETYPE set to the
right one; set OPENBLAS_CORETYPE yourself to choose). --bf16 runs
the forward under torch.autocast("cpu", torch.bfloat16) (mixed precision: matrix
products in bfloat16 through oneDNN, float32 weights and optimizer), which r1 does
not do: r1 trains in float32 throughout.
"""
import argparse
import ctypes
import math
import os
import sys
import time

import numpy as np
import torch

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import gguf_io  # noqa: E402
import train_ref  # noqa: E402

# r1_train_config_default() (src/train/tiny_model.c) with the pretraining vocabulary
DEFAULT = dict(vocab=264, dim=256, layers=4, dense_layers=1, heads=4, q_lora_rank=96, kv_lora_rank=64, qk_nope=32,
               qk_rope=16, v_head=32, ffn_dim=768, experts=8, top_k=2, shared_experts=1, expert_ffn=128, groups=4,
               groups_used=2, route_scale=2.5, rope_base=10000.0, norm_eps=1e-6, balance_alpha=1e-4, init_std=0.02)
CONFIGS = {
    "default": (dict(DEFAULT), 4, 512),
    "issue": (dict(DEFAULT, layers=6, expert_ffn=256), 16, 128),
    "recipe": (dict(DEFAULT, dim=192, layers=3, ffn_dim=576, q_lora_rank=64, kv_lora_rank=48, expert_ffn=96), 8, 512),
    "student": (dict(DEFAULT, dim=128, layers=2, ffn_dim=384, q_lora_rank=48, kv_lora_rank=32, expert_ffn=64), 8, 512),
}


def random_model(c, seed):
    """A gguf_io.GGUF holding the model's keys and N(0, init_std^2) F32 tensors, as
    r1's trainer exports it (names and shapes of model/presets.c)."""
    rng = np.random.default_rng(seed)
    g = gguf_io.GGUF()
    keys = {
        "embedding_length": c["dim"], "block_count": c["layers"], "attention.head_count": c["heads"],
        "attention.layer_norm_rms_epsilon": c["norm_eps"], "rope.freq_base": c["rope_base"],
        "rope.dimension_count": c["qk_rope"], "attention.q_lora_rank": c["q_lora_rank"],
        "attention.kv_lora_rank": c["kv_lora_rank"], "attention.key_length_mla": c["qk_nope"] + c["qk_rope"],
        "attention.value_length_mla": c["v_head"], "leading_dense_block_count": c["dense_layers"],
        "expert_count": c["experts"], "expert_used_count": c["top_k"], "expert_group_count": c["groups"],
        "expert_group_used_count": c["groups_used"], "expert_weights_scale": c["route_scale"],
        "expert_gating_func": 2, "expert_weights_norm": True,
    }
    for k, v in keys.items():
        g.kv["deepseek2." + k] = gguf_io.Value(None, v)
    D, H, R, Rq, E = c["dim"], c["heads"], c["kv_lora_rank"], c["q_lora_rank"], c["experts"]
    QK, V, F, Fe = c["qk_nope"] + c["qk_rope"], c["v_head"], c["ffn_dim"], c["expert_ffn"]
    Fs = Fe * c["shared_experts"]

    def add(name, *shape, norm=False):
        arr = np.ones(shape) if norm else rng.normal(0.0, c["init_std"], shape)
        g.tensors[name] = arr.astype(np.float32)
        g.tensor_info[name] = (list(reversed(shape)), gguf_io.GGML_F32)

    add("token_embd.weight", c["vocab"], D)
    for il in range(c["layers"]):
        b = "blk.%d." % il
        add(b + "attn_norm.weight", D, norm=True)
        add(b + "attn_q_a.weight", Rq, D)
        add(b + "attn_q_a_norm.weight", Rq, norm=True)
        add(b + "attn_q_b.weight", H * QK, Rq)
        add(b + "attn_kv_a_mqa.weight", R + c["qk_rope"], D)
        add(b + "attn_kv_a_norm.weight", R, norm=True)
        add(b + "attn_k_b.weight", H, R, c["qk_nope"])
        add(b + "attn_v_b.weight", H, V, R)
        add(b + "attn_output.weight", D, H * V)
        add(b + "ffn_norm.weight", D, norm=True)
        if il < c["dense_layers"]:
            add(b + "ffn_gate.weight", F, D)
            add(b + "ffn_up.weight", F, D)
            add(b + "ffn_down.weight", D, F)
        else:
            add(b + "ffn_gate_inp.weight", E, D)
            add(b + "ffn_gate_exps.weight", E, Fe, D)
            add(b + "ffn_up_exps.weight", E, Fe, D)
            add(b + "ffn_down_exps.weight", E, D, Fe)
            add(b + "ffn_gate_shexp.weight", Fs, D)
            add(b + "ffn_up_shexp.weight", Fs, D)
            add(b + "ffn_down_shexp.weight", D, Fs)
            g.tensors[b + train_ref.BIAS_SUFFIX] = np.zeros(E, dtype=np.float32)
            g.tensor_info[b + train_ref.BIAS_SUFFIX] = ([E], gguf_io.GGML_F32)
    add("output_norm.weight", D, norm=True)
    add("output.weight", c["vocab"], D)
    return g


class SparseMoE(train_ref.TrainRef):
    """train_ref's model with each expert run on its routed tokens only."""

    def moe(self, il, x):
        hp = self.hp
        B, T, D = x.shape
        E, K = hp.n_experts, hp.top_k
        s = torch.sigmoid(x @ self.p(il, "ffn_gate_inp.weight").T)
        ids = self.route(il, s)
        picked = s.gather(-1, ids)
        g = hp.route_scale * picked / picked.sum(dim=-1, keepdim=True)  # [B, T, K]
        flat = x.reshape(B * T, D)
        out = train_ref.swiglu(flat, self.p(il, "ffn_gate_shexp.weight"), self.p(il, "ffn_up_shexp.weight"),
                               self.p(il, "ffn_down_shexp.weight"))
        w_gate, w_up, w_down = (self.p(il, "ffn_gate_exps.weight"), self.p(il, "ffn_up_exps.weight"),
                                self.p(il, "ffn_down_exps.weight"))
        slot_ids, slot_g = ids.reshape(-1), g.reshape(-1, 1)  # slot = token * K + k
        for e in range(E):
            slots = (slot_ids == e).nonzero().squeeze(1)
            if slots.numel() == 0:
                continue
            tokens = slots // K
            y = train_ref.swiglu(flat.index_select(0, tokens), w_gate[e], w_up[e], w_down[e])
            out = out.index_add(0, tokens, y * slot_g.index_select(0, slots))

        counts = torch.zeros(B, T, E, dtype=x.dtype).scatter(-1, ids, 1.0).sum(dim=1)
        f = counts * E / (K * T)
        P = (s / s.sum(dim=-1, keepdim=True)).mean(dim=1)
        return out.view(B, T, D), (self.alpha * (f * P).sum(dim=-1)).mean()


# OpenBLAS's kernels for the CPU's widest vectors (its OPENBLAS_CORETYPE names):
# its own detection can miss a newer CPU and fall back to SSE3 kernels ("Prescott"),
# as 0.3.21 does on Intel's Emerald Rapids (model 207): 33 GFLOP/s against 156 with
# SkylakeX's AVX-512 kernels, which would flatter r1 ~2.5x.
CORE_FOR_FLAGS = [("avx512f", "SkylakeX"), ("avx2", "Haswell")]
GENERIC_CORES = {"prescott", "core2", "penryn", "dunnington", "nehalem", "atom", "katmai", "coppermine",
                 "northwood", "banias", "barcelona", "generic"}


def best_core():
    """(the CPU's widest vector extension, OpenBLAS's core type for it), or None."""
    with open("/proc/cpuinfo") as f:
        flags = next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), [])
    return next(((flag, core) for flag, core in CORE_FOR_FLAGS if flag in flags), None)


def use_blas_threads(n):
    """Loads the BLAS (one product), caps OpenBLAS at n threads -- it starts one per
    core whatever torch.set_num_threads says -- and names the library and the core
    its kernels are for. When OpenBLAS chose generic kernels on a CPU with AVX2 or
    AVX-512 (and OPENBLAS_CORETYPE is not set), runs the script again with the
    right core, so that the baseline is at its best."""
    torch.ones(64, 64) @ torch.ones(64, 64)
    with open("/proc/self/maps") as f:
        libs = sorted({line.split()[-1] for line in f if "blas" in line.split()[-1]})
    openblas = [lib for lib in libs if "openblas" in os.path.basename(lib)]
    if not openblas:
        return "%s (not OpenBLAS: install libopenblas0-pthread)" % ", ".join(map(os.path.basename, libs))
    lib = ctypes.CDLL(openblas[0])
    lib.openblas_get_corename.restype = ctypes.c_char_p
    core = lib.openblas_get_corename().decode()
    better = best_core()
    if core.lower() in GENERIC_CORES and better and "OPENBLAS_CORETYPE" not in os.environ:
        print("OpenBLAS chose %s kernels on a CPU with %s: running again with OPENBLAS_CORETYPE=%s" %
              (core, better[0], better[1]), file=sys.stderr)
        sys.stderr.flush()
        os.execve(sys.executable, [sys.executable] + sys.argv, dict(os.environ, OPENBLAS_CORETYPE=better[1]))
    lib.openblas_set_num_threads(n)
    return "%s, %d threads, %s kernels" % (os.path.basename(openblas[0]), lib.openblas_get_num_threads(), core)


def bench(name, moe, reps, seed, blas_threads, bf16):
    c, B, T = CONFIGS[name]
    train_ref.DTYPE = torch.float32  # the module's rope and routing tensors follow the weights
    ref = (SparseMoE if moe == "sparse" else train_ref.TrainRef)(random_model(c, seed), c["balance_alpha"])
    for n in ref.w:
        ref.w[n] = ref.w[n].detach().float().requires_grad_(True)
    ref.bias = {il: b.float() for il, b in ref.bias.items()}
    params = list(ref.w.values())
    n_params = sum(p.numel() for p in params)
    opt = torch.optim.AdamW(params, lr=2e-3, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)
    gen = torch.Generator().manual_seed(seed)
    tokens = torch.randint(0, c["vocab"], (B, T), generator=gen)
    targets = torch.roll(tokens.reshape(-1), -1).view(B, T)

    times = []
    for r in range(reps + 1):  # the first step warms up
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = ref.forward(tokens, targets)[0]
        t1 = time.perf_counter()
        loss.backward()
        t2 = time.perf_counter()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        t3 = time.perf_counter()
        if not math.isfinite(loss.item()):
            sys.exit("%s: the loss is %g" % (name, loss.item()))
        if r > 0:
            times.append((t3 - t0, t1 - t0, t2 - t1, t3 - t2))
    best = min(times)
    rates = sorted(B * T / t[0] for t in times)
    median = rates[len(rates) // 2] if len(rates) % 2 else 0.5 * (rates[len(rates) // 2 - 1] + rates[len(rates) // 2])
    print("torch %.2fM B%dxT%d t%d %.0f tokens/s (median %.0f) fwd/bwd/opt %.3f/%.3f/%.3f s  [%s, moe %s, blas %s%s]" %
          (n_params / 1e6, B, T, torch.get_num_threads(), B * T / best[0], median, best[1], best[2], best[3], name,
           moe, blas_threads, ", bf16 autocast" if bf16 else ""))
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--blas-threads", type=int, help="OpenBLAS's threads (default: --threads)")
    ap.add_argument("--config", choices=sorted(CONFIGS) + ["all"], default="all")
    ap.add_argument("--moe", choices=["sparse", "dense"], default="sparse")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--bf16", action="store_true", help="the forward under bfloat16 autocast (mixed precision)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    blas = use_blas_threads(args.blas_threads or args.threads)
    print("torch %s, %d threads, BLAS: %s" % (torch.__version__, torch.get_num_threads(), blas))
    for name in sorted(CONFIGS) if args.config == "all" else [args.config]:
        bench(name, args.moe, args.reps, args.seed, args.blas_threads or args.threads, args.bf16)


if __name__ == "__main__":
    main()
