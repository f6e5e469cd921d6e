#include "kernels/nn/onednn_inference_conv.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <optional>
#include <unordered_map>

#include "core/threadpool.h"
#include "kernels/nn/onednn_util.h"

namespace runnel {

using dnnl::memory;
using Tag = memory::format_tag;
using Dt = memory::data_type;

struct OneDnnInferenceConv::Primitive {
  uint64_t id;  // unique in the process: names this primitive's memory objects per thread
  memory::desc src, dst, bias, user_weights;
  dnnl::convolution_forward::primitive_desc pd;
  std::optional<dnnl::convolution_forward> conv;
};

namespace {

// A thread's memory objects for one primitive, pointed at each call's buffers: making them
// anew each call costs a large part of a small layer's time at batch 1.
struct CallArgs {
  const float* weights_data = nullptr;
  memory src, weights, dst, bias, scratchpad;
  std::unordered_map<int, memory> map;  // the same objects, as execute() takes them
};

}  // namespace

struct OneDnnInferenceConv::Weights {
  const float* filter;  // what they were made from
  memory::desc desc;
  std::vector<float> data;
};

OneDnnInferenceConv::OneDnnInferenceConv() = default;
OneDnnInferenceConv::~OneDnnInferenceConv() = default;

OneDnnInferenceConv::Primitive* OneDnnInferenceConv::For(const ConvGeometry& g, const Key& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = primitives_[key];
  if (slot) return slot->conv ? slot.get() : nullptr;
  const auto [batch, in_h, in_w, in_c, out_c, groups, bias, activation, pad_top, pad_bottom] = key;
  static std::atomic<uint64_t> next_id{0};
  auto p = std::make_unique<Primitive>();
  p->id = next_id++;
  p->src = memory::desc({batch, in_c, in_h, in_w}, Dt::f32, Tag::nhwc);
  p->dst = memory::desc({batch, out_c, g.out_h, g.out_w}, Dt::f32, Tag::nhwc);
  p->bias = memory::desc({out_c}, Dt::f32, Tag::x);
  memory::dims weight_dims = {out_c, in_c, g.window_h, g.window_w};
  Tag user_tag = Tag::hwio;
  if (groups > 1) {
    weight_dims = {groups, out_c / groups, in_c / groups, g.window_h, g.window_w};
    user_tag = Tag::hwigo;
  }
  p->user_weights = memory::desc(weight_dims, Dt::f32, user_tag);
  dnnl::post_ops post_ops;
  if (activation == Activation::kRelu) {
    post_ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
  } else if (activation == Activation::kRelu6) {
    post_ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_clip, 0.0f, 6.0f);
  }
  dnnl::primitive_attr attr;
  attr.set_post_ops(post_ops);
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  const memory::desc any_weights(weight_dims, Dt::f32, Tag::any);
  const memory::dims strides = {g.stride_h, g.stride_w};
  const memory::dims dilations = {g.dilation_h - 1, g.dilation_w - 1};
  const memory::dims pad_l = {pad_top, g.pad_left}, pad_r = {pad_bottom, g.pad_right};
  const auto kind = dnnl::prop_kind::forward_inference;
  const auto direct = dnnl::algorithm::convolution_direct;
  const auto desc =
      bias ? dnnl::convolution_forward::desc(kind, direct, p->src, any_weights, p->bias, p->dst,
                                             strides, dilations, pad_l, pad_r)
           : dnnl::convolution_forward::desc(kind, direct, p->src, any_weights, p->dst, strides,
                                             dilations, pad_l, pad_r);
  p->pd = dnnl::convolution_forward::primitive_desc(desc, attr, OneDnnEngine());
  // oneDNN's reference code is far slower than im2col + GEMM; leave those shapes to it.
  if (std::strncmp(p->pd.impl_info_str(), "ref", 3) != 0) p->conv.emplace(p->pd);
  slot = std::move(p);
  return slot->conv ? slot.get() : nullptr;
}

const float* OneDnnInferenceConv::WeightsFor(const Primitive& p, const float* filter) {
  std::lock_guard<std::mutex> lock(mu_);
  const memory::desc& want = p.pd.weights_desc();
  for (const auto& w : weights_) {
    if (w->filter == filter && w->desc == want) return w->data.data();
  }
  auto w = std::make_unique<Weights>();
  w->filter = filter;
  w->desc = want;
  w->data = Reordered(p.user_weights, filter, want,
                      dnnl::reorder(dnnl::reorder::primitive_desc(OneDnnEngine(), p.user_weights,
                                                                  OneDnnEngine(), want)));
  weights_.push_back(std::move(w));
  return weights_.back()->data.data();
}

absl::StatusOr<bool> OneDnnInferenceConv::Forward(OpKernelContext* ctx,
                                                  const FusedEpilogue* epilogue,
                                                  const ConvGeometry& g, int64_t groups,
                                                  const float* in, const float* filter,
                                                  float* out) {
  const float* bias = nullptr;
  if (epilogue != nullptr) {
    ASSIGN_OR_RETURN(bias, epilogue->Bias<float>(ctx, 2, g.out_c));
  }
  return Run(g, groups, in, filter, bias, epilogue ? epilogue->activation() : Activation::kNone,
             out, ctx->thread_pool());
}

namespace {

// This thread's memory objects for `p` with the reordered filter `weights` (kept buffers
// never move: the weights object is made anew only for another filter).
CallArgs& ArgsFor(const OneDnnInferenceConv::Primitive& p, const float* weights, bool bias) {
  thread_local std::unordered_map<uint64_t, CallArgs> cache;  // by primitive id
  auto it = cache.find(p.id);
  if (it != cache.end() && it->second.weights_data == weights) return it->second;
  if (cache.size() >= 4096) cache.clear();  // mostly primitives of kernels long gone
  CallArgs& args = cache[p.id];
  const dnnl::engine& engine = OneDnnEngine();
  args.weights_data = weights;
  args.src = memory(p.src, engine, DNNL_MEMORY_NONE);
  args.dst = memory(p.dst, engine, DNNL_MEMORY_NONE);
  args.weights = memory(p.pd.weights_desc(), engine, const_cast<float*>(weights));
  args.scratchpad = memory(p.pd.scratchpad_desc(), engine, DNNL_MEMORY_NONE);
  args.map = {{DNNL_ARG_SRC, args.src},
              {DNNL_ARG_WEIGHTS, args.weights},
              {DNNL_ARG_DST, args.dst},
              {DNNL_ARG_SCRATCHPAD, args.scratchpad}};
  if (bias) {
    args.bias = memory(p.bias, engine, DNNL_MEMORY_NONE);
    args.map.emplace(DNNL_ARG_BIAS, args.bias);
  }
  return args;
}

// A part of one call's work for one pool thread: `images` images from `first`, output rows
// [row_begin, row_end) of each.
struct Slice {
  int64_t first, images, row_begin, row_end;
};

// One slice per pool thread: whole images when there are enough, otherwise each image's
// output rows cut into slabs (an image's slab reads the input rows under its window,
// halo included), when the convolution is big enough to pay for the hand-off.
std::vector<Slice> Slices(const ConvGeometry& g, int64_t groups, int threads) {
  // A hand-off to another thread costs a few microseconds: a slab should be worth more.
  constexpr int64_t kMinSlabFlops = int64_t{1} << 19;
  if (g.batch >= threads) {
    std::vector<Slice> slices;
    for (int part = 0; part < threads; ++part) {
      const int64_t first = g.batch * part / threads, last = g.batch * (part + 1) / threads;
      slices.push_back({first, last - first, 0, g.out_h});
    }
    return slices;
  }
  const int64_t flops =
      2 * g.batch * g.out_h * g.out_w * g.out_c * g.window_h * g.window_w * (g.in_c / groups);
  const int64_t per_image = std::min<int64_t>(
      {(threads + g.batch - 1) / g.batch, g.out_h, std::max<int64_t>(1, flops / kMinSlabFlops)});
  std::vector<Slice> slices;
  for (int64_t image = 0; image < g.batch; ++image) {
    for (int64_t slab = 0; slab < per_image; ++slab) {
      slices.push_back({image, 1, g.out_h * slab / per_image, g.out_h * (slab + 1) / per_image});
    }
  }
  return slices;
}

// `g` narrowed to a slice: its images, its output rows, and the input rows they read
// (`first_row`), padded where those run past the input. Whole images keep every input row,
// so that images lie the same distance apart as in the tensor.
ConvGeometry SliceGeometry(const ConvGeometry& g, const Slice& slice, int64_t* first_row) {
  ConvGeometry s = g;
  s.batch = slice.images;
  *first_row = 0;
  if (slice.row_begin == 0 && slice.row_end == g.out_h) return s;
  s.out_h = slice.row_end - slice.row_begin;
  const int64_t top = slice.row_begin * g.stride_h - g.pad_top;
  const int64_t bottom =
      (slice.row_end - 1) * g.stride_h - g.pad_top + (g.window_h - 1) * g.dilation_h;  // inclusive
  *first_row = std::max<int64_t>(0, top);
  const int64_t last_row = std::min(g.in_h - 1, bottom);
  s.in_h = last_row - *first_row + 1;
  s.pad_top = *first_row - top;
  s.pad_bottom = bottom - last_row;
  return s;
}

}  // namespace

bool OneDnnInferenceConv::Run(const ConvGeometry& g, int64_t groups, const float* in,
                              const float* filter, const float* bias, Activation activation,
                              float* out, ThreadPool* pool) try {
  const int64_t in_image = g.in_h * g.in_w * g.in_c, out_image = g.out_h * g.out_w * g.out_c;
  const std::vector<Slice> slices = Slices(g, groups, pool->NumThreads());
  // A plain convolution too small to split (Logits' 1x1 layer on a 1x1 image, 1 MB of
  // weights) is faster as a product on every thread; depthwise has no such alternative.
  if (groups == 1 && static_cast<int>(slices.size()) < pool->NumThreads()) return false;
  // Every slice's primitive and filter are made here first, where a failure can still be
  // declined.
  SetOneDnnThreads(1);
  struct Part {
    Primitive* primitive;
    const float* weights;
    const float* src;
    float* dst;
  };
  std::vector<Part> parts;
  for (const Slice& slice : slices) {
    int64_t first_row;
    const ConvGeometry s = SliceGeometry(g, slice, &first_row);
    if (s.in_h <= 0) return false;  // a slab wholly in the padding
    Primitive* p = For(s, Key{s.batch, s.in_h, s.in_w, s.in_c, s.out_c, groups, bias != nullptr,
                              activation, s.pad_top, s.pad_bottom});
    if (p == nullptr) return false;
    parts.push_back({p, WeightsFor(*p, filter),
                     in + slice.first * in_image + first_row * g.in_w * g.in_c,
                     out + slice.first * out_image + slice.row_begin * g.out_w * g.out_c});
  }
  auto run = [&](const Part& part) {
    SetOneDnnThreads(1);
    const Primitive& p = *part.primitive;
    CallArgs& args = ArgsFor(p, part.weights, bias != nullptr);
    args.src.set_data_handle(const_cast<float*>(part.src));
    args.dst.set_data_handle(part.dst);
    if (bias != nullptr) args.bias.set_data_handle(const_cast<float*>(bias));
    args.scratchpad.set_data_handle(OneDnnScratchBuffer(p.pd.scratchpad_desc().get_size()));
    p.conv->execute(OneDnnStream(), args.map);
    OneDnnStream().wait();
  };
  if (parts.size() == 1) {
    run(parts[0]);
  } else {
    pool->ParallelFor(static_cast<int64_t>(parts.size()), int64_t{1} << 30,
                      [&](int64_t begin, int64_t end) {
                        for (int64_t k = begin; k < end; ++k) run(parts[k]);
                      });
  }
  return true;
} catch (const dnnl::error&) {
  return false;
}

}  // namespace runnel
