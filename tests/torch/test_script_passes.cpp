// The TorchScript rewrites of src/torch/script_passes.cpp on small scripted modules: each
// rewritten module must give the same values and the same gradients as the same source left
// alone (bit for bit: the rewrites only change which views and backward kernels are used), keep
// failing where the original fails, and leave alone what it cannot prove equivalent.
#include <gtest/gtest.h>

#include <iomanip>
#include <torch/csrc/jit/api/function_impl.h>
#include <torch/script.h>
#include <torch/torch.h>

#include "script_passes.hpp"

namespace {

using mlpot::mace::optimise_for_autograd;
using mlpot::mace::ScriptPassStats;

torch::jit::Module scripted(const std::string& source) {
  torch::jit::Module m("m");
  m.define(source);
  return m;
}

// A module whose forward (`outer_source`) calls a submodule `inner` defined by `inner_source`.
torch::jit::Module nested(const char* inner_source, const char* outer_source) {
  torch::jit::Module inner("inner");
  inner.define(inner_source);
  torch::jit::Module m("outer");
  m.register_module("inner", inner);
  m.define(outer_source);
  return m;
}

struct Result {
  torch::Tensor value, grad;
};

// forward(x, idx) -> scalar, and its gradient with respect to x.
Result run(torch::jit::Module& m, const torch::Tensor& x0, const torch::Tensor& idx) {
  torch::Tensor x = x0.clone().requires_grad_(true);
  torch::Tensor y = m.forward({x, idx}).toTensor();
  y.backward();
  return {y.detach(), x.grad()};
}

void expect_same(const Result& a, const Result& b) {
  EXPECT_TRUE(torch::equal(a.value, b.value)) << std::setprecision(17) << a.value.item<double>() << " vs "
                                               << b.value.item<double>();
  EXPECT_TRUE(torch::equal(a.grad, b.grad)) << std::setprecision(17) << (a.grad - b.grad);
}

// e3nn's traced tensor products: a weight tensor reshaped to a fixed width, cut into blocks
// along dim 1 (with a full slice along dim 0 first, as the trace records `w[:, a:b]`).
const char* kBlocks = R"(
def forward(self, x: Tensor, idx: Tensor) -> Tensor:
    w = torch.reshape(x, [-1, 12])
    a = torch.slice(torch.slice(w, 0, 0, 9223372036854775807), 1, 0, 4)
    b = torch.slice(torch.slice(w, 0, 0, 9223372036854775807), 1, 4, 6)
    c = torch.slice(torch.slice(w, 0, 0, 9223372036854775807), 1, 8, 12)
    b2 = torch.slice(w, 1, 4, 6)
    return (a * 2.0).sum() + (b * b).sum() + (c * 3.0).sum() + (b2 * 5.0).sum()
)";

TEST(ScriptPasses, BlocksOfAFixedWidthBecomeOneSplit) {
  torch::jit::Module plain = scripted(kBlocks), fast = scripted(kBlocks);
  ScriptPassStats s = optimise_for_autograd(fast);
  EXPECT_EQ(s.identity_slices, 3);
  EXPECT_EQ(s.split_tensors, 1);
  EXPECT_EQ(s.split_slices, 3);  // [0:4], [4:6] (its second slice stays) and [8:12]; [6:8] a gap
  torch::Tensor x = torch::randn({5, 12}, torch::kFloat64);
  expect_same(run(fast, x, torch::Tensor()), run(plain, x, torch::Tensor()));
  const std::string ir = fast.get_method("forward").graph()->toString();
  EXPECT_NE(ir.find("aten::split_with_sizes"), std::string::npos);
  EXPECT_EQ(ir.find("aten::slice"), ir.rfind("aten::slice")) << "one slice left: " << ir;
}

TEST(ScriptPasses, OverlapsAndUnknownWidthsAreLeftAlone) {
  const char* source = R"(
def forward(self, x: Tensor, idx: Tensor) -> Tensor:
    w = torch.reshape(x, [-1, 12])
    a = torch.slice(w, 1, 0, 6)
    b = torch.slice(w, 1, 4, 8)
    v = torch.reshape(x, [5, -1])
    c = torch.slice(v, 1, 0, 3)
    d = torch.slice(v, 1, 3, 6)
    return (a * 2.0).sum() + (b * b).sum() + (c * d).sum()
)";
  torch::jit::Module plain = scripted(source), fast = scripted(source);
  ScriptPassStats s = optimise_for_autograd(fast);
  EXPECT_EQ(s.split_tensors, 0);
  EXPECT_EQ(s.split_slices, 0);
  torch::Tensor x = torch::randn({5, 12}, torch::kFloat64);
  expect_same(run(fast, x, torch::Tensor()), run(plain, x, torch::Tensor()));
}

TEST(ScriptPasses, TensorsWrittenInPlaceAreNotSplit) {
  const char* source = R"(
def forward(self, x: Tensor, idx: Tensor) -> Tensor:
    w = torch.reshape(x * 1.0, [-1, 12])
    a = torch.slice(w, 1, 0, 4)
    b = torch.slice(w, 1, 4, 12)
    v = torch.slice(torch.reshape(w, [-1]), 0, 0, 60)
    v.mul_(2.0)
    return (b * 3.0).sum() + (a * 5.0).sum()
)";
  torch::jit::Module plain = scripted(source), fast = scripted(source);
  ScriptPassStats s = optimise_for_autograd(fast);
  EXPECT_EQ(s.split_tensors, 0);
  torch::Tensor x = torch::randn({5, 12}, torch::kFloat64);
  expect_same(run(fast, x, torch::Tensor()), run(plain, x, torch::Tensor()));
}

const char* kIndex = R"(
def forward(self, x: Tensor, idx: Tensor) -> Tensor:
    r = x[idx]
    return (r * r * torch.arange(r.numel(), dtype=r.dtype).reshape(r.shape)).sum()
)";

TEST(ScriptPasses, IndexingTakesIndexSelectAndKeepsItsMeaning) {
  torch::jit::Module plain = scripted(kIndex), fast = scripted(kIndex);
  ScriptPassStats s = optimise_for_autograd(fast);
  EXPECT_EQ(s.index_selects, 1);
  torch::Tensor x = torch::randn({6, 3, 3}, torch::kFloat64);
  // Repeated indices (the backward accumulates), negative ones (wrapped as indexing does),
  // int32, a bool mask and a 2-D index (both left to aten::index).
  std::vector<torch::Tensor> indices = {
      torch::tensor({0, 0, 5, 2, 0, 5}, torch::kLong),
      torch::tensor({-1, 0, -6, 3}, torch::kLong),
      torch::tensor({1, 4, 4}, torch::kInt),
      torch::tensor({true, false, true, true, false, false}),
      torch::tensor({{0, 1}, {5, 5}}, torch::kLong),
  };
  for (const torch::Tensor& idx : indices) {
    SCOPED_TRACE(c10::str(idx));
    expect_same(run(fast, x, idx), run(plain, x, idx));
  }
  const std::string ir = fast.get_method("forward").graph()->toString();
  EXPECT_NE(ir.find("aten::index_select"), std::string::npos) << ir;
}

TEST(ScriptPasses, OutOfRangeIndicesStillFail) {
  torch::jit::Module plain = scripted(kIndex), fast = scripted(kIndex);
  optimise_for_autograd(fast);
  torch::Tensor x = torch::randn({6, 3}, torch::kFloat64);
  for (int64_t bad : {6, -7}) {
    torch::Tensor idx = torch::tensor({int64_t(0), bad}, torch::kLong);
    EXPECT_THROW(run(plain, x, idx), std::exception);
    EXPECT_THROW(run(fast, x, idx), std::exception);
  }
}

TEST(ScriptPasses, FunctionsCalledFromForwardAreRewrittenToo) {
  // MACE's edge vectors and displacement live in free functions, the tensor products in
  // submodules: forward is inlined first.
  const char* inner = R"(
def forward(self, x: Tensor, idx: Tensor) -> Tensor:
    return x[idx]
)";
  const char* outer = R"(
def forward(self, x: Tensor, idx: Tensor) -> Tensor:
    r = self.inner.forward(x, idx)
    return (r * r).sum()
)";
  torch::jit::Module plain = nested(inner, outer), fast = nested(inner, outer);
  EXPECT_EQ(optimise_for_autograd(fast).index_selects, 1);
  torch::Tensor x = torch::randn({4, 2}, torch::kFloat32);
  torch::Tensor idx = torch::tensor({3, 3, 0, 1, 3}, torch::kLong);
  expect_same(run(fast, x, idx), run(plain, x, idx));
}

TEST(ScriptPasses, ASubmoduleRewrittenBeforeItsCallerRunsRewrittenAndIsNotRewrittenTwice) {
  // MacePotential rewrites the model inside the LAMMPS wrapper (called directly for per-atom
  // virials), then the wrapper. Inlining a caller caches its callee's optimised graph, which is
  // what the callee then runs: the callee must be rewritten first, and the caller's pass must
  // leave the already rewritten indexing (and its aten::index fallback) alone.
  const char* inner = R"(
def forward(self, x: Tensor, idx: Tensor) -> Tensor:
    r = x[idx]
    return (r * r).sum()
)";
  const char* outer = R"(
def forward(self, x: Tensor, idx: Tensor) -> Tensor:
    return self.inner.forward(x, idx) * 2.0
)";
  torch::jit::Module plain = nested(inner, outer), fast = nested(inner, outer);
  torch::jit::Module fast_inner = fast.attr("inner").toModule();
  EXPECT_EQ(optimise_for_autograd(fast_inner).index_selects, 1);
  EXPECT_EQ(optimise_for_autograd(fast).index_selects, 0);
  const std::string ir = fast.get_method("forward").graph()->toString();
  size_t n_index = 0;
  for (size_t at = ir.find("aten::index("); at != std::string::npos; at = ir.find("aten::index(", at + 1)) ++n_index;
  EXPECT_EQ(n_index, 1u) << ir;  // the one fallback, not a fallback nested in a fallback
  auto& fn = torch::jit::toGraphFunction(fast_inner.get_method("forward").function());
  const std::string run_ir = fn.optimized_graph()->toString();
  EXPECT_NE(run_ir.find("aten::index_select"), std::string::npos) << run_ir;
  torch::Tensor x = torch::randn({4, 2}, torch::kFloat64);
  torch::Tensor idx = torch::tensor({3, 3, 0, 1, 3}, torch::kLong);
  expect_same(run(fast, x, idx), run(plain, x, idx));
  torch::jit::Module plain_inner = plain.attr("inner").toModule();
  expect_same(run(fast_inner, x, idx), run(plain_inner, x, idx));
}

}  // namespace
