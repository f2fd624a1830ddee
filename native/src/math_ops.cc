// Elementwise math, comparisons, reductions and linear algebra.
#include "handle.h"

namespace rl {
namespace {

#define ENV info.Env()
#define T0 Unwrap(info[0])
#define I64(i) info[i].As<Napi::Number>().Int64Value()
#define BOOL(i) (info[i].IsUndefined() ? false : info[i].ToBoolean().Value())

// Binary ops accept (tensor, tensor) or (tensor, number).
#define BINARY(Name, expr_tt, expr_ts)                              \
  Napi::Value Name(const Napi::CallbackInfo& info) {                \
    at::Tensor& a = T0;                                             \
    if (IsTensor(info[1])) {                                        \
      at::Tensor& b = Unwrap(info[1]);                              \
      return Wrap(ENV, expr_tt);                                    \
    }                                                               \
    at::Scalar b = ToScalar(info[1]);                               \
    return Wrap(ENV, expr_ts);                                      \
  }

BINARY(Add, at::add(a, b), at::add(a, b))
BINARY(Sub, at::sub(a, b), at::sub(a, b))
BINARY(Mul, at::mul(a, b), at::mul(a, b))
BINARY(Div, at::div(a, b), at::div(a, b))
BINARY(Pow, at::pow(a, b), at::pow(a, b))
BINARY(Remainder, at::remainder(a, b), at::remainder(a, b))
BINARY(Maximum, at::maximum(a, b), at::clamp_min(a, b))
BINARY(Minimum, at::minimum(a, b), at::clamp_max(a, b))
BINARY(Eq, at::eq(a, b), at::eq(a, b))
BINARY(Ne, at::ne(a, b), at::ne(a, b))
BINARY(Lt, at::lt(a, b), at::lt(a, b))
BINARY(Le, at::le(a, b), at::le(a, b))
BINARY(Gt, at::gt(a, b), at::gt(a, b))
BINARY(Ge, at::ge(a, b), at::ge(a, b))

Napi::Value Rsub(const Napi::CallbackInfo& info) { return Wrap(ENV, at::rsub(T0, ToScalar(info[1]))); }
Napi::Value LogicalAnd(const Napi::CallbackInfo& info) { return Wrap(ENV, at::logical_and(T0, Unwrap(info[1]))); }
Napi::Value LogicalOr(const Napi::CallbackInfo& info) { return Wrap(ENV, at::logical_or(T0, Unwrap(info[1]))); }
Napi::Value LogicalNot(const Napi::CallbackInfo& info) { return Wrap(ENV, at::logical_not(T0)); }

#define UNARY(Name, fn) \
  Napi::Value Name(const Napi::CallbackInfo& info) { return Wrap(ENV, at::fn(T0)); }
UNARY(Neg, neg)
UNARY(Exp, exp)
UNARY(Expm1, expm1)
UNARY(Log, log)
UNARY(Log1p, log1p)
UNARY(Sqrt, sqrt)
UNARY(Rsqrt, rsqrt)
UNARY(Abs, abs)
UNARY(Tanh, tanh)
UNARY(Sigmoid, sigmoid)
UNARY(Sin, sin)
UNARY(Cos, cos)
UNARY(Sign, sign)
UNARY(Round, round)
UNARY(Floor, floor)
UNARY(Ceil, ceil)
UNARY(Reciprocal, reciprocal)
UNARY(Square, square)
UNARY(Erf, erf)
UNARY(Isnan, isnan)
UNARY(Isfinite, isfinite)
UNARY(Lgamma, lgamma)
UNARY(Digamma, digamma)

Napi::Value Clamp(const Napi::CallbackInfo& info) {
  c10::optional<at::Scalar> lo, hi;
  if (!info[1].IsUndefined() && !info[1].IsNull()) lo = ToScalar(info[1]);
  if (!info[2].IsUndefined() && !info[2].IsNull()) hi = ToScalar(info[2]);
  return Wrap(ENV, at::clamp(T0, lo, hi));
}

// Reductions: dims may be undefined/null for "all dimensions".
at::OptionalIntArrayRef Dims(const Napi::Value& v, std::vector<int64_t>& storage) {
  if (v.IsUndefined() || v.IsNull()) return c10::nullopt;
  storage = IntList(v);
  return at::IntArrayRef(storage);
}

Napi::Value Sum(const Napi::CallbackInfo& info) {
  std::vector<int64_t> d;
  auto dims = Dims(info[1], d);
  if (!dims) return Wrap(ENV, T0.sum());
  return Wrap(ENV, T0.sum(*dims, BOOL(2)));
}
Napi::Value Mean(const Napi::CallbackInfo& info) {
  std::vector<int64_t> d;
  auto dims = Dims(info[1], d);
  if (!dims) return Wrap(ENV, T0.mean());
  return Wrap(ENV, T0.mean(*dims, BOOL(2)));
}
Napi::Value Prod(const Napi::CallbackInfo& info) {
  if (info[1].IsUndefined() || info[1].IsNull()) return Wrap(ENV, T0.prod());
  return Wrap(ENV, T0.prod(I64(1), BOOL(2)));
}
Napi::Value Var(const Napi::CallbackInfo& info) {
  std::vector<int64_t> d;
  auto dims = Dims(info[1], d);
  int64_t correction = info[2].IsUndefined() ? 1 : I64(2);
  return Wrap(ENV, at::var(T0, dims, correction, BOOL(3)));
}
Napi::Value Amax(const Napi::CallbackInfo& info) { return Wrap(ENV, at::amax(T0, IntList(info[1]), BOOL(2))); }
Napi::Value Amin(const Napi::CallbackInfo& info) { return Wrap(ENV, at::amin(T0, IntList(info[1]), BOOL(2))); }
// max(t) -> scalar tensor; max(t, dim, keepdim) -> [values, indices]
Napi::Value Max(const Napi::CallbackInfo& info) {
  if (info[1].IsUndefined() || info[1].IsNull()) return Wrap(ENV, T0.max());
  auto r = T0.max(I64(1), BOOL(2));
  return WrapList(ENV, {std::get<0>(r), std::get<1>(r)});
}
Napi::Value Min(const Napi::CallbackInfo& info) {
  if (info[1].IsUndefined() || info[1].IsNull()) return Wrap(ENV, T0.min());
  auto r = T0.min(I64(1), BOOL(2));
  return WrapList(ENV, {std::get<0>(r), std::get<1>(r)});
}
Napi::Value Argmax(const Napi::CallbackInfo& info) { return Wrap(ENV, T0.argmax(OptInt(info[1]), BOOL(2))); }
Napi::Value Argmin(const Napi::CallbackInfo& info) { return Wrap(ENV, T0.argmin(OptInt(info[1]), BOOL(2))); }
// topk(t, k, dim, largest, sorted) -> [values, indices]
Napi::Value Topk(const Napi::CallbackInfo& info) {
  bool largest = info[3].IsUndefined() ? true : info[3].ToBoolean().Value();
  bool sorted = info[4].IsUndefined() ? true : info[4].ToBoolean().Value();
  auto r = T0.topk(I64(1), info[2].IsUndefined() ? -1 : I64(2), largest, sorted);
  return WrapList(ENV, {std::get<0>(r), std::get<1>(r)});
}
Napi::Value Sort(const Napi::CallbackInfo& info) {
  auto r = T0.sort(info[1].IsUndefined() ? -1 : I64(1), BOOL(2));
  return WrapList(ENV, {std::get<0>(r), std::get<1>(r)});
}
Napi::Value Logsumexp(const Napi::CallbackInfo& info) { return Wrap(ENV, at::logsumexp(T0, IntList(info[1]), BOOL(2))); }
// norm(t, p, dims?, keepdim)
Napi::Value Norm(const Napi::CallbackInfo& info) {
  at::Scalar p = info[1].IsUndefined() ? at::Scalar(2.0) : ToScalar(info[1]);
  if (info[2].IsUndefined() || info[2].IsNull()) return Wrap(ENV, at::norm(T0, p));
  return Wrap(ENV, at::norm(T0, p, IntList(info[2]), BOOL(3)));
}
Napi::Value Cumsum(const Napi::CallbackInfo& info) { return Wrap(ENV, T0.cumsum(I64(1))); }
Napi::Value Any(const Napi::CallbackInfo& info) { return Wrap(ENV, T0.any()); }
Napi::Value All(const Napi::CallbackInfo& info) { return Wrap(ENV, T0.all()); }
Napi::Value AllClose(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(ENV, at::allclose(T0, Unwrap(info[1]), info[2].As<Napi::Number>().DoubleValue(),
                                              info[3].As<Napi::Number>().DoubleValue()));
}

Napi::Value Matmul(const Napi::CallbackInfo& info) { return Wrap(ENV, at::matmul(T0, Unwrap(info[1]))); }
Napi::Value Bmm(const Napi::CallbackInfo& info) { return Wrap(ENV, at::bmm(T0, Unwrap(info[1]))); }
Napi::Value Mm(const Napi::CallbackInfo& info) { return Wrap(ENV, at::mm(T0, Unwrap(info[1]))); }
Napi::Value Outer(const Napi::CallbackInfo& info) { return Wrap(ENV, at::outer(T0, Unwrap(info[1]))); }
// linear(x, w[out,in], b?)
Napi::Value Linear(const Napi::CallbackInfo& info) {
  c10::optional<at::Tensor> b;
  if (IsTensor(info[2])) b = Unwrap(info[2]);
  return Wrap(ENV, at::linear(T0, Unwrap(info[1]), b));
}
Napi::Value Cdist(const Napi::CallbackInfo& info) {
  double p = info[2].IsUndefined() ? 2.0 : info[2].As<Napi::Number>().DoubleValue();
  return Wrap(ENV, at::cdist(T0, Unwrap(info[1]), p));
}
Napi::Value Einsum(const Napi::CallbackInfo& info) {
  return Wrap(ENV, at::einsum(info[0].As<Napi::String>().Utf8Value(), TensorList(info[1])));
}
// svd(t) -> [U, S, Vh] (reduced)
Napi::Value Svd(const Napi::CallbackInfo& info) {
  auto r = at::linalg_svd(T0, false);
  return WrapList(ENV, {std::get<0>(r), std::get<1>(r), std::get<2>(r)});
}
// eigh(t) -> [eigenvalues ascending, eigenvectors]
Napi::Value Eigh(const Napi::CallbackInfo& info) {
  auto r = at::linalg_eigh(T0);
  return WrapList(ENV, {std::get<0>(r), std::get<1>(r)});
}
Napi::Value Slogdet(const Napi::CallbackInfo& info) {
  auto r = at::linalg_slogdet(T0);
  return WrapList(ENV, {std::get<0>(r), std::get<1>(r)});
}

}  // namespace

void RegisterMathOps(Napi::Env env, Napi::Object exports) {
#define EXP(n, f) Export(env, exports, n, f)
  EXP("add", Add); EXP("sub", Sub); EXP("mul", Mul); EXP("div", Div); EXP("pow", Pow); EXP("rsub", Rsub);
  EXP("remainder", Remainder); EXP("maximum", Maximum); EXP("minimum", Minimum);
  EXP("eq", Eq); EXP("ne", Ne); EXP("lt", Lt); EXP("le", Le); EXP("gt", Gt); EXP("ge", Ge);
  EXP("logicalAnd", LogicalAnd); EXP("logicalOr", LogicalOr); EXP("logicalNot", LogicalNot);
  EXP("neg", Neg); EXP("exp", Exp); EXP("expm1", Expm1); EXP("log", Log); EXP("log1p", Log1p);
  EXP("sqrt", Sqrt); EXP("rsqrt", Rsqrt); EXP("abs", Abs); EXP("tanh", Tanh); EXP("sigmoid", Sigmoid);
  EXP("sin", Sin); EXP("cos", Cos); EXP("sign", Sign); EXP("round", Round); EXP("floor", Floor);
  EXP("ceil", Ceil); EXP("reciprocal", Reciprocal); EXP("square", Square); EXP("erf", Erf);
  EXP("isnan", Isnan); EXP("isfinite", Isfinite); EXP("lgamma", Lgamma); EXP("digamma", Digamma);
  EXP("clamp", Clamp);
  EXP("sum", Sum); EXP("mean", Mean); EXP("prod", Prod); EXP("var", Var); EXP("amax", Amax); EXP("amin", Amin);
  EXP("max", Max); EXP("min", Min); EXP("argmax", Argmax); EXP("argmin", Argmin); EXP("topk", Topk);
  EXP("sort", Sort); EXP("logsumexp", Logsumexp); EXP("norm", Norm); EXP("cumsum", Cumsum);
  EXP("any", Any); EXP("all", All); EXP("allclose", AllClose);
  EXP("matmul", Matmul); EXP("bmm", Bmm); EXP("mm", Mm); EXP("outer", Outer); EXP("linear", Linear);
  EXP("cdist", Cdist); EXP("einsum", Einsum); EXP("svd", Svd); EXP("eigh", Eigh); EXP("slogdet", Slogdet);
#undef EXP
}

}  // namespace rl
