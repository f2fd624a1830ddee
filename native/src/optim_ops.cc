// Fused optimiser steps over whole parameter lists: one JS->C++ call per step instead of
// ~10 per parameter. The math follows torch.optim's single-tensor implementations.
#include <cmath>

#include "handle.h"

namespace rl {
namespace {

#define ENV info.Env()
#define DBL(i) info[i].As<Napi::Number>().DoubleValue()

// adamStep(params, expAvg, expAvgSq, step, lr, beta1, beta2, eps, weightDecay, decoupled)
Napi::Value AdamStep(const Napi::CallbackInfo& info) {
  at::NoGradGuard guard;
  auto params = TensorList(info[0]);
  auto m = TensorList(info[1]);
  auto v = TensorList(info[2]);
  double step = DBL(3), lr = DBL(4), b1 = DBL(5), b2 = DBL(6), eps = DBL(7), wd = DBL(8);
  bool decoupled = info[9].ToBoolean().Value();
  if (m.size() != params.size() || v.size() != params.size()) throw Napi::Error::New(ENV, "adamStep: state lists do not match params");
  double bc1 = 1 - std::pow(b1, step), bc2 = 1 - std::pow(b2, step);
  for (size_t i = 0; i < params.size(); i++) {
    at::Tensor& p = params[i];
    at::Tensor g = p.grad();
    if (!g.defined()) continue;
    if (wd != 0) {
      if (decoupled) p.mul_(1 - lr * wd);
      else g = g.add(p, wd);
    }
    m[i].mul_(b1).add_(g, 1 - b1);
    v[i].mul_(b2).addcmul_(g, g, 1 - b2);
    at::Tensor denom = (v[i].sqrt() / std::sqrt(bc2)).add_(eps);
    p.addcdiv_(m[i], denom, -lr / bc1);
  }
  return ENV.Undefined();
}

// sgdStep(params, buffers, lr, momentum, dampening, weightDecay, nesterov, first)
Napi::Value SgdStep(const Napi::CallbackInfo& info) {
  at::NoGradGuard guard;
  auto params = TensorList(info[0]);
  auto bufs = TensorList(info[1]);
  double lr = DBL(2), mom = DBL(3), damp = DBL(4), wd = DBL(5);
  bool nesterov = info[6].ToBoolean().Value();
  bool first = info[7].ToBoolean().Value();
  for (size_t i = 0; i < params.size(); i++) {
    at::Tensor& p = params[i];
    at::Tensor d = p.grad();
    if (!d.defined()) continue;
    if (wd != 0) d = d.add(p, wd);
    if (mom != 0) {
      at::Tensor& buf = bufs.at(i);
      if (first) buf.copy_(d);
      else buf.mul_(mom).add_(d, 1 - damp);
      d = nesterov ? d.add(buf, mom) : buf;
    }
    p.add_(d, -lr);
  }
  return ENV.Undefined();
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
