// Creation, host<->tensor copies and metadata.
#include <cstring>

#include "handle.h"

namespace rl {
namespace {

std::pair<const uint8_t*, size_t> ViewBytes(const Napi::Value& v) {
  if (v.IsTypedArray()) {
    auto ta = v.As<Napi::TypedArray>();
    auto buf = ta.ArrayBuffer();
    return {static_cast<const uint8_t*>(buf.Data()) + ta.ByteOffset(), ta.ByteLength()};
  }
  if (v.IsDataView()) {
    auto dv = v.As<Napi::DataView>();
    return {static_cast<const uint8_t*>(dv.ArrayBuffer().Data()) + dv.ByteOffset(), dv.ByteLength()};
  }
  if (v.IsArrayBuffer()) {
    auto ab = v.As<Napi::ArrayBuffer>();
    return {static_cast<const uint8_t*>(ab.Data()), ab.ByteLength()};
  }
  throw Napi::TypeError::New(v.Env(), "expected a TypedArray, Buffer, DataView or ArrayBuffer");
}

// fromBytes(view, dtype, shape, device): one copy, host bytes -> new tensor.
Napi::Value FromBytes(const Napi::CallbackInfo& info) {
  RL_ARG_COUNT(3);
  auto [ptr, len] = ViewBytes(info[0]);
  auto dtype = DType(info[1]);
  auto shape = IntList(info[2]);
  auto device = Device(info[3]);
  // Overflow-checked: a hostile shape (e.g. from a file header) must not wrap around to a
  // byte count that happens to match the data.
  uint64_t need64 = c10::elementSize(dtype);
  bool overflow = false;
  for (auto d : shape) {
    if (d < 0) throw Napi::RangeError::New(info.Env(), "negative dimension in shape");
    overflow = overflow || __builtin_mul_overflow(need64, static_cast<uint64_t>(d), &need64);
  }
  if (overflow) {
    for (auto d : shape) if (d == 0) { overflow = false; need64 = 0; }
  }
  if (overflow || need64 > static_cast<uint64_t>(SIZE_MAX)) {
    throw Napi::RangeError::New(info.Env(), "shape " + c10::str(c10::IntArrayRef(shape)) + " is too large");
  }
  size_t need = static_cast<size_t>(need64);
  if (need != len) {
    throw Napi::RangeError::New(info.Env(), "data has " + std::to_string(len) + " bytes but shape " +
                                                c10::str(c10::IntArrayRef(shape)) + " of " +
                                                std::string(c10::toString(dtype)) + " needs " + std::to_string(need));
  }
  at::Tensor t = at::empty(shape, at::TensorOptions().dtype(dtype));
  if (need) std::memcpy(t.data_ptr(), ptr, need);
  if (!device.is_cpu()) t = t.to(device);
  return Wrap(info.Env(), t);
}

// toBytes(t): one copy, tensor -> new ArrayBuffer.
Napi::Value ToBytes(const Napi::CallbackInfo& info) {
  at::Tensor t = Unwrap(info[0]).detach();
  if (!t.device().is_cpu()) t = t.to(at::kCPU);
  t = t.contiguous();
  size_t n = t.numel() * t.element_size();
  auto ab = Napi::ArrayBuffer::New(info.Env(), n);
  if (n) std::memcpy(ab.Data(), t.data_ptr(), n);
  return ab;
}

// dataView(t): a Buffer aliasing the memory of a contiguous CPU tensor (no copy).
// Used to read files straight into tensor storage. The Buffer keeps the storage alive.
Napi::Value DataView(const Napi::CallbackInfo& info) {
  at::Tensor& t = Unwrap(info[0]);
  if (!t.device().is_cpu() || !t.is_contiguous()) {
    throw Napi::Error::New(info.Env(), "dataView needs a contiguous CPU tensor");
  }
  size_t n = t.numel() * t.element_size();
  auto* keep = new at::Tensor(t);
  if (n == 0) {
    delete keep;
    return Napi::Buffer<uint8_t>::New(info.Env(), 0);
  }
  return Napi::Buffer<uint8_t>::New(info.Env(), static_cast<uint8_t*>(t.data_ptr()), n,
                                    [](Napi::BasicEnv, uint8_t*, at::Tensor* k) { delete k; }, keep);
}

Napi::Value Empty(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), at::empty(IntList(info[0]), Options(info[1], info[2])));
}
Napi::Value Zeros(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), at::zeros(IntList(info[0]), Options(info[1], info[2])));
}
Napi::Value Ones(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), at::ones(IntList(info[0]), Options(info[1], info[2])));
}
Napi::Value Full(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), at::full(IntList(info[0]), ToScalar(info[1]), Options(info[2], info[3])));
}
Napi::Value Arange(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), at::arange(ToScalar(info[0]), ToScalar(info[1]), ToScalar(info[2]), Options(info[3], info[4])));
}
Napi::Value Randn(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), at::randn(IntList(info[0]), Options(info[1], info[2])));
}
Napi::Value Rand(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), at::rand(IntList(info[0]), Options(info[1], info[2])));
}
Napi::Value Randint(const Napi::CallbackInfo& info) {
  auto low = info[0].As<Napi::Number>().Int64Value();
  auto high = info[1].As<Napi::Number>().Int64Value();
  auto opts = info[3].IsUndefined() ? at::TensorOptions().dtype(at::kLong).device(Device(info[4]))
                                    : Options(info[3], info[4]);
  return Wrap(info.Env(), at::randint(low, high, IntList(info[2]), opts));
}
Napi::Value Multinomial(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), at::multinomial(Unwrap(info[0]), info[1].As<Napi::Number>().Int64Value(),
                                          info[2].ToBoolean().Value()));
}
Napi::Value Randperm(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), at::randperm(info[0].As<Napi::Number>().Int64Value(),
                                       at::TensorOptions().dtype(at::kLong).device(Device(info[1]))));
}
Napi::Value ZerosLike(const Napi::CallbackInfo& info) { return Wrap(info.Env(), at::zeros_like(Unwrap(info[0]))); }
Napi::Value OnesLike(const Napi::CallbackInfo& info) { return Wrap(info.Env(), at::ones_like(Unwrap(info[0]))); }
Napi::Value RandnLike(const Napi::CallbackInfo& info) { return Wrap(info.Env(), at::randn_like(Unwrap(info[0]))); }
Napi::Value RandLike(const Napi::CallbackInfo& info) { return Wrap(info.Env(), at::rand_like(Unwrap(info[0]))); }

Napi::Value ManualSeed(const Napi::CallbackInfo& info) {
  uint64_t seed = static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value());
  at::manual_seed(seed);
  return info.Env().Undefined();
}

// meta(t) -> [shape, dtypeCode, device, requiresGrad]
Napi::Value Meta(const Napi::CallbackInfo& info) {
  at::Tensor& t = Unwrap(info[0]);
  auto env = info.Env();
  auto arr = Napi::Array::New(env, 4);
  auto sizes = t.sizes();
  auto shape = Napi::Array::New(env, sizes.size());
  for (size_t i = 0; i < sizes.size(); i++) shape.Set(static_cast<uint32_t>(i), Napi::Number::New(env, static_cast<double>(sizes[i])));
  arr.Set(0u, shape);
  arr.Set(1u, Napi::Number::New(env, DTypeCode(t.scalar_type())));
  arr.Set(2u, Napi::String::New(env, t.device().str()));
  arr.Set(3u, Napi::Boolean::New(env, t.requires_grad()));
  return arr;
}

Napi::Value Shape(const Napi::CallbackInfo& info) {
  at::Tensor& t = Unwrap(info[0]);
  auto env = info.Env();
  auto sizes = t.sizes();
  auto shape = Napi::Array::New(env, sizes.size());
  for (size_t i = 0; i < sizes.size(); i++) shape.Set(static_cast<uint32_t>(i), Napi::Number::New(env, static_cast<double>(sizes[i])));
  return shape;
}

Napi::Value Item(const Napi::CallbackInfo& info) {
  at::Tensor& t = Unwrap(info[0]);
  if (t.numel() != 1) {
    throw Napi::Error::New(info.Env(), "item() needs a tensor with exactly one element, got shape " + c10::str(t.sizes()));
  }
  auto s = t.item();
  if (s.isBoolean()) return Napi::Boolean::New(info.Env(), s.toBool());
  return Napi::Number::New(info.Env(), s.toDouble());
}

Napi::Value To(const Napi::CallbackInfo& info) {
  at::Tensor& t = Unwrap(info[0]);
  auto opts = t.options();
  if (!info[1].IsUndefined() && !info[1].IsNull()) opts = opts.dtype(DType(info[1]));
  if (!info[2].IsUndefined() && !info[2].IsNull()) opts = opts.device(Device(info[2]));
  return Wrap(info.Env(), t.to(opts));
}

Napi::Value Clone(const Napi::CallbackInfo& info) { return Wrap(info.Env(), Unwrap(info[0]).clone()); }
Napi::Value Contiguous(const Napi::CallbackInfo& info) { return Wrap(info.Env(), Unwrap(info[0]).contiguous()); }
Napi::Value IsContiguous(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), Unwrap(info[0]).is_contiguous()); }

// copy_(dst, src): in place, no autograd tracking (used for loading weights).
Napi::Value CopyInto(const Napi::CallbackInfo& info) {
  at::NoGradGuard g;
  Unwrap(info[0]).copy_(Unwrap(info[1]));
  return info.Env().Undefined();
}
Napi::Value FillInto(const Napi::CallbackInfo& info) {
  at::NoGradGuard g;
  Unwrap(info[0]).fill_(ToScalar(info[1]));
  return info.Env().Undefined();
}
Napi::Value NormalInto(const Napi::CallbackInfo& info) {
  at::NoGradGuard g;
  Unwrap(info[0]).normal_(info[1].As<Napi::Number>().DoubleValue(), info[2].As<Napi::Number>().DoubleValue());
  return info.Env().Undefined();
}
Napi::Value UniformInto(const Napi::CallbackInfo& info) {
  at::NoGradGuard g;
  Unwrap(info[0]).uniform_(info[1].As<Napi::Number>().DoubleValue(), info[2].As<Napi::Number>().DoubleValue());
  return info.Env().Undefined();
}

}  // namespace

void RegisterCreation(Napi::Env env, Napi::Object exports) {
  Export(env, exports, "fromBytes", FromBytes);
  Export(env, exports, "toBytes", ToBytes);
  Export(env, exports, "dataView", DataView);
  Export(env, exports, "empty", Empty);
  Export(env, exports, "zeros", Zeros);
  Export(env, exports, "ones", Ones);
  Export(env, exports, "full", Full);
  Export(env, exports, "arange", Arange);
  Export(env, exports, "randn", Randn);
  Export(env, exports, "rand", Rand);
  Export(env, exports, "randint", Randint);
  Export(env, exports, "randperm", Randperm);
  Export(env, exports, "multinomial", Multinomial);
  Export(env, exports, "zerosLike", ZerosLike);
  Export(env, exports, "onesLike", OnesLike);
  Export(env, exports, "randnLike", RandnLike);
  Export(env, exports, "randLike", RandLike);
  Export(env, exports, "manualSeed", ManualSeed);
  Export(env, exports, "meta", Meta);
  Export(env, exports, "shape", Shape);
  Export(env, exports, "item", Item);
  Export(env, exports, "to", To);
  Export(env, exports, "clone", Clone);
  Export(env, exports, "contiguous", Contiguous);
  Export(env, exports, "isContiguous", IsContiguous);
  Export(env, exports, "copyInto", CopyInto);
  Export(env, exports, "fillInto", FillInto);
  Export(env, exports, "normalInto", NormalInto);
  Export(env, exports, "uniformInto", UniformInto);
}

}  // namespace rl
