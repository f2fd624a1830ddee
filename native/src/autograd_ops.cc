// Autograd: requires-grad flags, backward, .grad, detach and the grad-mode switch.
#include <torch/csrc/autograd/autograd.h>

#include "handle.h"

namespace rl {
namespace {

#define ENV info.Env()
#define T0 Unwrap(info[0])

Napi::Value SetRequiresGrad(const Napi::CallbackInfo& info) {
  T0.requires_grad_(info[1].ToBoolean().Value());
  return ENV.Undefined();
}
Napi::Value RequiresGrad(const Napi::CallbackInfo& info) { return Napi::Boolean::New(ENV, T0.requires_grad()); }
Napi::Value IsLeaf(const Napi::CallbackInfo& info) { return Napi::Boolean::New(ENV, T0.is_leaf()); }
Napi::Value RetainGrad(const Napi::CallbackInfo& info) {
  T0.retain_grad();
  return ENV.Undefined();
}
// backward(t, gradient?, retainGraph?)
Napi::Value Backward(const Napi::CallbackInfo& info) {
  at::Tensor& t = T0;
  if (!t.requires_grad()) {
    throw Napi::Error::New(ENV, "backward(): this tensor does not require grad; no parameter it depends on has requiresGrad set (or it was computed under noGrad)");
  }
  c10::optional<at::Tensor> g;
  if (IsTensor(info[1])) g = Unwrap(info[1]);
  else if (t.numel() != 1) throw Napi::Error::New(ENV, "backward() on a non-scalar tensor needs a gradient tensor of the same shape");
  bool retain = info[2].IsUndefined() ? false : info[2].ToBoolean().Value();
  torch::autograd::backward({t}, g ? torch::autograd::variable_list{*g} : torch::autograd::variable_list{}, retain);
  return ENV.Undefined();
}
// autogradGrad(outputs[], inputs[], gradOutputs[]?, createGraph) -> grads (functional torch.autograd.grad)
Napi::Value AutogradGrad(const Napi::CallbackInfo& info) {
  auto outs = TensorList(info[0]);
  auto ins = TensorList(info[1]);
  torch::autograd::variable_list gouts;
  if (info[2].IsArray()) gouts = TensorList(info[2]);
  bool create = info[3].IsUndefined() ? false : info[3].ToBoolean().Value();
  auto gs = torch::autograd::grad(outs, ins, gouts, create, create, true);
  auto arr = Napi::Array::New(ENV, gs.size());
  for (size_t i = 0; i < gs.size(); i++) {
    arr.Set(static_cast<uint32_t>(i), gs[i].defined() ? Wrap(ENV, gs[i]) : ENV.Null());
  }
  return arr;
}
Napi::Value Grad(const Napi::CallbackInfo& info) {
  const at::Tensor& g = T0.grad();
  if (!g.defined()) return ENV.Null();
  return Wrap(ENV, g);
}
Napi::Value ZeroGrad(const Napi::CallbackInfo& info) {
  at::Tensor& t = T0;
  // Drop the gradient (set_to_none semantics): cheaper than zeroing and frees memory.
  if (t.grad().defined()) t.mutable_grad() = at::Tensor();
  return ENV.Undefined();
}
Napi::Value SetGrad(const Napi::CallbackInfo& info) {
  T0.mutable_grad() = IsTensor(info[1]) ? Unwrap(info[1]) : at::Tensor();
  return ENV.Undefined();
}
Napi::Value Detach(const Napi::CallbackInfo& info) { return Wrap(ENV, T0.detach()); }
Napi::Value SetGradEnabled(const Napi::CallbackInfo& info) {
  bool prev = at::GradMode::is_enabled();
  at::GradMode::set_enabled(info[0].ToBoolean().Value());
  return Napi::Boolean::New(ENV, prev);
}
Napi::Value IsGradEnabled(const Napi::CallbackInfo& info) { return Napi::Boolean::New(ENV, at::GradMode::is_enabled()); }

}  // namespace

void RegisterAutogradOps(Napi::Env env, Napi::Object exports) {
  Export(env, exports, "setRequiresGrad", SetRequiresGrad);
  Export(env, exports, "requiresGrad", RequiresGrad);
  Export(env, exports, "isLeaf", IsLeaf);
  Export(env, exports, "retainGrad", RetainGrad);
  Export(env, exports, "backward", Backward);
  Export(env, exports, "autogradGrad", AutogradGrad);
  Export(env, exports, "grad", Grad);
  Export(env, exports, "zeroGrad", ZeroGrad);
  Export(env, exports, "setGrad", SetGrad);
  Export(env, exports, "detach", Detach);
  Export(env, exports, "setGradEnabled", SetGradEnabled);
  Export(env, exports, "isGradEnabled", IsGradEnabled);
}

}  // namespace rl
