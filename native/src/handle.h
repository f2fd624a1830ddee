// Tensor handles: a JS External owning a heap at::Tensor, type-tagged so a foreign
// object passed where a tensor is expected throws instead of crashing.
#pragma once
#include <ATen/ATen.h>
#include <napi.h>
#include <functional>
#include <string>
#include <vector>

namespace rl {

Napi::Value Wrap(Napi::Env env, at::Tensor t);
at::Tensor& Unwrap(const Napi::Value& v);
bool IsTensor(const Napi::Value& v);
int64_t LiveHandles();

std::vector<int64_t> IntList(const Napi::Value& v);
at::ScalarType DType(const Napi::Value& v);
int DTypeCode(at::ScalarType t);
at::Device Device(const Napi::Value& v);
at::TensorOptions Options(const Napi::Value& dtype, const Napi::Value& device);
at::Scalar ToScalar(const Napi::Value& v);
c10::optional<int64_t> OptInt(const Napi::Value& v);
std::vector<at::Tensor> TensorList(const Napi::Value& v);
Napi::Array WrapList(Napi::Env env, const std::vector<at::Tensor>& ts);

using Fn = std::function<Napi::Value(const Napi::CallbackInfo&)>;
// Registers fn under name, translating every C++/libtorch exception into a JS Error
// carrying the original message, so no libtorch error can abort the process.
void Export(Napi::Env env, Napi::Object exports, const char* name, Napi::Value (*fn)(const Napi::CallbackInfo&));

void RegisterHandle(Napi::Env env, Napi::Object exports);
void RegisterCreation(Napi::Env env, Napi::Object exports);
void RegisterShapeOps(Napi::Env env, Napi::Object exports);
void RegisterMathOps(Napi::Env env, Napi::Object exports);
void RegisterNnOps(Napi::Env env, Napi::Object exports);
void RegisterAutogradOps(Napi::Env env, Napi::Object exports);
void RegisterOptimOps(Napi::Env env, Napi::Object exports);
void RegisterRuntime(Napi::Env env, Napi::Object exports);
void RegisterGenerator(Napi::Env env, Napi::Object exports);

}  // namespace rl

#define RL_ARG_COUNT(n)                                                                 \
  if (info.Length() < (n)) {                                                             \
    throw Napi::TypeError::New(info.Env(), std::string(__func__) + ": expected " #n " arguments"); \
  }
