"""Validates reference.py against the shared references, then writes r1's fixtures
for what the shared test data does not cover: YaRN rope scaling (deepseek2, V3 and
V2 routing, both MLA layouts) and llama3 rope frequency factors (llama).

    /usr/bin/python3 tests/ref/make_fixtures.py [--testdata DIR] [--out DIR]

Refuses to write anything unless every shared F32 model matches its references to
<= 1e-4 relative (max |ref.py - ref| / max |ref| over 16 x 512 logits) with all 16
greedy tokens equal.
"""
import argparse
import math
import os
import sys
from collections import OrderedDict

import numpy as np
import torch

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import gguf_io  # noqa: E402
import reference  # noqa: E402
from gguf_io import f32, string, u32, boolean  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))
SHARED_TOKENS = [1, 7, 42, 100, 3, 250, 511, 17, 64, 9, 300, 128, 5, 77, 400, 2]
SHARED_MODELS = ["deepseek2-v3-f32", "deepseek2-v3-oldmla-f32", "deepseek2-v2lite-f32", "qwen2-tiny-f32",
                 "llama-tiny-f32"]
# DeepSeek's own reference outputs for the same files
DEEPSEEK_REFS = {"deepseek2-v3-f32": "deepseek_ref_v3", "deepseek2-v3-oldmla-f32": "deepseek_ref_v3",
                 "deepseek2-v2lite-f32": "deepseek_ref_v2lite"}
MAX_REL = 1e-4
N_PROMPT = 48
N_GREEDY = 16
VOCAB = 512
# fixtures are re-seeded until no decision is closer than these (so float32 rounding
# in r1 cannot flip an argmax or an expert choice)
MIN_LOGIT_GAP = 2e-3
MIN_ROUTE_GAP = 1e-4


def rel_err(a, ref):
    return float(np.abs(a - ref).max() / np.abs(ref).max())


def read_ints(path):
    with open(path) as f:
        return [int(x) for x in f.read().split()]


def validate(testdata):
    print("validating reference.py against %s/refs (bound %.0e)" % (testdata, MAX_REL))
    results = []
    ok = True
    for name in SHARED_MODELS:
        model = reference.Model(os.path.join(testdata, "models", name + ".gguf"))
        logits = model.forward(SHARED_TOKENS).numpy()
        greedy = model.greedy(SHARED_TOKENS, N_GREEDY)
        refs = [("llamacpp_" + name)] + ([DEEPSEEK_REFS[name]] if name in DEEPSEEK_REFS else [])
        for ref in refs:
            want = np.loadtxt(os.path.join(testdata, "refs", ref + "_logits.txt"))
            want_greedy = read_ints(os.path.join(testdata, "refs", ref + "_greedy.txt"))
            rel = rel_err(logits, want) if want.shape == logits.shape else float("inf")
            argmax = int((logits.argmax(-1) == want.argmax(-1)).sum()) if want.shape == logits.shape else 0
            g = sum(1 for a, b in zip(greedy, want_greedy) if a == b)
            good = rel <= MAX_REL and argmax == len(SHARED_TOKENS) and greedy == want_greedy
            ok &= good
            results.append((name, ref, rel, argmax, g))
            print("  %-24s vs %-34s rel %.2e  argmax %2d/16  greedy %2d/16  %s" %
                  (name, ref, rel, argmax, g, "ok" if good else "FAIL"))
    return ok, results


# ---- random weights ----

class Init:
    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)

    def mat(self, rows, cols, std=None):
        return (self.rng.standard_normal((rows, cols)) * (std if std is not None else 1.0 / math.sqrt(cols))
                ).astype(np.float32)

    def mats(self, n, rows, cols):
        return (self.rng.standard_normal((n, rows, cols)) / math.sqrt(cols)).astype(np.float32)

    def norm(self, n):
        return (1.0 + 0.1 * self.rng.standard_normal(n)).astype(np.float32)

    def vec(self, n, std):
        return (std * self.rng.standard_normal(n)).astype(np.float32)


def tokenizer_kv(shared):
    return OrderedDict((k, v) for k, v in shared.kv.items() if k.startswith("tokenizer."))


def deepseek2_file(cfg, seed, testdata):
    """cfg: dict of the shape; returns (kv, tensors) in the shared files' layout."""
    src = gguf_io.read(os.path.join(testdata, "models", "deepseek2-v3-f32.gguf"))
    D, H, R = cfg["dim"], cfg["heads"], cfg["kv_lora"]
    nope, rd, vd = cfg["nope"], cfg["rope"], cfg["v"]
    E, eff, S = cfg["experts"], cfg["expert_ffn"], cfg["shared"]
    new_mla = cfg["new_mla"]
    a = "deepseek2."
    kv = OrderedDict()
    kv["general.architecture"] = string("deepseek2")
    kv["general.name"] = string(cfg["name"])
    kv["general.file_type"] = u32(0)
    kv["general.quantization_version"] = u32(2)
    kv[a + "context_length"] = u32(cfg["yarn_orig_ctx"] * int(cfg["yarn_factor"]))
    kv[a + "embedding_length"] = u32(D)
    kv[a + "feed_forward_length"] = u32(cfg["ffn"])
    kv[a + "block_count"] = u32(cfg["layers"])
    kv[a + "attention.head_count"] = u32(H)
    kv[a + "attention.head_count_kv"] = u32(1 if new_mla else H)
    kv[a + "rope.freq_base"] = f32(cfg["rope_base"])
    kv[a + "attention.layer_norm_rms_epsilon"] = f32(1e-6)
    kv[a + "expert_count"] = u32(E)
    kv[a + "expert_used_count"] = u32(cfg["used"])
    kv[a + "expert_group_count"] = u32(cfg["groups"])
    kv[a + "expert_group_used_count"] = u32(cfg["groups_used"])
    kv[a + "expert_gating_func"] = u32(cfg["gating"])
    kv[a + "leading_dense_block_count"] = u32(cfg["dense_layers"])
    kv[a + "vocab_size"] = u32(VOCAB)
    kv[a + "attention.q_lora_rank"] = u32(cfg["q_lora"])
    kv[a + "attention.kv_lora_rank"] = u32(R)
    if new_mla:
        kv[a + "attention.key_length"] = u32(R + rd)
        kv[a + "attention.value_length"] = u32(R)
        kv[a + "attention.key_length_mla"] = u32(nope + rd)
        kv[a + "attention.value_length_mla"] = u32(vd)
    else:
        kv[a + "attention.key_length"] = u32(nope + rd)
        kv[a + "attention.value_length"] = u32(vd)
    kv[a + "expert_feed_forward_length"] = u32(eff)
    kv[a + "expert_shared_count"] = u32(S)
    kv[a + "expert_weights_scale"] = f32(cfg["scale"])
    kv[a + "expert_weights_norm"] = boolean(cfg["norm"])
    kv[a + "rope.dimension_count"] = u32(rd)
    kv[a + "rope.scaling.type"] = string("yarn")
    kv[a + "rope.scaling.factor"] = f32(cfg["yarn_factor"])
    kv[a + "rope.scaling.original_context_length"] = u32(cfg["yarn_orig_ctx"])
    kv[a + "rope.scaling.yarn_log_multiplier"] = f32(cfg["yarn_log_mul"])
    if "yarn_beta_fast" in cfg:
        kv[a + "rope.scaling.yarn_beta_fast"] = f32(cfg["yarn_beta_fast"])
        kv[a + "rope.scaling.yarn_beta_slow"] = f32(cfg["yarn_beta_slow"])
    kv.update(tokenizer_kv(src))
    # every key of the shared V3 file with the same MLA layout is present (the YaRN keys are extra)
    same_layout = src if new_mla else gguf_io.read(os.path.join(testdata, "models", "deepseek2-v3-oldmla-f32.gguf"))
    missing = [k for k in same_layout.kv if k not in kv]
    assert not missing, missing

    rnd = Init(seed)
    t = OrderedDict()
    t["token_embd.weight"] = rnd.mat(VOCAB, D, std=1.0)
    for i in range(cfg["layers"]):
        p = "blk.%d." % i
        t[p + "attn_norm.weight"] = rnd.norm(D)
        if cfg["q_lora"]:
            t[p + "attn_q_a.weight"] = rnd.mat(cfg["q_lora"], D)
            t[p + "attn_q_a_norm.weight"] = rnd.norm(cfg["q_lora"])
            t[p + "attn_q_b.weight"] = rnd.mat(H * (nope + rd), cfg["q_lora"])
        else:
            t[p + "attn_q.weight"] = rnd.mat(H * (nope + rd), D)
        t[p + "attn_kv_a_mqa.weight"] = rnd.mat(R + rd, D)
        t[p + "attn_kv_a_norm.weight"] = rnd.norm(R)
        w_uk = rnd.mats(H, nope, R)  # per head: c_kv (R) -> k_nope (nope)
        w_uv = rnd.mats(H, vd, R)    # per head: c_kv (R) -> v (vd)
        if new_mla:
            t[p + "attn_k_b.weight"] = np.ascontiguousarray(w_uk.transpose(0, 2, 1))  # ne [nope, R, H]
            t[p + "attn_v_b.weight"] = w_uv                                           # ne [R, v, H]
        else:
            t[p + "attn_kv_b.weight"] = np.concatenate((w_uk, w_uv), axis=1).reshape(H * (nope + vd), R)
        t[p + "attn_output.weight"] = rnd.mat(D, H * vd)
        t[p + "ffn_norm.weight"] = rnd.norm(D)
        if i < cfg["dense_layers"]:
            t[p + "ffn_gate.weight"] = rnd.mat(cfg["ffn"], D)
            t[p + "ffn_up.weight"] = rnd.mat(cfg["ffn"], D)
            t[p + "ffn_down.weight"] = rnd.mat(D, cfg["ffn"])
        else:
            t[p + "ffn_gate_inp.weight"] = rnd.mat(E, D)
            if cfg["bias"]:
                t[p + "exp_probs_b.bias"] = rnd.vec(E, 0.1)
            t[p + "ffn_gate_exps.weight"] = rnd.mats(E, eff, D)
            t[p + "ffn_up_exps.weight"] = rnd.mats(E, eff, D)
            t[p + "ffn_down_exps.weight"] = rnd.mats(E, D, eff)
            if S:
                t[p + "ffn_gate_shexp.weight"] = rnd.mat(eff * S, D)
                t[p + "ffn_up_shexp.weight"] = rnd.mat(eff * S, D)
                t[p + "ffn_down_shexp.weight"] = rnd.mat(D, eff * S)
    t["output_norm.weight"] = rnd.norm(D)
    t["output.weight"] = rnd.mat(VOCAB, D)
    return kv, t


def llama3_rope_factors(head_dim, base, factor, low_ff, high_ff, orig_ctx):
    """The llama3 rule: pairs whose wavelength is short keep their frequency, long ones
    are slowed by factor, and a smooth blend between the two wavelength bounds. Returns
    the divisors of θ_i (what llama.cpp stores as rope_freqs.weight)."""
    out = []
    low_wavelen, high_wavelen = orig_ctx / low_ff, orig_ctx / high_ff
    for i in range(head_dim // 2):
        theta = base ** (-2.0 * i / head_dim)
        wavelen = 2 * math.pi / theta
        if wavelen < high_wavelen:
            out.append(1.0)
        elif wavelen > low_wavelen:
            out.append(factor)
        else:
            smooth = (orig_ctx / wavelen - low_ff) / (high_ff - low_ff)
            out.append(1.0 / ((1 - smooth) / factor + smooth))
    return np.array(out, dtype=np.float32)


def llama_file(cfg, seed, testdata):
    src = gguf_io.read(os.path.join(testdata, "models", "llama-tiny-f32.gguf"))
    D, H, KV, F, L = cfg["dim"], cfg["heads"], cfg["kv_heads"], cfg["ffn"], cfg["layers"]
    hd = D // H
    a = "llama."
    kv = OrderedDict()
    kv["general.architecture"] = string("llama")
    kv["general.name"] = string(cfg["name"])
    kv["general.file_type"] = u32(0)
    kv["general.quantization_version"] = u32(2)
    kv[a + "context_length"] = u32(cfg["ctx"])
    kv[a + "embedding_length"] = u32(D)
    kv[a + "feed_forward_length"] = u32(F)
    kv[a + "block_count"] = u32(L)
    kv[a + "attention.head_count"] = u32(H)
    kv[a + "attention.head_count_kv"] = u32(KV)
    kv[a + "rope.freq_base"] = f32(cfg["rope_base"])
    kv[a + "attention.layer_norm_rms_epsilon"] = f32(1e-5)
    kv[a + "rope.dimension_count"] = u32(hd)
    kv[a + "vocab_size"] = u32(VOCAB)
    kv.update(tokenizer_kv(src))
    missing = [k for k in src.kv if k not in kv]
    assert not missing, missing

    rnd = Init(seed)
    t = OrderedDict()
    t["token_embd.weight"] = rnd.mat(VOCAB, D, std=1.0)
    t["rope_freqs.weight"] = llama3_rope_factors(hd, cfg["rope_base"], *cfg["llama3"])
    for i in range(L):
        p = "blk.%d." % i
        t[p + "attn_norm.weight"] = rnd.norm(D)
        t[p + "attn_q.weight"] = rnd.mat(H * hd, D)
        t[p + "attn_k.weight"] = rnd.mat(KV * hd, D)
        t[p + "attn_v.weight"] = rnd.mat(KV * hd, D)
        t[p + "attn_output.weight"] = rnd.mat(D, H * hd)
        t[p + "ffn_norm.weight"] = rnd.norm(D)
        t[p + "ffn_gate.weight"] = rnd.mat(F, D)
        t[p + "ffn_up.weight"] = rnd.mat(F, D)
        t[p + "ffn_down.weight"] = rnd.mat(D, F)
    t["output_norm.weight"] = rnd.norm(D)
    t["output.weight"] = rnd.mat(VOCAB, D)
    return kv, t


DS_V3 = dict(name="tiny-deepseek2-yarn-v3-f32", dim=64, layers=2, dense_layers=1, ffn=128, heads=4, q_lora=32,
             kv_lora=32, nope=16, rope=16, v=16, experts=8, used=2, expert_ffn=32, shared=1, groups=4, groups_used=2,
             gating=2, bias=True, norm=True, scale=2.5, new_mla=True, rope_base=10000.0, yarn_factor=4.0,
             yarn_orig_ctx=16, yarn_log_mul=0.1)
# V2 routing (softmax, group-limited greedy by max score, no bias, not normalised), no
# q-LoRA, old MLA layout. Explicit beta_fast / beta_slow move the YaRN ramp to pairs
# 0..3 (ramp 0, 1/3, 2/3, 1) so the linear blend itself is exercised: with the
# defaults 32 / 1 at rope dim 16 and original context 16 the ramp is only 0 or 1.
DS_V2 = dict(DS_V3, name="tiny-deepseek2-yarn-v2-f32", q_lora=0, gating=1, bias=False, groups=2, groups_used=1,
             norm=False, scale=1.0, new_mla=False, yarn_factor=8.0, yarn_log_mul=0.0707, yarn_beta_fast=4.0,
             yarn_beta_slow=0.25)
LLAMA = dict(name="tiny-llama-ropefreqs-f32", dim=64, layers=2, heads=4, kv_heads=2, ffn=128, rope_base=500000.0,
             ctx=512, llama3=(8.0, 1.0, 4.0, 64))

FIXTURES = [
    # name, builder, config, first seed
    ("deepseek2-yarn", deepseek2_file, DS_V3, 1000),
    ("deepseek2-yarn-v2", deepseek2_file, DS_V2, 2000),
    ("llama-ropefreqs", llama_file, LLAMA, 3000),
]


def logit_gap(rows):
    top = np.sort(rows, axis=-1)[..., -2:]
    return float((top[..., 1] - top[..., 0]).min())


def write_rows(path, rows):
    with open(path, "w") as f:
        for row in rows:
            f.write(" ".join("%.6e" % x for x in row) + "\n")


def write_line(path, ids):
    with open(path, "w") as f:
        f.write(" ".join(str(x) for x in ids) + "\n")


def make(name, builder, cfg, seed0, testdata, out_dir):
    tokens = [int(x) for x in np.random.default_rng(seed0 + 7).integers(3, VOCAB, N_PROMPT)]
    path = os.path.join(out_dir, name + ".gguf")
    for seed in range(seed0, seed0 + 100):
        kv, tensors = builder(cfg, seed, testdata)
        gguf_io.write(path, kv, tensors)
        model = reference.Model(path)
        logits = model.forward(tokens).numpy()
        greedy = model.greedy(tokens, N_GREEDY)
        gaps = [logit_gap(logits)]
        seq = tokens + greedy
        gaps.append(logit_gap(model.forward(seq[:-1]).numpy()[N_PROMPT - 1:]))
        gap = min(gaps)
        route_gap = min(model.min_expert_gap, model.min_group_gap)
        if gap >= MIN_LOGIT_GAP and route_gap >= MIN_ROUTE_GAP:
            break
        print("  %s: seed %d has a decision too close (logit gap %.2e, routing gap %.2e); next seed" %
              (name, seed, gap, route_gap))
    else:
        raise SystemExit("%s: no seed gave clear decisions" % name)
    # the file written by the loop is the one checked; read it back to be sure
    again = reference.Model(path).forward(tokens).numpy()
    assert np.array_equal(again, logits)
    write_line(os.path.join(out_dir, name + ".tokens"), tokens)
    write_rows(os.path.join(out_dir, name + ".logits"), logits)
    write_line(os.path.join(out_dir, name + ".greedy"), greedy)
    info = "seed %d, %d bytes, logit gap %.2e, routing gap %.2e, max |logit| %.3f" % (
        seed, os.path.getsize(path), gap, route_gap, np.abs(logits).max())
    if model.yarn is not None:
        info += ", YaRN theta'/theta per pair %s, softmax mscale^2 %.6f" % (
            " ".join("%.3f" % x for x in ((model.rope.theta / reference.Rope(
                model.rope_dim, model.base, "interleaved").theta).numpy())), model.rope.attn_scale)
    print("  %s: %s" % (name, info))
    if name == "deepseek2-yarn":
        plain = reference.Model(path, use_yarn=False).forward(tokens).numpy()
        write_rows(os.path.join(out_dir, name + ".noyarn.logits"), plain)
        print("  %s: without YaRN the logits differ by %.3e relative" % (name, rel_err(plain, logits)))
    elif model.yarn is not None:
        plain = reference.Model(path, use_yarn=False).forward(tokens).numpy()
        print("  %s: without YaRN the logits would differ by %.3e relative" % (name, rel_err(plain, logits)))
    if "rope_freqs.weight" in tensors:
        model.rope = reference.Rope(model.rope_dim, model.base, "interleaved")  # the same model, no factors
        plain = model.forward(tokens).numpy()
        print("  %s: rope_freqs %s; without them the logits would differ by %.3e relative" % (
            name, " ".join("%.4f" % x for x in tensors["rope_freqs.weight"]), rel_err(plain, logits)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--testdata", default=os.path.join(os.path.dirname(ROOT), "shared", "testdata"))
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "fixtures"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    ok, _ = validate(args.testdata)
    if not ok:
        raise SystemExit("reference.py does not match the shared references: no fixtures written")
    os.makedirs(args.out, exist_ok=True)
    print("writing fixtures to %s" % args.out)
    for name, builder, cfg, seed in FIXTURES:
        make(name, builder, cfg, seed, args.testdata, args.out)


if __name__ == "__main__":
    main()
