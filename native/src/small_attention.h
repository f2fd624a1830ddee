// Fused scaled dot-product attention for small CPU float32 shapes (see small_attention.cc).
#pragma once
#include <ATen/ATen.h>

namespace rl {

// True when q, k, v [B,H,T,D] (equal heads, float32, CPU, T ≤ 256, D ≤ 128) and the mask (bool,
// 4-d, broadcastable to [B,H,Tq,Tk]) are shapes the fused kernel takes.
bool SmallAttentionApplies(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const c10::optional<at::Tensor>& mask);

// softmax(Q Kᵀ/√D over allowed keys) V, differentiable; rows with no allowed key give 0.
at::Tensor SmallAttentionForward(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const c10::optional<at::Tensor>& mask, bool causal);

}  // namespace rl
