// Fused optimiser steps over whole parameter lists: one JS->C++ call per step instead of
// ~10 per parameter. The math follows torch.optim's single-tensor implementations.
#include <cmath>

#include "handle.h"

namespace rl {
namespace {

#define ENV info.Env()
#define DBL(i) info[i].As<Napi::Number>().DoubleValue()

// One pass over float32 memory for p, g, m, v instead of ~20 ATen passes and two temporaries per
// parameter; the arithmetic is torch.optim's single-tensor Adam/AdamW in float32, op for op.
// The weight-decay variant is a template argument so the loop has no branches and vectorises.
template <bool Decoupled, bool Coupled>
void AdamLoop(float* __restrict__ pp, const float* __restrict__ gp, float* __restrict__ mp, float* __restrict__ vp,
              int64_t n, float decay, float l2, float b1, float b2, float a1, float a2, float sbc2, float eps, float step) {
#pragma omp simd
  for (int64_t i = 0; i < n; i++) {
    float pi = pp[i], gi = gp[i];
    if constexpr (Decoupled) pi = pi * decay;
    if constexpr (Coupled) gi = gi + l2 * pi;
    float mi = mp[i] * b1 + a1 * gi;
    float vi = vp[i] * b2 + a2 * gi * gi;
    float denom = std::sqrt(vi) / sbc2 + eps;
    mp[i] = mi;
    vp[i] = vi;
    pp[i] = pi + step * (mi / denom);
  }
}

bool FusedAdam(at::Tensor& p, const at::Tensor& g, at::Tensor& m, at::Tensor& v, double lr, double b1, double b2,
               double eps, double wd, bool decoupled, double bc1, double bc2) {
  auto ok = [&](const at::Tensor& t) {
    return t.scalar_type() == at::kFloat && t.is_cpu() && t.is_contiguous() && t.numel() == p.numel();
  };
  if (!ok(p) || !ok(g) || !ok(m) || !ok(v)) return false;
  auto loop = wd == 0 ? AdamLoop<false, false> : decoupled ? AdamLoop<true, false> : AdamLoop<false, true>;
  loop(p.data_ptr<float>(), g.data_ptr<float>(), m.data_ptr<float>(), v.data_ptr<float>(), p.numel(),
       static_cast<float>(1 - lr * wd), static_cast<float>(wd), static_cast<float>(b1), static_cast<float>(b2),
       static_cast<float>(1 - b1), static_cast<float>(1 - b2), static_cast<float>(std::sqrt(bc2)),
       static_cast<float>(eps), static_cast<float>(-lr / bc1));
  return true;
}

// A per-parameter value (steps[i], first[i]) given either as one value for all or as an array.
double PerParam(const Napi::Value& v, size_t i) {
  if (v.IsArray()) return v.As<Napi::Array>().Get(static_cast<uint32_t>(i)).ToNumber().DoubleValue();
  return v.ToNumber().DoubleValue();
}
Napi::Array Updated(Napi::Env env, const std::vector<bool>& done) {
  auto arr = Napi::Array::New(env, done.size());
  for (size_t i = 0; i < done.size(); i++) arr.Set(static_cast<uint32_t>(i), Napi::Boolean::New(env, done[i]));
  return arr;
}

// adamStep(params, expAvg, expAvgSq, steps, lr, beta1, beta2, eps, weightDecay, decoupled) -> updated[]
// steps: each parameter's own step number (as torch.optim's state['step']), or one for all.
Napi::Value AdamStep(const Napi::CallbackInfo& info) {
  at::NoGradGuard guard;
  auto params = TensorList(info[0]);
  auto m = TensorList(info[1]);
  auto v = TensorList(info[2]);
  double lr = DBL(4), b1 = DBL(5), b2 = DBL(6), eps = DBL(7), wd = DBL(8);
  bool decoupled = info[9].ToBoolean().Value();
  if (m.size() != params.size() || v.size() != params.size()) throw Napi::Error::New(ENV, "adamStep: state lists do not match params");
  if (info[3].IsArray() && info[3].As<Napi::Array>().Length() != params.size()) throw Napi::Error::New(ENV, "adamStep: steps do not match params");
  std::vector<bool> done(params.size(), false);
  for (size_t i = 0; i < params.size(); i++) {
    at::Tensor& p = params[i];
    at::Tensor g = p.grad();
    if (!g.defined()) continue;
    done[i] = true;
    double step = PerParam(info[3], i);
    double bc1 = 1 - std::pow(b1, step), bc2 = 1 - std::pow(b2, step);
    if (FusedAdam(p, g, m[i], v[i], lr, b1, b2, eps, wd, decoupled, bc1, bc2)) continue;
    if (wd != 0) {
      if (decoupled) p.mul_(1 - lr * wd);
      else g = g.add(p, wd);
    }
    m[i].mul_(b1).add_(g, 1 - b1);
    v[i].mul_(b2).addcmul_(g, g, 1 - b2);
    at::Tensor denom = (v[i].sqrt() / std::sqrt(bc2)).add_(eps);
    p.addcdiv_(m[i], denom, -lr / bc1);
  }
  return Updated(ENV, done);
}

// sgdStep(params, buffers, lr, momentum, dampening, weightDecay, nesterov, first) -> updated[]
// first: whether each parameter's momentum buffer is still unset (torch.optim: buf = grad), or one for all.
Napi::Value SgdStep(const Napi::CallbackInfo& info) {
  at::NoGradGuard guard;
  auto params = TensorList(info[0]);
  auto bufs = TensorList(info[1]);
  double lr = DBL(2), mom = DBL(3), damp = DBL(4), wd = DBL(5);
  bool nesterov = info[6].ToBoolean().Value();
  if (mom != 0 && bufs.size() != params.size()) throw Napi::Error::New(ENV, "sgdStep: momentum buffers do not match params");
  std::vector<bool> done(params.size(), false);
  for (size_t i = 0; i < params.size(); i++) {
    at::Tensor& p = params[i];
    at::Tensor d = p.grad();
    if (!d.defined()) continue;
    done[i] = true;
    if (wd != 0) d = d.add(p, wd);
    if (mom != 0) {
      at::Tensor& buf = bufs[i];
      if (PerParam(info[7], i) != 0) buf.copy_(d);
      else buf.mul_(mom).add_(d, 1 - damp);
      d = nesterov ? d.add(buf, mom) : buf;
    }
    p.add_(d, -lr);
  }
  return Updated(ENV, done);
}

// clipGradNorm(params, maxNorm) -> total L2 norm of all gradients before clipping.
Napi::Value ClipGradNorm(const Napi::CallbackInfo& info) {
  at::NoGradGuard guard;
  auto params = TensorList(info[0]);
  double maxNorm = DBL(1);
  std::vector<at::Tensor> norms;
  for (auto& p : params) {
    if (p.grad().defined()) norms.push_back(p.grad().norm(2));
  }
  if (norms.empty()) return Napi::Number::New(ENV, 0.0);
  double total = at::stack(norms).norm(2).item<double>();
  double coef = maxNorm / (total + 1e-6);
  if (coef < 1) {
    for (auto& p : params) {
      if (p.grad().defined()) p.mutable_grad().mul_(coef);
    }
  }
  return Napi::Number::New(ENV, total);
}

}  // namespace

void RegisterOptimOps(Napi::Env env, Napi::Object exports) {
  Export(env, exports, "adamStep", AdamStep);
  Export(env, exports, "sgdStep", SgdStep);
  Export(env, exports, "clipGradNorm", ClipGradNorm);
}

}  // namespace rl
