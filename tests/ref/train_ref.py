"""An independent PyTorch check of r1's trainer: the loss of one batch and the
gradient of every parameter of the tiny DeepSeek-V3 model, by torch.autograd in
float64, written as fixtures that tests/test_train_ref.c compares the trainer with.

    R1_WRITE_TRAIN_FIXTURE=1 ./build/tests/test_train_ref   # the models and the tokens
    /usr/bin/python3 tests/ref/train_ref.py [--dir tests/fixtures]

For each fixture F (train-step: the model alone; train-step-mtp: with a multi-token
prediction module):
Reads  F.model.gguf   the trainer's exported model (F32, deepseek2 keys,
                      blk.N.exp_probs_b.bias in the MoE layers)
       F.nextn.gguf   train-step-mtp only: the MTP module's tensors, blk.L.* with L the
                      main model's layer count (a transformer block and nextn.*)
       F.tokens       `B T alpha` (and `lambda` with MTP), then B*T tokens, then B*T
                      targets (-1: ignored)
Writes F.loss         `loss cross_entropy balance_loss` (and `mtp_loss`), %.9e each
       F.grads.gguf   one F32 tensor per parameter: its gradient, same name and shape

The model, from DeepSeek-V2 §2.1 and DeepSeek-V3 §2.1, written here from the
papers' equations:

    h      = token_embd[tokens]
    layer: h += W_o MLA(RMSNorm(h)),   h += FFN or MoE(RMSNorm(h))
    logits = output RMSNorm(h)

MLA with q-LoRA: c_q = RMSNorm(W_dq x), q = W_uq c_q split per head into
[q_nope | q_rope]; c_kv = RMSNorm(W_dkv x) and one k_rope = W_kr x shared by the
heads; k_h = [W_uk,h c_kv ; k_rope], v_h = W_uv,h c_kv; RoPE rotates the pairs
(x[2i], x[2i+1]) by pos * base^(-2i/d); causal softmax with scale 1/sqrt(nope + rope).

DeepSeekMoE: s_i = sigmoid(u . e_i); selection on s_i + b_i (b: exp_probs_b, not
trained, not in the weights): the n_groups_used groups with the largest sum of their
top-2 biased scores, then the top-K experts inside them; g_i = scale * s_i / sum of
the selected s_j (V3 eq. 13-14); out = shared expert(u) + sum_i g_i FFN_i(u). Every FFN
is SwiGLU: W_down (silu(W_gate u) * W_up u).

Loss: the mean cross-entropy over the non-ignored targets, plus for every MoE
layer the sequence-wise balance loss (V3 eq. 17-20) averaged over the B sequences:
L_bal = alpha sum_i f_i P_i, with f_i = E/(K T) times the number of the sequence's
tokens routed to expert i (the selection actually made: bias and groups included;
a constant) and P_i = (1/T) sum_t s_i,t / sum_j s_j,t.

MTP (V3 section 2.2, depth 1), when the fixture has it: at position t,
h'_t = M [RMSNorm_e(Emb(token_t+1)); RMSNorm_h(h_t)] with h the main model's last
state before output_norm, then one more transformer block (MoE, its balance loss
added like the others'), then logits = output RMSNorm_head(.), the cross-entropy
against the main target of position t+1 (token t+2), mean over those not ignored;
the loss gains lambda times it. At the last position there is no token t+1: its
embedding is zero and it has no target (it still passes through the block).

The script refuses (and writes nothing) when any routing decision of the batch is
within 1e-4 of flipping, since float32 rounding in the trainer could then pick
another expert; change FIXTURE_SEED in tests/test_train_ref.c and start again.
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

ROOT = os.path.dirname(os.path.dirname(HERE))
DTYPE = torch.float64
MIN_ROUTE_GAP = 1e-4
BIAS_SUFFIX = "exp_probs_b.bias"


class Hparams:
    """The shape of the model, from the file's deepseek2.* keys."""

    def __init__(self, g):
        def key(name):
            v = g.get("deepseek2." + name)
            if v is None:
                raise KeyError("model file: missing key deepseek2.%s" % name)
            return v

        self.dim = key("embedding_length")
        self.n_layers = key("block_count")
        self.n_heads = key("attention.head_count")
        self.eps = float(key("attention.layer_norm_rms_epsilon"))
        self.rope_base = float(key("rope.freq_base"))
        self.rope = key("rope.dimension_count")
        self.q_lora = key("attention.q_lora_rank")
        self.kv_lora = key("attention.kv_lora_rank")
        self.nope = key("attention.key_length_mla") - self.rope
        self.v_head = key("attention.value_length_mla")
        self.n_dense = key("leading_dense_block_count")
        self.n_experts = key("expert_count")
        self.top_k = key("expert_used_count")
        self.n_groups = key("expert_group_count")
        self.n_groups_used = key("expert_group_used_count")
        self.route_scale = float(key("expert_weights_scale"))
        if key("expert_gating_func") != 2 or not key("expert_weights_norm"):
            raise ValueError("model file: the trainer's model has sigmoid gating with normalised weights")
        if self.q_lora < 1:
            raise ValueError("model file: this reference expects q-LoRA")


def read_step(path, mtp):
    with open(path) as f:
        words = f.read().split()
    B, T, alpha = int(words[0]), int(words[1]), float(words[2])
    mtp_weight = float(words[3]) if mtp else 0.0
    ids = [int(w) for w in words[4 if mtp else 3:]]
    if len(ids) != 2 * B * T:
        raise ValueError("%s: expected %d tokens and %d targets, found %d numbers" % (path, B * T, B * T, len(ids)))
    tokens = torch.tensor(ids[:B * T], dtype=torch.long).view(B, T)
    targets = torch.tensor(ids[B * T:], dtype=torch.long).view(B, T)
    return B, T, alpha, mtp_weight, tokens, targets


# ---- the blocks ----

def rms_norm(x, w, eps):
    return x / torch.sqrt((x * x).mean(dim=-1, keepdim=True) + eps) * w


def swiglu(x, w_gate, w_up, w_down):
    """W_down (silu(W_gate x) * W_up x); W [rows, cols] acting on the last dim of x."""
    return torch.nn.functional.silu(x @ w_gate.T) * (x @ w_up.T) @ w_down.T


def rope_rotate(x, pos, base):
    """Rotates pairs (x[2i], x[2i+1]) of the last dim by pos * base^(-2i/d).
    x [B, T, ..., d], pos [T]."""
    d = x.shape[-1]
    theta = base ** (-2.0 * torch.arange(d // 2, dtype=DTYPE) / d)
    angle = pos.to(DTYPE)[:, None] * theta[None, :]  # [T, d/2]
    for _ in range(x.dim() - 3):
        angle = angle.unsqueeze(-2)  # broadcast over heads
    cos, sin = torch.cos(angle), torch.sin(angle)
    a, b = x[..., 0::2], x[..., 1::2]
    return torch.stack((a * cos - b * sin, a * sin + b * cos), dim=-1).flatten(-2)


class TrainRef:
    def __init__(self, g, alpha, nextn=None, mtp_weight=0.0):
        self.hp = Hparams(g)
        self.alpha = alpha
        self.mtp_weight = mtp_weight
        self.w = OrderedDict()  # trained parameters, float64, requires_grad
        self.bias = {}  # layer -> exp_probs_b (selection only)
        self.add_tensors(g)
        if nextn is not None:
            self.add_tensors(nextn)
        self.min_expert_gap = math.inf
        self.min_group_gap = math.inf
        self.bias_changed = 0  # (token, layer) pairs whose expert set the bias changed
        self.plain_topk_differs = 0  # ... where the routed set != top-K of the plain s (V3 eq. 18's indicator)

    def add_tensors(self, g):
        for name, arr in g.tensors.items():
            if g.tensor_info[name][1] != gguf_io.GGML_F32:
                raise ValueError("model file: tensor %s is not F32" % name)
            t = torch.from_numpy(np.array(arr, dtype=np.float64))
            if name.endswith(BIAS_SUFFIX):
                self.bias[int(name.split(".")[1])] = t
            else:
                self.w[name] = t.requires_grad_(True)

    def p(self, layer, name):
        return self.w["blk.%d.%s" % (layer, name)]

    def mla(self, il, x, pos):
        """x [B, T, D] -> [B, T, D]."""
        hp = self.hp
        B, T, H, R = x.shape[0], x.shape[1], hp.n_heads, hp.kv_lora
        nope, rope, V = hp.nope, hp.rope, hp.v_head
        c_q = rms_norm(x @ self.p(il, "attn_q_a.weight").T, self.p(il, "attn_q_a_norm.weight"), hp.eps)
        q = (c_q @ self.p(il, "attn_q_b.weight").T).view(B, T, H, nope + rope)
        q_nope, q_rope = q[..., :nope], rope_rotate(q[..., nope:], pos, hp.rope_base)
        kv_a = x @ self.p(il, "attn_kv_a_mqa.weight").T  # [B, T, R + rope]
        c_kv = rms_norm(kv_a[..., :R], self.p(il, "attn_kv_a_norm.weight"), hp.eps)
        k_rope = rope_rotate(kv_a[..., R:], pos, hp.rope_base)  # [B, T, rope], one for all heads
        # attn_k_b ne [nope, R, H] is [H, R, nope]: W_uk,h transposed; attn_v_b ne [R, V, H] is [H, V, R]: W_uv,h
        k_nope = torch.einsum("btr,hrn->bthn", c_kv, self.p(il, "attn_k_b.weight"))
        v = torch.einsum("btr,hvr->bthv", c_kv, self.p(il, "attn_v_b.weight"))
        score = (torch.einsum("bthn,bshn->bhts", q_nope, k_nope) +
                 torch.einsum("bthr,bsr->bhts", q_rope, k_rope)) / math.sqrt(nope + rope)
        future = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
        att = torch.softmax(score.masked_fill(future, -math.inf), dim=-1)
        o = torch.einsum("bhts,bshv->bthv", att, v).reshape(B, T, H * V)
        return o @ self.p(il, "attn_output.weight").T

    def route(self, il, s):
        """Expert ids [B, T, K] from the scores s [B, T, E] and the layer's bias,
        recording the margins of every decision."""
        hp = self.hp
        E, G, K = hp.n_experts, hp.n_groups, hp.top_k
        with torch.no_grad():
            biased = s + self.bias[il]
            grouped = biased.view(*s.shape[:-1], G, E // G)
            group_score = grouped.topk(min(2, E // G), dim=-1).values.sum(dim=-1)  # [B, T, G]
            if hp.n_groups_used < G:
                ranked = group_score.sort(dim=-1, descending=True).values
                gap = ranked[..., hp.n_groups_used - 1] - ranked[..., hp.n_groups_used]
                self.min_group_gap = min(self.min_group_gap, float(gap.min()))
                kept = group_score.topk(hp.n_groups_used, dim=-1).indices
                keep = torch.zeros_like(group_score, dtype=torch.bool).scatter_(-1, kept, True)
                biased = grouped.masked_fill(~keep[..., None], -math.inf).view_as(s)
            ranked = biased.sort(dim=-1, descending=True).values
            if K < E:
                gap = ranked[..., K - 1] - ranked[..., K]
                gap = gap[torch.isfinite(gap)]
                if gap.numel():
                    self.min_expert_gap = min(self.min_expert_gap, float(gap.min()))
            ids = biased.topk(K, dim=-1).indices

            def expert_sets(idx):
                return torch.zeros_like(s, dtype=torch.bool).scatter_(-1, idx, True)

            routed = expert_sets(ids)
            self.plain_topk_differs += int((routed != expert_sets(s.topk(K, dim=-1).indices)).any(-1).sum())
            unbiased = s.view(*s.shape[:-1], G, E // G)
            ug = unbiased.topk(min(2, E // G), dim=-1).values.sum(dim=-1)
            if hp.n_groups_used < G:
                ukeep = torch.zeros_like(ug, dtype=torch.bool).scatter_(-1, ug.topk(hp.n_groups_used, -1).indices,
                                                                         True)
                unbiased = unbiased.masked_fill(~ukeep[..., None], -math.inf)
            no_bias = expert_sets(unbiased.view_as(s).topk(K, dim=-1).indices)
            self.bias_changed += int((routed != no_bias).any(-1).sum())
        return ids

    def moe(self, il, x):
        """x [B, T, D] -> (out [B, T, D], the layer's balance loss)."""
        hp = self.hp
        B, T = x.shape[0], x.shape[1]
        E, K = hp.n_experts, hp.top_k
        s = torch.sigmoid(x @ self.p(il, "ffn_gate_inp.weight").T)  # [B, T, E]
        ids = self.route(il, s)
        picked = s.gather(-1, ids)
        g = hp.route_scale * picked / picked.sum(dim=-1, keepdim=True)  # [B, T, K]
        out = swiglu(x, self.p(il, "ffn_gate_shexp.weight"), self.p(il, "ffn_up_shexp.weight"),
                     self.p(il, "ffn_down_shexp.weight"))
        w_gate, w_up, w_down = (self.p(il, "ffn_gate_exps.weight"), self.p(il, "ffn_up_exps.weight"),
                                self.p(il, "ffn_down_exps.weight"))
        gate_of = torch.zeros(B, T, E, dtype=DTYPE).scatter(-1, ids, g)  # g_i,t, zero where not routed
        for e in range(E):
            out = out + gate_of[..., e:e + 1] * swiglu(x, w_gate[e], w_up[e], w_down[e])

        counts = torch.zeros(B, T, E, dtype=DTYPE).scatter(-1, ids, 1.0).sum(dim=1)  # [B, E]
        f = counts * E / (K * T)
        P = (s / s.sum(dim=-1, keepdim=True)).mean(dim=1)  # [B, E]
        balance = (self.alpha * (f * P).sum(dim=-1)).mean()
        return out, balance

    def block(self, il, h, pos):
        """One transformer block: h [B, T, D] -> (h, the block's balance loss)."""
        hp = self.hp
        h = h + self.mla(il, rms_norm(h, self.p(il, "attn_norm.weight"), hp.eps), pos)
        xn = rms_norm(h, self.p(il, "ffn_norm.weight"), hp.eps)
        if il < hp.n_dense:
            return h + swiglu(xn, self.p(il, "ffn_gate.weight"), self.p(il, "ffn_up.weight"),
                              self.p(il, "ffn_down.weight")), torch.zeros((), dtype=DTYPE)
        out, balance = self.moe(il, xn)
        return h + out, balance

    def forward(self, tokens, targets):
        """-> (loss, cross-entropy, balance loss, MTP loss, logits [B, T, vocab])."""
        hp = self.hp
        pos = torch.arange(tokens.shape[1])
        h = self.w["token_embd.weight"][tokens]
        balance = torch.zeros((), dtype=DTYPE)
        for il in range(hp.n_layers):
            h, layer_balance = self.block(il, h, pos)
            balance = balance + layer_balance
        logits = rms_norm(h, self.w["output_norm.weight"], hp.eps) @ self.w["output.weight"].T
        V = logits.shape[-1]
        ce = torch.nn.functional.cross_entropy(logits.reshape(-1, V), targets.reshape(-1), ignore_index=-1,
                                               reduction="mean")
        mtp = torch.zeros((), dtype=DTYPE)
        if self.mtp_weight > 0:
            L = hp.n_layers
            B, T = tokens.shape
            emb_next = torch.cat((self.w["token_embd.weight"][tokens[:, 1:]],
                                  torch.zeros(B, 1, hp.dim, dtype=DTYPE)), dim=1)
            e = rms_norm(emb_next, self.p(L, "nextn.enorm.weight"), hp.eps)
            hn = rms_norm(h, self.p(L, "nextn.hnorm.weight"), hp.eps)
            h_mtp = torch.cat((e, hn), dim=-1) @ self.p(L, "nextn.eh_proj.weight").T
            h_mtp, layer_balance = self.block(L, h_mtp, pos)
            balance = balance + layer_balance
            mtp_logits = rms_norm(h_mtp, self.p(L, "nextn.shared_head_norm.weight"), hp.eps) @ self.w["output.weight"].T
            mtp_targets = torch.cat((targets[:, 1:], torch.full((B, 1), -1, dtype=torch.long)), dim=1)
            mtp = torch.nn.functional.cross_entropy(mtp_logits.reshape(-1, V), mtp_targets.reshape(-1),
                                                    ignore_index=-1, reduction="mean")
        return ce + balance + self.mtp_weight * mtp, ce, balance, mtp, logits


def rel(a, ref):
    return float(np.abs(a - ref).max() / np.abs(ref).max())


def write_fixture(directory, name, mtp):
    model_path = os.path.join(directory, name + ".model.gguf")
    g = gguf_io.read(model_path)
    nextn = gguf_io.read(os.path.join(directory, name + ".nextn.gguf")) if mtp else None
    B, T, alpha, mtp_weight, tokens, targets = read_step(os.path.join(directory, name + ".tokens"), mtp)
    ref = TrainRef(g, alpha, nextn, mtp_weight)
    loss, ce, balance, mtp_loss, logits = ref.forward(tokens, targets)
    n_moe = ref.hp.n_layers - ref.hp.n_dense + (1 if mtp else 0)
    print("%s: model %s: %d layers (%d dense)%s, %d parameters; B %d, T %d, %d targets, alpha %g%s" %
          (name, os.path.relpath(model_path), ref.hp.n_layers, ref.hp.n_dense, " + MTP module" if mtp else "",
           sum(t.numel() for t in ref.w.values()), B, T, int((targets >= 0).sum()), alpha,
           ", lambda %g" % mtp_weight if mtp else ""))
    print("loss %.9e = cross-entropy %.9e + balance %.9e%s" %
          (loss.item(), ce.item(), balance.item(), " + lambda * MTP %.9e" % mtp_loss.item() if mtp else ""))
    print("routing: smallest expert gap %.3e, group gap %.3e (need >= %.0e); the bias changes %d of %d "
          "token expert sets; the routed set differs from the top-%d of the unbiased scores in %d" %
          (ref.min_expert_gap, ref.min_group_gap, MIN_ROUTE_GAP, ref.bias_changed, B * T * n_moe, ref.hp.top_k,
           ref.plain_topk_differs))
    if min(ref.min_expert_gap, ref.min_group_gap) < MIN_ROUTE_GAP:
        sys.exit("a routing decision is within %.0e of flipping: change FIXTURE_SEED in tests/test_train_ref.c, "
                 "rerun R1_WRITE_TRAIN_FIXTURE=1 ./build/tests/test_train_ref, then this script; nothing written"
                 % MIN_ROUTE_GAP)

    # this forward against the inference reference (validated against llama.cpp)
    inference = reference.Model(model_path)
    worst = max(rel(logits[b].detach().numpy(), inference.forward(tokens[b].tolist()).numpy()) for b in range(B))
    print("logits vs reference.py: rel %.2e" % worst)
    if worst > 1e-10:
        sys.exit("this forward disagrees with reference.py; nothing written")

    names = list(ref.w)
    grads = torch.autograd.grad(loss, [ref.w[n] for n in names], retain_graph=True)
    routers = [n for n in names if n.endswith("ffn_gate_inp.weight")]
    balance_grads = torch.autograd.grad(balance, [ref.w[n] for n in routers], retain_graph=True)
    for n, gb in zip(routers, balance_grads):
        share = float(gb.abs().max() / grads[names.index(n)].abs().max())
        print("balance loss share of %s's gradient: %.3e (max |d balance| / max |d loss|)" % (n, share))
    if mtp:
        shared = ["token_embd.weight", "output.weight"]
        mtp_grads = torch.autograd.grad(mtp_weight * mtp_loss, [ref.w[n] for n in shared])
        for n, gm in zip(shared, mtp_grads):
            share = float(gm.abs().max() / grads[names.index(n)].abs().max())
            print("MTP loss share of %s's gradient: %.3e (max |d lambda MTP| / max |d loss|)" % (n, share))

    with open(os.path.join(directory, name + ".loss"), "w") as f:
        f.write("%.9e %.9e %.9e" % (loss.item(), ce.item(), balance.item()))
        f.write(" %.9e\n" % mtp_loss.item() if mtp else "\n")
    kv = OrderedDict()
    kv["general.name"] = gguf_io.string("%s gradients of %s" % (name, os.path.basename(model_path)))
    tensors = OrderedDict((n, gr.detach().numpy().astype(np.float32)) for n, gr in zip(names, grads))
    gguf_io.write(os.path.join(directory, name + ".grads.gguf"), kv, tensors)
    for n, gr in tensors.items():
        print("  %-36s %-14s max |grad| %.3e" % (n, "x".join(str(d) for d in reversed(gr.shape)), np.abs(gr).max()))
    print("wrote %s.loss and %s.grads.gguf in %s\n" % (name, name, os.path.relpath(directory)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", default=os.path.join(ROOT, "tests", "fixtures"))
    args = ap.parse_args()
    torch.set_num_threads(1)  # the same sums in the same order on every run
    write_fixture(args.dir, "train-step", False)
    write_fixture(args.dir, "train-step-mtp", True)


if __name__ == "__main__":
    main()
