#include "script_passes.hpp"

#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/ir/ir.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>
#include <torch/csrc/jit/passes/inliner.h>

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <limits>
#include <map>
#include <unordered_set>
#include <vector>

namespace mlpot::mace {

namespace {

using torch::jit::Block;
using torch::jit::Graph;
using torch::jit::Node;
using torch::jit::Value;

bool is_tensor(const Value* v) { return v->type()->cast<c10::TensorType>() != nullptr; }

std::optional<int64_t> const_int(const Value* v) {
  auto iv = torch::jit::toIValue(v);
  if (iv && iv->isInt()) return iv->toInt();
  return std::nullopt;
}

// aten::slice.Tensor(self, dim, start, end, step) with constant dim and step 1; start/end as
// given (None = open). Anything else (the list overload, a symbolic bound) is not ours to touch.
struct Slice {
  Node* node;
  int64_t dim, start, end;
};

std::optional<Slice> tensor_slice(Node* n) {
  if (n->kind() != c10::aten::slice || n->inputs().size() != 5 || !is_tensor(n->input(0))) return std::nullopt;
  auto dim = const_int(n->input(1));
  auto step = const_int(n->input(4));
  auto start = torch::jit::toIValue(n->input(2));
  auto end = torch::jit::toIValue(n->input(3));
  if (!dim || !step || *step != 1 || !start || !end) return std::nullopt;
  if (!(start->isNone() || start->isInt()) || !(end->isNone() || end->isInt())) return std::nullopt;
  return Slice{n, *dim, start->isNone() ? 0 : start->toInt(),
               end->isNone() ? std::numeric_limits<int64_t>::max() : end->toInt()};
}

// x[:] along any dimension is x itself (a view of all of it); autograd would still record a
// SliceBackward that zero-fills and copies the whole tensor.
int drop_identity_slices(Block* block) {
  int dropped = 0;
  for (auto it = block->nodes().begin(); it != block->nodes().end();) {
    Node* n = *it++;
    for (Block* sub : n->blocks()) dropped += drop_identity_slices(sub);
    auto s = tensor_slice(n);
    if (!s || s->start != 0 || s->end != std::numeric_limits<int64_t>::max()) continue;
    n->output()->replaceAllUsesWith(n->input(0));
    n->destroy();
    ++dropped;
  }
  return dropped;
}

// A constant int list, whether folded into one constant or built from constants.
std::optional<std::vector<int64_t>> const_int_list(const Value* v) {
  if (auto iv = torch::jit::toIValue(v); iv && iv->isIntList()) return iv->toIntVector();
  const Node* n = v->node();
  if (n->kind() != c10::prim::ListConstruct) return std::nullopt;
  std::vector<int64_t> out;
  for (const Value* item : n->inputs()) {
    auto k = const_int(item);
    if (!k) return std::nullopt;
    out.push_back(*k);
  }
  return out;
}

// The shape the graph fixes for `v` = reshape/view(x, shape) with a constant shape (-1 unknown).
std::optional<std::vector<int64_t>> fixed_shape(const Value* v) {
  const Node* n = v->node();
  if (n->kind() != c10::aten::reshape && n->kind() != c10::aten::view) return std::nullopt;
  return const_int_list(n->input(1));
}

// Blocks x[..., a_k:b_k] of one tensor, all in one block of the graph, non-overlapping and
// inside a width the graph fixes, become pieces of one split_with_sizes (gaps become pieces
// nobody uses). Same views forward; backward one concatenation instead of a zero-filled
// full-size tensor per block plus the additions that accumulate them.
struct SplitResult {
  int tensors = 0, slices = 0;
};

void split_tiled_slices(Graph& graph, Value* v, SplitResult& result) {
  auto shape = fixed_shape(v);
  if (!shape) return;
  const int64_t rank = int64_t(shape->size());
  std::map<int64_t, std::vector<Slice>> by_dim;  // keyed by the normalised dimension
  for (const torch::jit::Use& use : v->uses()) {
    auto s = tensor_slice(use.user);
    if (!s || use.offset != 0) continue;
    int64_t dim = s->dim < 0 ? s->dim + rank : s->dim;
    if (dim < 0 || dim >= rank || (*shape)[dim] < 0) continue;
    by_dim[dim].push_back(*s);
  }
  for (auto& [dim, slices] : by_dim) {
    const int64_t width = (*shape)[dim];
    if (slices.size() < 2) continue;
    Block* block = slices.front().node->owningBlock();
    bool usable = true;
    for (const Slice& s : slices) {
      usable = usable && s.node->owningBlock() == block && s.start >= 0 && s.start < s.end && s.end <= width;
    }
    if (!usable) continue;
    // One slice per range becomes a piece, the first in the graph; a second slice of the same
    // range stays a slice: sharing the piece would change the order in which autograd adds up
    // their gradients. Overlapping ranges are out.
    std::sort(slices.begin(), slices.end(), [](const Slice& a, const Slice& b) { return a.node->isBefore(b.node); });
    std::map<std::pair<int64_t, int64_t>, Node*> owner;  // range -> the slice it replaces
    for (const Slice& s : slices) owner.emplace(std::make_pair(s.start, s.end), s.node);
    if (owner.size() < 2) continue;
    std::vector<int64_t> sizes;
    std::vector<Node*> replaced;  // replaced[k]: the slice piece k stands for, or null for a gap
    int64_t cursor = 0;
    for (const auto& [range, node] : owner) {
      usable = usable && range.first >= cursor;
      if (range.first > cursor) {
        sizes.push_back(range.first - cursor);
        replaced.push_back(nullptr);
      }
      sizes.push_back(range.second - range.first);
      replaced.push_back(node);
      cursor = range.second;
    }
    if (!usable) continue;
    if (cursor < width) sizes.push_back(width - cursor);
    torch::jit::WithInsertPoint guard(slices.front().node);
    Value* list = graph.insert(c10::aten::split_with_sizes, {v, c10::IValue(sizes), c10::IValue(dim)});
    Node* unpack = graph.insertNode(graph.createListUnpack(list, sizes.size()));
    for (size_t k = 0; k < replaced.size(); ++k) {
      if (!replaced[k]) continue;
      replaced[k]->output()->replaceAllUsesWith(unpack->output(k));
      replaced[k]->destroy();
    }
    result.tensors += 1;
    result.slices += int(owner.size());
  }
}

// Reshapes and views of a constant shape: the tensors split_tiled_slices may cut.
void collect_fixed_shapes(Block* block, std::vector<Value*>& out) {
  for (Node* n : block->nodes()) {
    for (Block* sub : n->blocks()) collect_fixed_shapes(sub, out);
    if (n->outputs().size() == 1 && fixed_shape(n->output())) out.push_back(n->output());
  }
}

// The alias sets an annotation names, its own and its elements' (`Tensor(a)[]`).
void alias_sets(const c10::AliasInfo& info, std::unordered_set<c10::Symbol>& out) {
  out.insert(info.beforeSets().begin(), info.beforeSets().end());
  for (const c10::AliasInfo& inner : info.containedTypes()) alias_sets(inner, out);
}

// Whether anything may write to `v` in place, or to a view of it: follows the outputs that the
// operator schemas say alias an input (slices, reshapes, splits) and lists and tuples holding
// them; a use without a schema it does not know counts as a write. (TorchScript's AliasDb
// answers yes for every tensor here, because MACE's forward calls requires_grad_ on tensors
// from its input dict, which may alias anything.)
bool may_be_written(Value* v, std::unordered_set<Value*>& seen) {
  if (!seen.insert(v).second) return false;
  for (const torch::jit::Use& use : v->uses()) {
    Node* n = use.user;
    const c10::Symbol kind = n->kind();
    if (kind == c10::prim::ListConstruct || kind == c10::prim::TupleConstruct || kind == c10::prim::ListUnpack ||
        kind == c10::prim::TupleUnpack) {
      for (Value* out : n->outputs()) {
        if (may_be_written(out, seen)) return true;
      }
      continue;
    }
    if (kind == c10::prim::Return) {
      Node* owner = n->owningBlock()->owningNode();
      if (!owner) continue;  // returned from the graph: the caller's business
      if (owner->kind() != c10::prim::If || may_be_written(owner->output(use.offset), seen)) return true;
      continue;
    }
    const c10::FunctionSchema* schema = n->maybeSchema();
    if (!schema || use.offset >= schema->arguments().size()) return true;
    const c10::AliasInfo* info = schema->arguments()[use.offset].alias_info();
    if (!info) continue;  // neither written nor passed on as a view
    if (info->isWrite()) return true;
    std::unordered_set<c10::Symbol> sets;
    alias_sets(*info, sets);
    for (size_t k = 0; k < schema->returns().size() && k < n->outputs().size(); ++k) {
      const c10::AliasInfo* ret = schema->returns()[k].alias_info();
      if (!ret) continue;
      std::unordered_set<c10::Symbol> ret_sets;
      alias_sets(*ret, ret_sets);
      bool shared = false;
      for (const c10::Symbol& set : ret_sets) shared = shared || sets.count(set) > 0;
      if (shared && may_be_written(n->output(k), seen)) return true;
    }
  }
  return false;
}

SplitResult split_tiled_slices(const std::shared_ptr<Graph>& graph) {
  std::vector<Value*> tensors;
  collect_fixed_shapes(graph->block(), tensors);
  // A tensor written in place between its slices would see pieces taken earlier than the slices
  // were (and autograd refuses in-place writes to the base of a split's views): leave it alone.
  tensors.erase(std::remove_if(tensors.begin(), tensors.end(),
                               [](Value* v) {
                                 std::unordered_set<Value*> seen;
                                 return may_be_written(v, seen);
                               }),
                tensors.end());
  SplitResult result;
  for (Value* v : tensors) split_tiled_slices(*graph, v, result);
  return result;
}

// x[idx] with one index tensor is aten::index, whose backward on the CPU accumulates with a
// serial index_put_: 30 ms per step for the [E,3,3] cell gradient of 78 k edges, 20 ms for
// node_feats[sender] of the seed model. index_select gives the same rows and its backward
// (index_add_) is 4-9x faster. It only takes 1-D integer indices and no negative ones, so
// the rewrite keeps aten::index for anything else at run time, and wraps negative indices
// as indexing does (out-of-range ones still fail).
bool rewrite_index(Graph& graph, Node* n) {
  if (n->kind() != c10::aten::index || n->inputs().size() != 2 || !is_tensor(n->input(0))) return false;
  Node* list = n->input(1)->node();
  if (list->kind() != c10::prim::ListConstruct || list->inputs().size() != 1 || !is_tensor(list->input(0))) {
    return false;
  }
  Value* x = n->input(0);
  Value* idx = list->input(0);
  torch::jit::WithInsertPoint guard(n);
  Value* is_1d = graph.insert(c10::aten::eq, {graph.insert(c10::aten::dim, {idx}), c10::IValue(int64_t(1))});
  Value* is_long = graph.insert(c10::aten::eq, {graph.insert(c10::prim::dtype, {idx}),
                                                c10::IValue(int64_t(c10::ScalarType::Long))});
  Value* cond = graph.insert(c10::aten::__and__, {is_1d, is_long});
  Node* branch = graph.insertNode(graph.create(c10::prim::If, {cond}, 1));
  branch->output()->setType(n->output()->type());
  Block* fast = branch->addBlock();
  Block* general = branch->addBlock();
  {
    torch::jit::WithInsertPoint in_fast(fast);
    Value* rows = graph.insert(c10::aten::size, {x, c10::IValue(int64_t(0))});
    Value* negative = graph.insert(c10::aten::lt, {idx, c10::IValue(int64_t(0))});
    Value* wrapped = graph.insert(c10::aten::where,
                                  {negative, graph.insert(c10::aten::add, {idx, rows}), idx});
    fast->registerOutput(graph.insert(c10::aten::index_select, {x, c10::IValue(int64_t(0)), wrapped}));
  }
  Node* original = general->appendNode(graph.createClone(n, [](Value* v) { return v; }));
  general->registerOutput(original->output());
  n->output()->replaceAllUsesWith(branch->output());
  n->destroy();
  return true;
}

// The prim::If that rewrite_index leaves: index_select in the first block, the original
// aten::index alone in the second. A graph rewritten before (the model inside the LAMMPS
// wrapper, then the wrapper that inlines it) must not have that fallback rewritten again.
bool is_index_fallback(Node* n) {
  if (n->kind() != c10::prim::If || n->blocks().size() != 2) return false;
  Block* fast = n->blocks()[0];
  Block* general = n->blocks()[1];
  if (fast->outputs().size() != 1 || fast->outputs()[0]->node()->kind() != c10::aten::index_select) return false;
  auto nodes = general->nodes();
  return nodes.begin() != nodes.end() && std::next(nodes.begin()) == nodes.end() &&
         (*nodes.begin())->kind() == c10::aten::index;
}

int rewrite_indexing(Graph& graph, Block* block) {
  int rewritten = 0;
  for (auto it = block->nodes().begin(); it != block->nodes().end();) {
    Node* n = *it++;
    if (is_index_fallback(n)) continue;
    for (Block* sub : n->blocks()) rewritten += rewrite_indexing(graph, sub);
    if (rewrite_index(graph, n)) ++rewritten;
  }
  return rewritten;
}

}  // namespace

ScriptPassStats optimise_for_autograd(torch::jit::Module& module) {
  // One graph for the whole forward: the patterns sit in submodule methods and in free
  // functions (MACE's edge-vector and displacement helpers) alike. The graph executor would
  // inline these calls itself on the first run, so inlining first changes nothing else.
  std::shared_ptr<Graph> graph = module.get_method("forward").graph();
  torch::jit::Inline(*graph);
  ScriptPassStats stats;
  stats.identity_slices = drop_identity_slices(graph->block());
  SplitResult split = split_tiled_slices(graph);
  stats.split_tensors = split.tensors;
  stats.split_slices = split.slices;
  stats.index_selects = rewrite_indexing(*graph, graph->block());
  torch::jit::EliminateDeadCode(graph);
  return stats;
}

}  // namespace mlpot::mace
