#include "handle.h"

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  rl::RegisterHandle(env, exports);
  rl::RegisterCreation(env, exports);
  rl::RegisterShapeOps(env, exports);
  rl::RegisterMathOps(env, exports);
  rl::RegisterNnOps(env, exports);
  rl::RegisterAutogradOps(env, exports);
  rl::RegisterOptimOps(env, exports);
  rl::RegisterRuntime(env, exports);
  rl::RegisterGenerator(env, exports);
  return exports;
}

NODE_API_MODULE(revertlm_torch, Init)
