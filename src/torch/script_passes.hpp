#pragma once
// Graph rewrites applied to a MACE TorchScript model when it is loaded. They change which views
// and backward kernels autograd uses, never what is summed: float64 results stay bit for bit
// the same (tested on the exported models); float32 ones differ only at round-off, as they do
// from one call to the next anyway (threaded float32 kernels).
//
// Why: the exported model's backward pass wastes most of its memory traffic.
//  - e3nn's compiled tensor products, traced into TorchScript, take each path's weights and each
//    irrep's block as `x[:, a:b]`, recorded as two aten::slice nodes (a full slice along dim 0,
//    then the block). Autograd turns every slice into a SliceBackward that zero-fills and copies
//    a tensor the size of its input, so the seed model's [edges, 1280] radial weights cost 20
//    zero-fills, 10 copies and 10 additions of ~50 MB per step on the way back (eager mace-torch
//    indexes once and pays half). Full slices are dropped; blocks that tile a tensor of known
//    width become one split_with_sizes, whose backward is a single concatenation.
//  - x[idx] (node_feats[sender], cell[batch[sender]], positions[receiver]) is aten::index,
//    whose backward accumulates with a serial index_put_ on the CPU; index_select gives the same
//    rows with a 4-9x faster backward (index_add_). Taken only for 1-D int64 indices, checked at
//    run time; anything else keeps aten::index.
// Measured (perf/bench_mace.py, 2 threads): seed float32 192 atoms 987 -> 768 ms per step.
#include <torch/script.h>

namespace mlpot::mace {

struct ScriptPassStats {
  int identity_slices = 0;    // aten::slice(x, d, 0, INT64_MAX, 1) replaced by x
  int split_tensors = 0;      // tensors whose blocks became one split_with_sizes
  int split_slices = 0;       // aten::slice nodes those splits replaced
  int index_selects = 0;      // x[idx] given an index_select path for 1-D int64 indices
  ScriptPassStats& operator+=(const ScriptPassStats& o) {
    identity_slices += o.identity_slices;
    split_tensors += o.split_tensors;
    split_slices += o.split_slices;
    index_selects += o.index_selects;
    return *this;
  }
};

// Inlines `module`'s forward (calls to submodules and functions) and rewrites it in place;
// call before the first forward.
ScriptPassStats optimise_for_autograd(torch::jit::Module& module);

}  // namespace mlpot::mace
