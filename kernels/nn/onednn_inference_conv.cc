#include "kernels/nn/onednn_inference_conv.h"

#include <cstring>
#include <optional>

#include "core/threadpool.h"
#include "kernels/nn/onednn_util.h"

namespace runnel {

using dnnl::memory;
using Tag = memory::format_tag;
using Dt = memory::data_type;

struct OneDnnInferenceConv::Primitive {
  memory::desc src, dst, bias, user_weights;
  dnnl::convolution_forward::primitive_desc pd;
  std::optional<dnnl::convolution_forward> conv;
};

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
  const auto [batch, in_h, in_w, in_c, out_c, groups, bias, activation] = key;
  auto p = std::make_unique<Primitive>();
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
  const memory::dims pad_l = {g.pad_top, g.pad_left}, pad_r = {g.pad_bottom, g.pad_right};
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
  w->data.resize(want.get_size() / sizeof(float));
  memory from(p.user_weights, OneDnnEngine(), const_cast<float*>(filter));
  memory to(want, OneDnnEngine(), w->data.data());
  dnnl::reorder(from, to).execute(OneDnnStream(), from, to);
  OneDnnStream().wait();
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

bool OneDnnInferenceConv::Run(const ConvGeometry& g, int64_t groups, const float* in,
                              const float* filter, const float* bias, Activation activation,
                              float* out, ThreadPool* pool) try {
  const int64_t in_image = g.in_h * g.in_w * g.in_c, out_image = g.out_h * g.out_w * g.out_c;
  auto run = [&](Primitive& p, const float* reordered, int64_t first) {
    SetOneDnnThreads(1);
    memory src(p.src, OneDnnEngine(), const_cast<float*>(in + first * in_image));
    memory dst(p.dst, OneDnnEngine(), out + first * out_image);
    memory weights(p.pd.weights_desc(), OneDnnEngine(), const_cast<float*>(reordered));
    std::unordered_map<int, memory> args = {
        {DNNL_ARG_SRC, src},
        {DNNL_ARG_WEIGHTS, weights},
        {DNNL_ARG_DST, dst},
        {DNNL_ARG_SCRATCHPAD, OneDnnScratchpad(p.pd.scratchpad_desc())}};
    if (bias != nullptr) {
      args.emplace(DNNL_ARG_BIAS, memory(p.bias, OneDnnEngine(), const_cast<float*>(bias)));
    }
    p.conv->execute(OneDnnStream(), args);
    OneDnnStream().wait();
  };
  // Every slice's primitive and filter are made here first, where a failure can still be
  // declined.
  SetOneDnnThreads(1);
  const int threads = pool->NumThreads();
  const int slices = g.batch >= threads ? threads : 1;  // see the header
  std::vector<Primitive*> primitives(slices);
  std::vector<const float*> reordered(slices);
  for (int part = 0; part < slices; ++part) {
    const int64_t images = g.batch * (part + 1) / slices - g.batch * part / slices;
    primitives[part] =
        For(g, Key{images, g.in_h, g.in_w, g.in_c, g.out_c, groups, bias != nullptr, activation});
    if (primitives[part] == nullptr) return false;
    reordered[part] = WeightsFor(*primitives[part], filter);
  }
  if (slices == 1) {
    run(*primitives[0], reordered[0], 0);
  } else {
    ForEachSlice(g.batch, pool, [&](int64_t part, int64_t first, int64_t) {
      run(*primitives[part], reordered[part], first);
    });
  }
  return true;
} catch (const dnnl::error&) {
  return false;
}

}  // namespace runnel
