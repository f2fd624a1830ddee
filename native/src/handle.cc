#include "handle.h"

#include <atomic>
#include <cmath>

namespace rl {
namespace {

std::atomic<int64_t> g_live{0};
// Arbitrary fixed 128-bit tag identifying revertlm tensor handles.
const napi_type_tag kTensorTag = {0x7265766572746c6dULL, 0x74656e736f723031ULL};

struct Holder {
  at::Tensor t;
  bool live = true;
};

// A basic finalizer (no JS calls): with NAPI_EXPERIMENTAL (binding.gyp) Node runs it inside GC.
// Finalizers of other kinds are queued for the event loop's next turn, and a long synchronous
// stretch (a repair pass creates millions of short-lived handles) grew that queue, and the
// process, by hundreds of MB per inversion.
void Finalize(Napi::BasicEnv, Holder* h) {
  if (h->live) g_live--;
  delete h;
}

Holder* GetHolder(const Napi::Value& v) {
  if (!v.IsExternal()) return nullptr;
  napi_env env = v.Env();
  bool ok = false;
  if (napi_check_object_type_tag(env, v, &kTensorTag, &ok) != napi_ok || !ok) return nullptr;
  return v.As<Napi::External<Holder>>().Data();
}

}  // namespace

Napi::Value Wrap(Napi::Env env, at::Tensor t) {
  auto* h = new Holder{std::move(t), true};
  g_live++;
  auto ext = Napi::External<Holder>::New(env, h, Finalize);
  napi_type_tag_object(env, ext, &kTensorTag);
  return ext;
}

bool IsTensor(const Napi::Value& v) { return GetHolder(v) != nullptr; }

at::Tensor& Unwrap(const Napi::Value& v) {
  Holder* h = GetHolder(v);
  if (!h) throw Napi::TypeError::New(v.Env(), "expected a tensor handle");
  if (!h->live) throw Napi::Error::New(v.Env(), "tensor was already disposed; keep it out of dispose()/tidy() if you still need it");
  return h->t;
}

int64_t LiveHandles() { return g_live.load(); }

static Napi::Value Dispose(const Napi::CallbackInfo& info) {
  Holder* h = GetHolder(info[0]);
  if (!h) throw Napi::TypeError::New(info.Env(), "dispose: expected a tensor handle");
  if (h->live) {
    h->t = at::Tensor();
    h->live = false;
    g_live--;
  }
  return info.Env().Undefined();
}

static Napi::Value LiveCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(LiveHandles()));
}

// N-API turns NaN/Infinity into 0 and truncates fractions, which would silently build a
// wrong shape ([Infinity] -> [0]); reject anything that is not an exact safe integer.
static int64_t ExactInt(const Napi::Value& e, const Napi::Value& whole) {
  if (!e.IsNumber()) throw Napi::TypeError::New(whole.Env(), "expected an array of integers");
  double d = e.As<Napi::Number>().DoubleValue();
  if (!(std::fabs(d) <= 9007199254740991.0) || d != std::trunc(d)) {
    throw Napi::TypeError::New(whole.Env(), "expected an array of integers, got " + std::to_string(d));
  }
  return static_cast<int64_t>(d);
}

std::vector<int64_t> IntList(const Napi::Value& v) {
  std::vector<int64_t> out;
  if (v.IsNumber()) {
    out.push_back(ExactInt(v, v));
    return out;
  }
  if (!v.IsArray()) throw Napi::TypeError::New(v.Env(), "expected an array of integers");
  auto arr = v.As<Napi::Array>();
  out.reserve(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); i++) out.push_back(ExactInt(arr.Get(i), v));
  return out;
}

// Codes shared with src/torch/dtype.ts.
at::ScalarType DType(const Napi::Value& v) {
  switch (v.As<Napi::Number>().Int32Value()) {
    case 0: return at::kFloat;
    case 1: return at::kHalf;
    case 2: return at::kBFloat16;
    case 3: return at::kLong;
    case 4: return at::kInt;
    case 5: return at::kBool;
    case 6: return at::kDouble;
    case 7: return at::kByte;
    case 8: return at::kChar;
    default: throw Napi::TypeError::New(v.Env(), "unknown dtype code");
  }
}

int DTypeCode(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return 0;
    case at::kHalf: return 1;
    case at::kBFloat16: return 2;
    case at::kLong: return 3;
    case at::kInt: return 4;
    case at::kBool: return 5;
    case at::kDouble: return 6;
    case at::kByte: return 7;
    case at::kChar: return 8;
    default: return -1;
  }
}

at::Device Device(const Napi::Value& v) {
  if (v.IsUndefined() || v.IsNull()) return at::Device(at::kCPU);
  std::string s = v.As<Napi::String>().Utf8Value();
  at::Device d(s);
  if (d.is_cuda() && !at::hasCUDA()) {
    throw Napi::Error::New(v.Env(),
        "device '" + s + "' requested, but the linked libtorch was built without CUDA (or no GPU is visible). "
        "Use device 'cpu', or rebuild revertlm with LIBTORCH pointing at a CUDA-enabled libtorch (e.g. a pip torch install).");
  }
  return d;
}

at::TensorOptions Options(const Napi::Value& dtype, const Napi::Value& device) {
  auto o = at::TensorOptions().device(Device(device));
  if (!dtype.IsUndefined() && !dtype.IsNull()) o = o.dtype(DType(dtype));
  else o = o.dtype(at::kFloat);
  return o;
}

at::Scalar ToScalar(const Napi::Value& v) {
  if (v.IsBoolean()) return at::Scalar(v.As<Napi::Boolean>().Value());
  if (!v.IsNumber()) throw Napi::TypeError::New(v.Env(), "expected a number");
  return at::Scalar(v.As<Napi::Number>().DoubleValue());
}

c10::optional<int64_t> OptInt(const Napi::Value& v) {
  if (v.IsUndefined() || v.IsNull()) return c10::nullopt;
  return v.As<Napi::Number>().Int64Value();
}

std::vector<at::Tensor> TensorList(const Napi::Value& v) {
  if (!v.IsArray()) throw Napi::TypeError::New(v.Env(), "expected an array of tensors");
  auto arr = v.As<Napi::Array>();
  std::vector<at::Tensor> out;
  out.reserve(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); i++) out.push_back(Unwrap(arr.Get(i)));
  return out;
}

Napi::Array WrapList(Napi::Env env, const std::vector<at::Tensor>& ts) {
  auto arr = Napi::Array::New(env, ts.size());
  for (size_t i = 0; i < ts.size(); i++) arr.Set(static_cast<uint32_t>(i), Wrap(env, ts[i]));
  return arr;
}

static Napi::Value Trampoline(const Napi::CallbackInfo& info) {
  auto fn = reinterpret_cast<Napi::Value (*)(const Napi::CallbackInfo&)>(info.Data());
  try {
    return fn(info);
  } catch (const Napi::Error&) {
    throw;
  } catch (const c10::Error& e) {
    // what_without_backtrace keeps the message readable: libtorch's own words, no C++ frames.
    throw Napi::Error::New(info.Env(), e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), e.what());
  } catch (...) {
    throw Napi::Error::New(info.Env(), "unknown native error");
  }
}

void Export(Napi::Env env, Napi::Object exports, const char* name, Napi::Value (*fn)(const Napi::CallbackInfo&)) {
  exports.Set(name, Napi::Function::New(env, Trampoline, name, reinterpret_cast<void*>(fn)));
}

void RegisterHandle(Napi::Env env, Napi::Object exports) {
  Export(env, exports, "dispose", Dispose);
  Export(env, exports, "liveCount", LiveCount);
}

}  // namespace rl
