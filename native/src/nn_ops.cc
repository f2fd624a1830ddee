// Neural-network functionals. Composite ones (rms_norm, attention) are composed here from
// ATen ops so a model's forward costs one JS->C++ call per layer piece, not one per op.
#include "handle.h"
#include "small_attention.h"

namespace rl {
namespace {

#define ENV info.Env()
#define T0 Unwrap(info[0])
#define I64(i) info[i].As<Napi::Number>().Int64Value()
#define DBL(i) info[i].As<Napi::Number>().DoubleValue()

c10::optional<at::Tensor> OptTensor(const Napi::Value& v) {
  if (IsTensor(v)) return Unwrap(v);
  return c10::nullopt;
}

int64_t Reduction(const Napi::Value& v) {
  if (v.IsUndefined() || v.IsNull()) return at::Reduction::Mean;
  std::string r = v.As<Napi::String>().Utf8Value();
  if (r == "mean") return at::Reduction::Mean;
  if (r == "sum") return at::Reduction::Sum;
  if (r == "none") return at::Reduction::None;
  throw Napi::TypeError::New(v.Env(), "reduction must be 'mean', 'sum' or 'none', got '" + r + "'");
}

Napi::Value Softmax(const Napi::CallbackInfo& info) { return Wrap(ENV, at::softmax(T0, I64(1))); }
Napi::Value LogSoftmax(const Napi::CallbackInfo& info) { return Wrap(ENV, at::log_softmax(T0, I64(1))); }
// layerNorm(x, normalizedShape, weight?, bias?, eps)
Napi::Value LayerNorm(const Napi::CallbackInfo& info) {
  return Wrap(ENV, at::layer_norm(T0, IntList(info[1]), OptTensor(info[2]), OptTensor(info[3]), DBL(4)));
}
// rmsNorm(x, weight?, eps): weight * (x * rsqrt(mean(x^2, -1) + eps)), the normalisation in
// float32 for half inputs (as Llama's RMSNorm; CPU rsqrt has no Half kernel either).
Napi::Value RmsNorm(const Napi::CallbackInfo& info) {
  const at::Tensor& x = T0;
  double eps = DBL(2);
  bool low = x.scalar_type() == at::kHalf || x.scalar_type() == at::kBFloat16;
  at::Tensor xf = low ? x.to(at::kFloat) : x;
  at::Tensor y = xf * at::rsqrt(xf.pow(2).mean(-1, true) + eps);
  if (low) y = y.to(x.scalar_type());
  if (IsTensor(info[1])) y = y * Unwrap(info[1]);
  return Wrap(ENV, y);
}
Napi::Value Gelu(const Napi::CallbackInfo& info) {
  std::string approx = info[1].IsUndefined() ? "none" : info[1].As<Napi::String>().Utf8Value();
  if (approx != "none" && approx != "tanh") throw Napi::TypeError::New(ENV, "gelu approximate must be 'none' or 'tanh'");
  return Wrap(ENV, at::gelu(T0, approx));
}
Napi::Value Silu(const Napi::CallbackInfo& info) { return Wrap(ENV, at::silu(T0)); }
Napi::Value Relu(const Napi::CallbackInfo& info) { return Wrap(ENV, at::relu(T0)); }
Napi::Value Dropout(const Napi::CallbackInfo& info) {
  return Wrap(ENV, at::dropout(T0, DBL(1), info[2].ToBoolean().Value()));
}
// embedding(weight, ids, paddingIdx?)
Napi::Value Embedding(const Napi::CallbackInfo& info) {
  int64_t pad = info[2].IsUndefined() || info[2].IsNull() ? -1 : I64(2);
  return Wrap(ENV, at::embedding(T0, Unwrap(info[1]), pad));
}
// crossEntropy(logits[N,C], target[N], ignoreIndex, labelSmoothing, reduction)
Napi::Value CrossEntropy(const Napi::CallbackInfo& info) {
  int64_t ignore = info[2].IsUndefined() || info[2].IsNull() ? -100 : I64(2);
  double ls = info[3].IsUndefined() ? 0.0 : DBL(3);
  return Wrap(ENV, at::cross_entropy_loss(T0, Unwrap(info[1]), c10::nullopt, Reduction(info[4]), ignore, ls));
}
Napi::Value NllLoss(const Napi::CallbackInfo& info) {
  int64_t ignore = info[2].IsUndefined() || info[2].IsNull() ? -100 : I64(2);
  return Wrap(ENV, at::nll_loss(T0, Unwrap(info[1]), c10::nullopt, Reduction(info[3]), ignore));
}
Napi::Value MseLoss(const Napi::CallbackInfo& info) {
  return Wrap(ENV, at::mse_loss(T0, Unwrap(info[1]), Reduction(info[2])));
}
Napi::Value CosineSimilarity(const Napi::CallbackInfo& info) {
  int64_t dim = info[2].IsUndefined() ? 1 : I64(2);
  double eps = info[3].IsUndefined() ? 1e-8 : DBL(3);
  return Wrap(ENV, at::cosine_similarity(T0, Unwrap(info[1]), dim, eps));
}
Napi::Value BceWithLogits(const Napi::CallbackInfo& info) {
  return Wrap(ENV, at::binary_cross_entropy_with_logits(T0, Unwrap(info[1]), c10::nullopt, c10::nullopt, Reduction(info[2])));
}

// attention(q[B,H,Tq,D], k[B,H,Tk,D], v[B,H,Tk,D], mask?, causal, dropoutP, train)
// mask: bool [B,1|H,Tq|1,Tk] with true = may attend. Causal aligns the last query with the
// last key, so a KV cache (Tk > Tq) needs no extra mask.
Napi::Value Attention(const Napi::CallbackInfo& info) {
  at::Tensor q = T0;
  at::Tensor k = Unwrap(info[1]);
  at::Tensor v = Unwrap(info[2]);
  bool causal = info[4].ToBoolean().Value();
  double p = info[5].IsUndefined() ? 0.0 : DBL(5);
  bool train = info[6].IsUndefined() ? false : info[6].ToBoolean().Value();
  c10::optional<at::Tensor> mask = OptTensor(info[3]);
  if (!(p > 0 && train) && SmallAttentionApplies(q, k, v, mask)) return Wrap(ENV, SmallAttentionForward(q, k, v, mask, causal));
  double scale = 1.0 / std::sqrt(static_cast<double>(q.size(-1)));
  at::Tensor scores = at::matmul(q, k.transpose(-2, -1)) * scale;
  int64_t tq = q.size(-2), tk = k.size(-2);
  if (causal && tq > 1) {
    at::Tensor allow = at::ones({tq, tk}, at::TensorOptions().dtype(at::kBool).device(q.device())).tril(tk - tq);
    scores = scores.masked_fill(allow.logical_not(), -std::numeric_limits<float>::infinity());
  }
  if (mask) scores = scores.masked_fill(mask->logical_not(), -std::numeric_limits<float>::infinity());
  at::Tensor w = at::softmax(scores, -1);
  // Rows with nothing to attend to (fully padded queries) would be NaN; make them zero.
  if (mask) w = at::nan_to_num(w, 0.0);
  if (p > 0 && train) w = at::dropout(w, p, true);
  return Wrap(ENV, at::matmul(w, v));
}

// smallAttention(q, k, v, mask?, causal): the fused kernel itself (tests and benchmarks compare it
// with the composed path); throws where it does not apply.
Napi::Value SmallAttentionOp(const Napi::CallbackInfo& info) {
  c10::optional<at::Tensor> mask = OptTensor(info[3]);
  if (!SmallAttentionApplies(T0, Unwrap(info[1]), Unwrap(info[2]), mask)) {
    throw Napi::Error::New(ENV, "smallAttention takes float32 CPU q, k, v [B,H,T,D] with equal heads, T <= 256, D <= 128, and a 4-d bool mask");
  }
  return Wrap(ENV, SmallAttentionForward(T0, Unwrap(info[1]), Unwrap(info[2]), mask, info[4].ToBoolean().Value()));
}

}  // namespace

void RegisterNnOps(Napi::Env env, Napi::Object exports) {
  Export(env, exports, "softmax", Softmax);
  Export(env, exports, "logSoftmax", LogSoftmax);
  Export(env, exports, "layerNorm", LayerNorm);
  Export(env, exports, "rmsNorm", RmsNorm);
  Export(env, exports, "gelu", Gelu);
  Export(env, exports, "silu", Silu);
  Export(env, exports, "relu", Relu);
  Export(env, exports, "dropout", Dropout);
  Export(env, exports, "embedding", Embedding);
  Export(env, exports, "crossEntropy", CrossEntropy);
  Export(env, exports, "nllLoss", NllLoss);
  Export(env, exports, "mseLoss", MseLoss);
  Export(env, exports, "cosineSimilarity", CosineSimilarity);
  Export(env, exports, "bceWithLogits", BceWithLogits);
  Export(env, exports, "attention", Attention);
  Export(env, exports, "smallAttention", SmallAttentionOp);
}

}  // namespace rl
