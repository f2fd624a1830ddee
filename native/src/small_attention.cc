// Scaled dot-product attention for the small shapes this project runs (a few dozen tokens, head
// dimensions of 8-64), forward and backward, one window-head matrix per task of a parallel loop.
// Written by hand because libtorch 1.13 has no fused attention (scaled_dot_product_attention came
// in 2.0) and its CPU bmm multiplies a batch of small matrices one BLAS call at a time (a select and
// an sgemm per window and head): in a step of the adapter fit that loop took about a third of the
// time. The composed version in nn_ops.cc stays for everything this one does not take (dropout,
// grouped heads, other dtypes or devices, long sequences).
#include "small_attention.h"

#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

namespace rl {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

struct Dims {
  int64_t B, H, Tq, Tk, D;
};

// Which keys a query may attend to: causal (the last query aligned with the last key) and the
// optional bool mask, read through its strides (broadcast dimensions have stride 0).
struct Allowed {
  const bool* mask = nullptr;
  int64_t sb = 0, sh = 0, sq = 0, sk = 0;
  bool causal = false;
  int64_t offset = 0;  // Tk - Tq
  bool operator()(int64_t b, int64_t h, int64_t i, int64_t j) const {
    if (causal && j > i + offset) return false;
    return mask == nullptr || mask[b * sb + h * sh + i * sq + j * sk];
  }
};

int64_t Grain(const Dims& d) {
  const int64_t work = d.Tq * d.Tk * d.D;
  return std::max<int64_t>(1, 32768 / std::max<int64_t>(1, work));
}

// P [B,H,Tq,Tk] = softmax(scale · Q Kᵀ over allowed keys; rows with none are 0), O = P V.
// DC: the head dimension when known at compile time (the inner loops unroll), else 0.
template <int64_t DC>
void Forward(const float* q, const float* k, const float* v, float* p, float* o, const Dims& d, const Allowed& allowed, float scale) {
  at::parallel_for(0, d.B * d.H, Grain(d), [&](int64_t begin, int64_t end) {
    const int64_t D = DC ? DC : d.D;
    for (int64_t bh = begin; bh < end; bh++) {
      const int64_t b = bh / d.H, h = bh % d.H;
      const float* Q = q + bh * d.Tq * D;
      const float* K = k + bh * d.Tk * D;
      const float* V = v + bh * d.Tk * D;
      for (int64_t i = 0; i < d.Tq; i++) {
        float* row = p + (bh * d.Tq + i) * d.Tk;
        float* out = o + (bh * d.Tq + i) * D;
        const float* qi = Q + i * D;
        float mx = kNegInf;
        for (int64_t j = 0; j < d.Tk; j++) {
          if (!allowed(b, h, i, j)) {
            row[j] = kNegInf;
            continue;
          }
          const float* kj = K + j * D;
          float s = 0;
#pragma omp simd reduction(+ : s)
          for (int64_t c = 0; c < D; c++) s += qi[c] * kj[c];
          row[j] = s * scale;
          mx = std::max(mx, row[j]);
        }
        for (int64_t c = 0; c < D; c++) out[c] = 0;
        if (mx == kNegInf) {
          for (int64_t j = 0; j < d.Tk; j++) row[j] = 0;
          continue;
        }
        float sum = 0;
        for (int64_t j = 0; j < d.Tk; j++) {
          row[j] = row[j] == kNegInf ? 0.f : std::exp(row[j] - mx);
          sum += row[j];
        }
        const float inv = 1.f / sum;
        for (int64_t j = 0; j < d.Tk; j++) {
          row[j] *= inv;
          if (row[j] == 0) continue;
          const float w = row[j];
          const float* vj = V + j * D;
#pragma omp simd
          for (int64_t c = 0; c < D; c++) out[c] += w * vj[c];
        }
      }
    }
  });
}

// With dS = P ⊙ (dO Vᵀ − rowsum(dO ⊙ O)): dQ = scale · dS K, dK = scale · dSᵀ Q, dV = Pᵀ dO.
template <int64_t DC>
void Backward(const float* q, const float* k, const float* v, const float* p, const float* go, float* gq, float* gk, float* gv, const Dims& d, float scale) {
  at::parallel_for(0, d.B * d.H, Grain(d), [&](int64_t begin, int64_t end) {
    const int64_t D = DC ? DC : d.D;
    std::vector<float> ds(d.Tk);
    for (int64_t bh = begin; bh < end; bh++) {
      const float* Q = q + bh * d.Tq * D;
      const float* K = k + bh * d.Tk * D;
      const float* V = v + bh * d.Tk * D;
      float* GQ = gq + bh * d.Tq * D;
      float* GK = gk + bh * d.Tk * D;
      float* GV = gv + bh * d.Tk * D;
      for (int64_t x = 0; x < d.Tk * D; x++) GK[x] = GV[x] = 0;
      for (int64_t i = 0; i < d.Tq; i++) {
        const float* row = p + (bh * d.Tq + i) * d.Tk;
        const float* gi = go + (bh * d.Tq + i) * D;
        const float* qi = Q + i * D;
        float* gqi = GQ + i * D;
        float delta = 0;
        for (int64_t j = 0; j < d.Tk; j++) {
          ds[j] = 0;
          if (row[j] == 0) continue;
          const float* vj = V + j * D;
          float dp = 0;
#pragma omp simd reduction(+ : dp)
          for (int64_t c = 0; c < D; c++) dp += gi[c] * vj[c];
          ds[j] = dp;
          delta += row[j] * dp;
        }
        for (int64_t c = 0; c < D; c++) gqi[c] = 0;
        for (int64_t j = 0; j < d.Tk; j++) {
          if (row[j] == 0) continue;
          const float s = row[j] * (ds[j] - delta) * scale;
          const float w = row[j];
          const float* kj = K + j * D;
          float* gkj = GK + j * D;
          float* gvj = GV + j * D;
#pragma omp simd
          for (int64_t c = 0; c < D; c++) {
            gqi[c] += s * kj[c];
            gkj[c] += s * qi[c];
            gvj[c] += w * gi[c];
          }
        }
      }
    }
  });
}

// Calls f with the head dimension as a compile-time constant for the common sizes (0: any other).
template <typename F>
void WithHeadDim(int64_t D, F&& f) {
  switch (D) {
    case 8: f(std::integral_constant<int64_t, 8>()); break;
    case 16: f(std::integral_constant<int64_t, 16>()); break;
    case 32: f(std::integral_constant<int64_t, 32>()); break;
    case 64: f(std::integral_constant<int64_t, 64>()); break;
    default: f(std::integral_constant<int64_t, 0>());
  }
}

struct SmallAttention : public torch::autograd::Function<SmallAttention> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& q0, const at::Tensor& k0, const at::Tensor& v0, const at::Tensor& mask, bool causal, double scale) {
    at::Tensor q = q0.contiguous(), k = k0.contiguous(), v = v0.contiguous();
    const Dims d{q.size(0), q.size(1), q.size(2), k.size(2), q.size(3)};
    at::Tensor p = at::empty({d.B, d.H, d.Tq, d.Tk}, q.options());
    at::Tensor o = at::empty({d.B, d.H, d.Tq, d.D}, q.options());
    Allowed allowed;
    allowed.causal = causal && d.Tq > 1;
    allowed.offset = d.Tk - d.Tq;
    at::Tensor m;
    if (mask.numel() > 0) {  // an empty mask stands for none (autograd's inputs must be defined tensors)
      m = mask.expand({d.B, d.H, d.Tq, d.Tk});
      allowed.mask = m.data_ptr<bool>();
      allowed.sb = m.stride(0), allowed.sh = m.stride(1), allowed.sq = m.stride(2), allowed.sk = m.stride(3);
    }
    const float* qp = q.data_ptr<float>();
    const float* kp = k.data_ptr<float>();
    const float* vp = v.data_ptr<float>();
    float *pp = p.data_ptr<float>(), *op = o.data_ptr<float>();
    const float sc = static_cast<float>(scale);
    WithHeadDim(d.D, [&](auto dc) { Forward<decltype(dc)::value>(qp, kp, vp, pp, op, d, allowed, sc); });
    ctx->save_for_backward({q, k, v, p});
    ctx->saved_data["scale"] = scale;
    return o;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor &q = saved[0], &k = saved[1], &v = saved[2], &p = saved[3];
    const Dims d{q.size(0), q.size(1), q.size(2), k.size(2), q.size(3)};
    at::Tensor go = grads[0].contiguous();
    at::Tensor gq = at::empty_like(q), gk = at::empty_like(k), gv = at::empty_like(v);
    const float sc = static_cast<float>(ctx->saved_data["scale"].toDouble());
    const float *qp = q.data_ptr<float>(), *kp = k.data_ptr<float>(), *vp = v.data_ptr<float>(), *pp = p.data_ptr<float>(), *gop = go.data_ptr<float>();
    float *gqp = gq.data_ptr<float>(), *gkp = gk.data_ptr<float>(), *gvp = gv.data_ptr<float>();
    WithHeadDim(d.D, [&](auto dc) { Backward<decltype(dc)::value>(qp, kp, vp, pp, gop, gqp, gkp, gvp, d, sc); });
    return {gq, gk, gv, at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

bool SmallAttentionApplies(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const c10::optional<at::Tensor>& mask) {
  auto cpuFloat = [](const at::Tensor& t) { return t.dim() == 4 && t.device().is_cpu() && t.scalar_type() == at::kFloat; };
  if (!cpuFloat(q) || !cpuFloat(k) || !cpuFloat(v)) return false;
  if (k.size(0) != q.size(0) || k.size(1) != q.size(1) || k.size(3) != q.size(3) || !v.sizes().equals(k.sizes())) return false;
  if (q.size(2) > 256 || k.size(2) > 256 || q.size(3) > 128) return false;
  if (mask && (mask->scalar_type() != at::kBool || mask->dim() != 4)) return false;
  return true;
}

at::Tensor SmallAttentionForward(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const c10::optional<at::Tensor>& mask, bool causal) {
  const double scale = 1.0 / std::sqrt(static_cast<double>(q.size(-1)));
  return SmallAttention::apply(q, k, v, mask ? *mask : at::empty({0}, q.options().dtype(at::kBool)), causal, scale);
}

}  // namespace rl
