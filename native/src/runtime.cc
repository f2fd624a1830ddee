// Runtime facts and knobs: threads, BLAS identity, CUDA, version.
#include <dlfcn.h>
#include <malloc.h>

#include <cstdlib>
#include <cstring>

#include <fstream>
#include <string>

#include <ATen/Parallel.h>
#include <ATen/Version.h>
#include <torch/version.h>

#include "handle.h"

namespace rl {
namespace {

#define ENV info.Env()

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  at::set_num_threads(static_cast<int>(info[0].As<Napi::Number>().Int32Value()));
  return ENV.Undefined();
}
Napi::Value GetNumThreads(const Napi::CallbackInfo& info) { return Napi::Number::New(ENV, at::get_num_threads()); }

// OpenBLAS exports openblas_set_num_threads; other BLAS builds do not, so look it up at run time.
Napi::Value SetBlasThreads(const Napi::CallbackInfo& info) {
  using SetFn = void (*)(int);
  auto fn = reinterpret_cast<SetFn>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  if (fn) fn(info[0].As<Napi::Number>().Int32Value());
  return Napi::Boolean::New(ENV, fn != nullptr);
}
Napi::Value GetBlasThreads(const Napi::CallbackInfo& info) {
  using GetFn = int (*)();
  auto fn = reinterpret_cast<GetFn>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  return fn ? Napi::Number::New(ENV, fn()) : ENV.Null();
}

// Paths of the shared libraries mapped into this process whose names match BLAS/torch:
// the only reliable way to tell which BLAS the dynamic linker actually picked.
Napi::Value LoadedLibraries(const Napi::CallbackInfo& info) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  std::vector<std::string> seen;
  while (std::getline(maps, line)) {
    auto pos = line.find('/');
    if (pos == std::string::npos) continue;
    std::string path = line.substr(pos);
    if (path.find("blas") == std::string::npos && path.find("torch") == std::string::npos &&
        path.find("libc10") == std::string::npos && path.find("mkl") == std::string::npos &&
        path.find("lapack") == std::string::npos && path.find("gomp") == std::string::npos) continue;
    bool dup = false;
    for (auto& s : seen) dup = dup || s == path;
    if (!dup) seen.push_back(path);
  }
  auto arr = Napi::Array::New(ENV, seen.size());
  for (size_t i = 0; i < seen.size(); i++) arr.Set(static_cast<uint32_t>(i), seen[i]);
  return arr;
}

Napi::Value OpenblasConfig(const Napi::CallbackInfo& info) {
  using CfgFn = char* (*)();
  auto fn = reinterpret_cast<CfgFn>(dlsym(RTLD_DEFAULT, "openblas_get_config"));
  return fn ? Napi::String::New(ENV, fn()) : ENV.Null();
}

Napi::Value Version(const Napi::CallbackInfo& info) {
  return Napi::String::New(ENV, std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
                                    std::to_string(TORCH_VERSION_PATCH));
}
Napi::Value Config(const Napi::CallbackInfo& info) { return Napi::String::New(ENV, at::show_config()); }
Napi::Value ParallelInfo(const Napi::CallbackInfo& info) { return Napi::String::New(ENV, at::get_parallel_info()); }
Napi::Value CudaAvailable(const Napi::CallbackInfo& info) { return Napi::Boolean::New(ENV, at::hasCUDA()); }

bool g_mallocTuned = false;
Napi::Value MallocTuned(const Napi::CallbackInfo& info) { return Napi::Boolean::New(ENV, g_mallocTuned); }

// glibc returns blocks over its mmap threshold (and the heap top past the trim threshold) to the
// kernel on free, so every training step re-faults its activations page by page: measured ~30k
// faults and a third of the step in the kernel. Keeping freed memory in the process removes that;
// RSS then stays at the peak working set. Skipped when the user tunes malloc (GLIBC_TUNABLES) or
// sets REVERTLM_MALLOC=default.
void TuneMalloc() {
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  const char* mode = std::getenv("REVERTLM_MALLOC");
  if ((tunables && std::strstr(tunables, "malloc")) || (mode && std::string(mode) == "default")) return;
#ifdef __GLIBC__
  g_mallocTuned = mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024) == 1 && mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024) == 1;
#endif
}

// The process's malloc heap: bytes in use by live allocations and bytes held free for reuse (with
// the tuning above, freed memory stays in the process; this tells a leak from retained memory).
Napi::Value HeapStats(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(ENV);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  struct mallinfo2 m = mallinfo2();
  o.Set("inUse", Napi::Number::New(ENV, static_cast<double>(m.uordblks + m.hblkhd)));
  o.Set("free", Napi::Number::New(ENV, static_cast<double>(m.fordblks)));
  o.Set("mmapped", Napi::Number::New(ENV, static_cast<double>(m.hblkhd)));
#endif
  return o;
}

// Returns the heap's free memory to the kernel (after a phase whose peak will not recur soon).
Napi::Value ReleaseFreeMemory(const Napi::CallbackInfo& info) {
#ifdef __GLIBC__
  return Napi::Boolean::New(ENV, malloc_trim(0) == 1);
#else
  return Napi::Boolean::New(ENV, false);
#endif
}

}  // namespace

void RegisterRuntime(Napi::Env env, Napi::Object exports) {
  TuneMalloc();
  Export(env, exports, "mallocTuned", MallocTuned);
  Export(env, exports, "heapStats", HeapStats);
  Export(env, exports, "releaseFreeMemory", ReleaseFreeMemory);
  Export(env, exports, "setNumThreads", SetNumThreads);
  Export(env, exports, "getNumThreads", GetNumThreads);
  Export(env, exports, "setBlasThreads", SetBlasThreads);
  Export(env, exports, "getBlasThreads", GetBlasThreads);
  Export(env, exports, "loadedLibraries", LoadedLibraries);
  Export(env, exports, "openblasConfig", OpenblasConfig);
  Export(env, exports, "version", Version);
  Export(env, exports, "config", Config);
  Export(env, exports, "parallelInfo", ParallelInfo);
  Export(env, exports, "cudaAvailable", CudaAvailable);
}

}  // namespace rl
