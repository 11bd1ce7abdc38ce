"""An independent PyTorch forward pass for r1's test fixtures.

Architectures: deepseek2 (MLA + DeepSeekMoE, optional YaRN), llama (GQA, optional
llama3 `rope_freqs.weight`) and qwen2 (q/k/v biases, half-split rope). Everything is
computed in float64 from the file's float32 weights, for a whole sequence at once
with a causal mask. MLA uses the plain form: per-head keys and values are expanded
from the latent (k = [W_uk c_kv ; k_rope], v = W_uv c_kv) — not the absorbed form r1
decodes with.

Hyper-parameters come from the GGUF metadata with llama.cpp's key names. GGUF ne[0]
is the contiguous dimension: gguf_io returns a tensor with ne [cols, rows] as an
array [rows, cols], so y = W @ x (here x @ W.T on rows of tokens).
"""
import math

import numpy as np
import torch

import gguf_io

DTYPE = torch.float64


def rms_norm(x, w, eps):
    return x * torch.rsqrt((x * x).mean(dim=-1, keepdim=True) + eps) * w


def silu(x):
    return x * torch.sigmoid(x)


def swiglu(x, gate, up, down):
    """down · (silu(gate · x) ⊙ (up · x)); matrices are [rows, cols], x is [T, cols]."""
    return (silu(x @ gate.T) * (x @ up.T)) @ down.T


class Rope:
    """Rotation angles pos · θ_i for pair i, θ_i = base^(-2i/d), optionally divided by
    llama3 frequency factors and blended by YaRN. style 'interleaved' rotates
    (x[2i], x[2i+1]); 'half' rotates (x[i], x[i + d/2])."""

    def __init__(self, dims, base, style, freq_factors=None, yarn=None):
        self.dims = dims
        self.style = style
        n = dims // 2
        i = torch.arange(n, dtype=DTYPE)
        theta = torch.pow(torch.tensor(float(base), dtype=DTYPE), -2.0 * i / dims)
        if freq_factors is not None:
            theta = theta / torch.as_tensor(np.asarray(freq_factors, dtype=np.float64))
        self.attn_scale = 1.0
        if yarn is not None:
            factor, orig_ctx, beta_fast, beta_slow, log_mul = yarn

            def correction_dim(n_rot):
                # the pair index whose wavelength fits n_rot times in the original context
                return dims * math.log(orig_ctx / (n_rot * 2 * math.pi)) / (2 * math.log(base))

            low = max(math.floor(correction_dim(beta_fast)), 0)
            high = min(math.ceil(correction_dim(beta_slow)), dims - 1)
            if high == low:
                high += 0.001
            ramp = torch.clamp((i - low) / (high - low), 0.0, 1.0)
            theta = theta / factor * ramp + theta * (1.0 - ramp)
            mscale = 1.0 + log_mul * math.log(factor)
            self.attn_scale = mscale * mscale
            self.yarn_range = (low, high)
        self.theta = theta

    def apply(self, x, positions):
        """x [..., T, (heads,) d] with rope over the last dim; positions [T]."""
        ang = positions.to(DTYPE)[:, None] * self.theta[None, :]  # [T, n]
        while ang.dim() < x.dim():
            ang = ang.unsqueeze(-2)  # broadcast over heads
        cos, sin = torch.cos(ang), torch.sin(ang)
        n = self.dims // 2
        if self.style == "interleaved":
            a, b = x[..., 0::2], x[..., 1::2]
        else:
            a, b = x[..., :n], x[..., n:]
        ra = a * cos - b * sin
        rb = a * sin + b * cos
        if self.style == "interleaved":
            return torch.stack((ra, rb), dim=-1).flatten(-2)
        return torch.cat((ra, rb), dim=-1)


def causal_attention(q, k, v, scale):
    """q [T, H, dk], k [T, H, dk], v [T, H, dv] -> [T, H*dv]."""
    T = q.shape[0]
    scores = torch.einsum("thd,shd->hts", q, k) * scale
    mask = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
    scores = scores.masked_fill(mask, float("-inf"))
    p = torch.softmax(scores, dim=-1)
    out = torch.einsum("hts,shv->thv", p, v)
    return out.reshape(T, -1)


class Model:
    def __init__(self, path, use_yarn=True):
        g = gguf_io.read(path)
        self.g = g
        self.arch = g.get("general.architecture")
        if self.arch not in ("deepseek2", "llama", "qwen2"):
            raise ValueError("%s: architecture %s is not supported" % (path, self.arch))
        a = self.arch

        def key(name, default=None):
            v = g.get("%s.%s" % (a, name), default)
            if v is None:
                raise KeyError("%s: missing key %s.%s" % (path, a, name))
            return v

        self.key = key
        self.dim = key("embedding_length")
        self.n_layers = key("block_count")
        self.n_heads = key("attention.head_count")
        self.n_kv_heads = key("attention.head_count_kv", self.n_heads)
        self.eps = key("attention.layer_norm_rms_epsilon", 1e-6)
        self.base = key("rope.freq_base", 10000.0)
        self.w = {name: (None if t is None else torch.from_numpy(np.array(t, dtype=np.float64)))
                  for name, t in g.tensors.items()}
        self.n_vocab = self.w["token_embd.weight"].shape[0]
        self.output = self.w.get("output.weight")
        if self.output is None:
            self.output = self.w["token_embd.weight"]  # tied embeddings

        yarn = None
        if use_yarn and key("rope.scaling.type", "none") == "yarn":
            yarn = (float(key("rope.scaling.factor")),
                    int(key("rope.scaling.original_context_length")),
                    float(key("rope.scaling.yarn_beta_fast", 32.0)),
                    float(key("rope.scaling.yarn_beta_slow", 1.0)),
                    float(key("rope.scaling.yarn_log_multiplier", 0.1)))
        self.yarn = yarn

        if a == "deepseek2":
            self.q_lora = key("attention.q_lora_rank", 0)
            self.kv_lora = key("attention.kv_lora_rank")
            self.rope_dim = key("rope.dimension_count")
            key_len = key("attention.key_length_mla", key("attention.key_length"))
            self.nope = key_len - self.rope_dim
            self.v_dim = key("attention.value_length_mla", key("attention.value_length"))
            self.n_dense = key("leading_dense_block_count", 0)
            self.n_experts = key("expert_count")
            self.n_used = key("expert_used_count")
            self.n_groups = key("expert_group_count", 1)
            self.n_groups_used = key("expert_group_used_count", 1)
            self.gating = key("expert_gating_func", 1)
            self.weights_norm = bool(key("expert_weights_norm", False))
            self.weights_scale = float(key("expert_weights_scale", 1.0))
            self.rope = Rope(self.rope_dim, self.base, "interleaved", yarn=yarn)
        else:
            self.head_dim = key("attention.key_length", self.dim // self.n_heads)
            self.rope_dim = key("rope.dimension_count", self.head_dim)
            ff = g.tensors.get("rope_freqs.weight")
            style = "half" if a == "qwen2" else "interleaved"
            self.rope = Rope(self.rope_dim, self.base, style, freq_factors=ff)
        # smallest routing margins seen (for choosing robust fixtures)
        self.min_expert_gap = float("inf")
        self.min_group_gap = float("inf")

    # ---- deepseek2 ----

    def mla(self, i, x, pos):
        w, p = self.w, "blk.%d." % i
        T, H, R = x.shape[0], self.n_heads, self.kv_lora
        nope, rd, vd = self.nope, self.rope_dim, self.v_dim
        if self.q_lora:
            cq = rms_norm(x @ w[p + "attn_q_a.weight"].T, w[p + "attn_q_a_norm.weight"], self.eps)
            q = cq @ w[p + "attn_q_b.weight"].T
        else:
            q = x @ w[p + "attn_q.weight"].T
        q = q.view(T, H, nope + rd)
        q_nope, q_rope = q[..., :nope], self.rope.apply(q[..., nope:], pos)
        kv_a = x @ w[p + "attn_kv_a_mqa.weight"].T
        c = rms_norm(kv_a[:, :R], w[p + "attn_kv_a_norm.weight"], self.eps)  # [T, R]
        k_rope = self.rope.apply(kv_a[:, R:], pos)  # [T, rd], shared by the heads
        if p + "attn_k_b.weight" in w:
            # ne [nope, R, H] -> [H, R, nope]: per head W_ukᵀ; ne [R, v, H] -> [H, v, R]: W_uv
            w_uk = w[p + "attn_k_b.weight"].transpose(1, 2)  # [H, nope, R]
            w_uv = w[p + "attn_v_b.weight"]  # [H, v, R]
        else:
            kv_b = w[p + "attn_kv_b.weight"].view(H, nope + vd, R)  # ne [R, H*(nope+v)]
            w_uk, w_uv = kv_b[:, :nope, :], kv_b[:, nope:, :]
        k_nope = torch.einsum("hnr,tr->thn", w_uk, c)
        v = torch.einsum("hvr,tr->thv", w_uv, c)
        k = torch.cat((k_nope, k_rope[:, None, :].expand(T, H, rd)), dim=-1)
        qf = torch.cat((q_nope, q_rope), dim=-1)
        scale = self.rope.attn_scale / math.sqrt(nope + rd)
        o = causal_attention(qf, k, v, scale)
        return o @ w[p + "attn_output.weight"].T

    def route(self, logits, bias):
        """One token's router logits [E] -> (expert ids, weights)."""
        E, G = self.n_experts, self.n_groups
        if self.gating == 2:
            scores = torch.sigmoid(logits)
        else:
            scores = torch.softmax(logits, dim=-1)
        sel = scores + bias if bias is not None else scores.clone()
        if G > 1:
            grouped = sel.view(G, E // G)
            if bias is not None:
                gscore = grouped.topk(2, dim=-1).values.sum(dim=-1)
            else:
                gscore = grouped.max(dim=-1).values
            order = torch.sort(gscore, descending=True).values
            self.min_group_gap = min(self.min_group_gap,
                                     float(order[self.n_groups_used - 1] - order[self.n_groups_used]))
            keep = gscore.topk(self.n_groups_used).indices
            mask = torch.ones(G, dtype=torch.bool)
            mask[keep] = False
            sel = sel.view(G, E // G).masked_fill(mask[:, None], float("-inf")).view(E)
        order = torch.sort(sel, descending=True).values
        if self.n_used < E and torch.isfinite(order[self.n_used]):
            self.min_expert_gap = min(self.min_expert_gap, float(order[self.n_used - 1] - order[self.n_used]))
        ids = sel.topk(self.n_used).indices
        wts = scores[ids]
        if self.weights_norm:
            wts = wts / wts.sum()
        return ids, wts * self.weights_scale

    def moe(self, i, x):
        w, p = self.w, "blk.%d." % i
        router = w[p + "ffn_gate_inp.weight"]
        bias = w.get(p + "exp_probs_b.bias")
        gate, up, down = w[p + "ffn_gate_exps.weight"], w[p + "ffn_up_exps.weight"], w[p + "ffn_down_exps.weight"]
        out = torch.zeros_like(x)
        logits = x @ router.T
        for t in range(x.shape[0]):
            ids, wts = self.route(logits[t], bias)
            xt = x[t:t + 1]
            for e, wt in zip(ids.tolist(), wts):
                out[t] += wt * swiglu(xt, gate[e], up[e], down[e])[0]
        if p + "ffn_gate_shexp.weight" in w:
            out = out + swiglu(x, w[p + "ffn_gate_shexp.weight"], w[p + "ffn_up_shexp.weight"],
                               w[p + "ffn_down_shexp.weight"])
        return out

    # ---- llama / qwen2 ----

    def gqa(self, i, x, pos):
        w, p = self.w, "blk.%d." % i
        T, H, KV, hd, rd = x.shape[0], self.n_heads, self.n_kv_heads, self.head_dim, self.rope_dim
        q, k, v = x @ w[p + "attn_q.weight"].T, x @ w[p + "attn_k.weight"].T, x @ w[p + "attn_v.weight"].T
        if p + "attn_q.bias" in w:
            q, k, v = q + w[p + "attn_q.bias"], k + w[p + "attn_k.bias"], v + w[p + "attn_v.bias"]
        q, k, v = q.view(T, H, hd), k.view(T, KV, hd), v.view(T, KV, hd)
        q = torch.cat((self.rope.apply(q[..., :rd], pos), q[..., rd:]), dim=-1)
        k = torch.cat((self.rope.apply(k[..., :rd], pos), k[..., rd:]), dim=-1)
        rep = H // KV
        k = k.repeat_interleave(rep, dim=1)  # head h uses kv head h // rep
        v = v.repeat_interleave(rep, dim=1)
        o = causal_attention(q, k, v, 1.0 / math.sqrt(hd))
        return o @ w[p + "attn_output.weight"].T

    # ---- whole model ----

    def forward(self, tokens):
        """tokens: list of ids -> logits [T, vocab] (float64 torch tensor)."""
        w = self.w
        pos = torch.arange(len(tokens))
        x = w["token_embd.weight"][torch.tensor(tokens, dtype=torch.long)]
        for i in range(self.n_layers):
            p = "blk.%d." % i
            xn = rms_norm(x, w[p + "attn_norm.weight"], self.eps)
            x = x + (self.mla(i, xn, pos) if self.arch == "deepseek2" else self.gqa(i, xn, pos))
            xn = rms_norm(x, w[p + "ffn_norm.weight"], self.eps)
            if self.arch == "deepseek2" and i >= self.n_dense:
                x = x + self.moe(i, xn)
            else:
                x = x + swiglu(xn, w[p + "ffn_gate.weight"], w[p + "ffn_up.weight"], w[p + "ffn_down.weight"])
        x = rms_norm(x, w["output_norm.weight"], self.eps)
        return x @ self.output.T

    def greedy(self, tokens, n):
        """n greedy tokens after tokens, re-running the whole forward each step."""
        seq = list(tokens)
        out = []
        for _ in range(n):
            nxt = int(torch.argmax(self.forward(seq)[-1]))
            out.append(nxt)
            seq.append(nxt)
        return out
