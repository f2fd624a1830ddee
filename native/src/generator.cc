// Independent seeded random generators, so a component (e.g. a defense) can be deterministic
// under its own seed without resetting libtorch's global generator.
#include <ATen/CPUGeneratorImpl.h>

#include "handle.h"

namespace rl {
namespace {

const napi_type_tag kGenTag = {0x7265766572746c6dULL, 0x67656e6572617431ULL};

at::Generator& Gen(const Napi::Value& v) {
  bool ok = false;
  if (!v.IsExternal() || napi_check_object_type_tag(v.Env(), v, &kGenTag, &ok) != napi_ok || !ok) {
    throw Napi::TypeError::New(v.Env(), "expected a generator handle");
  }
  return *v.As<Napi::External<at::Generator>>().Data();
}

Napi::Value GeneratorNew(const Napi::CallbackInfo& info) {
  uint64_t seed = static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value());
  auto* g = new at::Generator(at::make_generator<at::CPUGeneratorImpl>(seed));
  auto ext = Napi::External<at::Generator>::New(info.Env(), g, [](Napi::BasicEnv, at::Generator* p) { delete p; });
  napi_type_tag_object(info.Env(), ext, &kGenTag);
  return ext;
}

Napi::Value GeneratorSeed(const Napi::CallbackInfo& info) {
  auto& g = Gen(info[0]);
  std::lock_guard<std::mutex> lock(g.mutex());
  g.set_current_seed(static_cast<uint64_t>(info[1].As<Napi::Number>().Int64Value()));
  return info.Env().Undefined();
}

// randnGen(shape, gen, dtype?) / randGen(shape, gen, dtype?): CPU only.
Napi::Value RandnGen(const Napi::CallbackInfo& info) {
  auto& g = Gen(info[1]);
  return Wrap(info.Env(), at::randn(IntList(info[0]), g, Options(info[2], info.Env().Undefined())));
}
Napi::Value RandGen(const Napi::CallbackInfo& info) {
  auto& g = Gen(info[1]);
  return Wrap(info.Env(), at::rand(IntList(info[0]), g, Options(info[2], info.Env().Undefined())));
}
Napi::Value RandpermGen(const Napi::CallbackInfo& info) {
  auto& g = Gen(info[1]);
  return Wrap(info.Env(), at::randperm(info[0].As<Napi::Number>().Int64Value(), g, at::TensorOptions().dtype(at::kLong)));
}

}  // namespace

void RegisterGenerator(Napi::Env env, Napi::Object exports) {
  Export(env, exports, "generatorNew", GeneratorNew);
  Export(env, exports, "generatorSeed", GeneratorSeed);
  Export(env, exports, "randnGen", RandnGen);
  Export(env, exports, "randGen", RandGen);
  Export(env, exports, "randpermGen", RandpermGen);
}

}  // namespace rl
