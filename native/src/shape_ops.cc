// Views and shape operations.
#include "handle.h"

namespace rl {
namespace {

#define ENV info.Env()
#define T0 Unwrap(info[0])
#define I64(i) info[i].As<Napi::Number>().Int64Value()

Napi::Value Reshape(const Napi::CallbackInfo& info) { return Wrap(ENV, T0.reshape(IntList(info[1]))); }
Napi::Value View(const Napi::CallbackInfo& info) { return Wrap(ENV, T0.view(IntList(info[1]))); }
Napi::Value Permute(const Napi::CallbackInfo& info) { return Wrap(ENV, T0.permute(IntList(info[1]))); }
Napi::Value Transpose(const Napi::CallbackInfo& info) { return Wrap(ENV, T0.transpose(I64(1), I64(2))); }
Napi::Value Narrow(const Napi::CallbackInfo& info) { return Wrap(ENV, T0.narrow(I64(1), I64(2), I64(3))); }
// slice(t, dim, start, end, step); end may be null for "to the end".
Napi::Value Slice(const Napi::CallbackInfo& info) {
  c10::optional<int64_t> start = OptInt(info[2]);
  c10::optional<int64_t> end = OptInt(info[3]);
  int64_t step = info[4].IsUndefined() ? 1 : I64(4);
  return Wrap(ENV, T0.slice(I64(1), start, end, step));
}
Napi::Value Select(const Napi::CallbackInfo& info) { return Wrap(ENV, T0.select(I64(1), I64(2))); }
Napi::Value Cat(const Napi::CallbackInfo& info) { return Wrap(ENV, at::cat(TensorList(info[0]), I64(1))); }
Napi::Value Stack(const Napi::CallbackInfo& info) { return Wrap(ENV, at::stack(TensorList(info[0]), I64(1))); }
Napi::Value Expand(const Napi::CallbackInfo& info) { return Wrap(ENV, T0.expand(IntList(info[1]))); }
Napi::Value Repeat(const Napi::CallbackInfo& info) { return Wrap(ENV, T0.repeat(IntList(info[1]))); }
Napi::Value Squeeze(const Napi::CallbackInfo& info) {
  if (info[1].IsUndefined() || info[1].IsNull()) return Wrap(ENV, T0.squeeze());
  return Wrap(ENV, T0.squeeze(I64(1)));
}
Napi::Value Unsqueeze(const Napi::CallbackInfo& info) { return Wrap(ENV, T0.unsqueeze(I64(1))); }
Napi::Value Flatten(const Napi::CallbackInfo& info) { return Wrap(ENV, T0.flatten(I64(1), I64(2))); }
Napi::Value IndexSelect(const Napi::CallbackInfo& info) { return Wrap(ENV, T0.index_select(I64(1), Unwrap(info[2]))); }
Napi::Value Gather(const Napi::CallbackInfo& info) { return Wrap(ENV, T0.gather(I64(1), Unwrap(info[2]))); }
Napi::Value Scatter(const Napi::CallbackInfo& info) {
  if (IsTensor(info[3])) return Wrap(ENV, T0.scatter(I64(1), Unwrap(info[2]), Unwrap(info[3])));
  return Wrap(ENV, T0.scatter(I64(1), Unwrap(info[2]), ToScalar(info[3])));
}
Napi::Value ScatterAdd(const Napi::CallbackInfo& info) { return Wrap(ENV, T0.scatter_add(I64(1), Unwrap(info[2]), Unwrap(info[3]))); }
Napi::Value IndexAdd(const Napi::CallbackInfo& info) { return Wrap(ENV, T0.index_add(I64(1), Unwrap(info[2]), Unwrap(info[3]))); }
Napi::Value MaskedFill(const Napi::CallbackInfo& info) {
  if (IsTensor(info[2])) return Wrap(ENV, T0.masked_fill(Unwrap(info[1]), Unwrap(info[2])));
  return Wrap(ENV, T0.masked_fill(Unwrap(info[1]), ToScalar(info[2])));
}
Napi::Value MaskedSelect(const Napi::CallbackInfo& info) { return Wrap(ENV, T0.masked_select(Unwrap(info[1]))); }
Napi::Value Triu(const Napi::CallbackInfo& info) { return Wrap(ENV, T0.triu(info[1].IsUndefined() ? 0 : I64(1))); }
Napi::Value Tril(const Napi::CallbackInfo& info) { return Wrap(ENV, T0.tril(info[1].IsUndefined() ? 0 : I64(1))); }
// where(cond, a, b): a and b may each be a tensor or a number.
Napi::Value Where(const Napi::CallbackInfo& info) {
  at::Tensor& c = T0;
  bool ta = IsTensor(info[1]), tb = IsTensor(info[2]);
  if (ta && tb) return Wrap(ENV, at::where(c, Unwrap(info[1]), Unwrap(info[2])));
  if (ta) return Wrap(ENV, at::where(c, Unwrap(info[1]), ToScalar(info[2])));
  if (tb) return Wrap(ENV, at::where(c, ToScalar(info[1]), Unwrap(info[2])));
  return Wrap(ENV, at::where(c, ToScalar(info[1]), ToScalar(info[2])));
}
Napi::Value Split(const Napi::CallbackInfo& info) {
  return WrapList(ENV, T0.split_with_sizes(IntList(info[1]), I64(2)));
}
Napi::Value Chunk(const Napi::CallbackInfo& info) { return WrapList(ENV, T0.chunk(I64(1), I64(2))); }
Napi::Value Flip(const Napi::CallbackInfo& info) { return Wrap(ENV, T0.flip(IntList(info[1]))); }
Napi::Value Roll(const Napi::CallbackInfo& info) { return Wrap(ENV, T0.roll(IntList(info[1]), IntList(info[2]))); }
Napi::Value Pad(const Napi::CallbackInfo& info) {
  return Wrap(ENV, at::constant_pad_nd(T0, IntList(info[1]), info[2].IsUndefined() ? at::Scalar(0) : ToScalar(info[2])));
}
Napi::Value Nonzero(const Napi::CallbackInfo& info) { return Wrap(ENV, T0.nonzero()); }

}  // namespace

void RegisterShapeOps(Napi::Env env, Napi::Object exports) {
  Export(env, exports, "reshape", Reshape);
  Export(env, exports, "view", View);
  Export(env, exports, "permute", Permute);
  Export(env, exports, "transpose", Transpose);
  Export(env, exports, "narrow", Narrow);
  Export(env, exports, "slice", Slice);
  Export(env, exports, "select", Select);
  Export(env, exports, "cat", Cat);
  Export(env, exports, "stack", Stack);
  Export(env, exports, "expand", Expand);
  Export(env, exports, "repeat", Repeat);
  Export(env, exports, "squeeze", Squeeze);
  Export(env, exports, "unsqueeze", Unsqueeze);
  Export(env, exports, "flatten", Flatten);
  Export(env, exports, "indexSelect", IndexSelect);
  Export(env, exports, "gather", Gather);
  Export(env, exports, "scatter", Scatter);
  Export(env, exports, "scatterAdd", ScatterAdd);
  Export(env, exports, "indexAdd", IndexAdd);
  Export(env, exports, "maskedFill", MaskedFill);
  Export(env, exports, "maskedSelect", MaskedSelect);
  Export(env, exports, "triu", Triu);
  Export(env, exports, "tril", Tril);
  Export(env, exports, "where", Where);
  Export(env, exports, "split", Split);
  Export(env, exports, "chunk", Chunk);
  Export(env, exports, "flip", Flip);
  Export(env, exports, "roll", Roll);
  Export(env, exports, "pad", Pad);
  Export(env, exports, "nonzero", Nonzero);
}

}  // namespace rl
