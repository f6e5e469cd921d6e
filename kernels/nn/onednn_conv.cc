#include "kernels/nn/onednn_conv.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "core/threadpool.h"
#include "kernels/nn/onednn_util.h"

namespace runnel {
namespace {

using dnnl::memory;
using Tag = memory::format_tag;
using Dt = memory::data_type;

}  // namespace

struct OneDnnConv::Primitives {
  memory::desc src, dst, user_weights;
  dnnl::convolution_forward::primitive_desc fwd_pd;
  std::optional<dnnl::convolution_forward> fwd;
  std::optional<dnnl::convolution_backward_data::primitive_desc> bwd_data_pd;
  std::optional<dnnl::convolution_backward_data> bwd_data;
  std::optional<dnnl::convolution_backward_weights::primitive_desc> bwd_weights_pd;
  std::optional<dnnl::convolution_backward_weights> bwd_weights;
  // Filter layout changes: HWIO into the forward and backward-data primitives' layouts,
  // and the backward-weights primitive's layout back into HWIO.
  std::optional<dnnl::reorder> to_fwd, to_bwd_data, from_bwd_weights;

  Primitives(const ConvGeometry& g, int64_t batch) {
    src = memory::desc({batch, g.in_c, g.in_h, g.in_w}, Dt::f32, Tag::nhwc);
    dst = memory::desc({batch, g.out_c, g.out_h, g.out_w}, Dt::f32, Tag::nhwc);
    user_weights = memory::desc({g.out_c, g.in_c, g.window_h, g.window_w}, Dt::f32, Tag::hwio);
    const memory::desc any_weights({g.out_c, g.in_c, g.window_h, g.window_w}, Dt::f32, Tag::any);
    const memory::dims strides = {g.stride_h, g.stride_w};
    const memory::dims dilations = {g.dilation_h - 1, g.dilation_w - 1};
    const memory::dims pad_l = {g.pad_top, g.pad_left}, pad_r = {g.pad_bottom, g.pad_right};
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    fwd_pd = dnnl::convolution_forward::primitive_desc(
        dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training,
                                        dnnl::algorithm::convolution_direct, src, any_weights, dst,
                                        strides, dilations, pad_l, pad_r),
        attr, OneDnnEngine());
    fwd.emplace(fwd_pd);
    bwd_data_pd.emplace(
        dnnl::convolution_backward_data::desc(dnnl::algorithm::convolution_direct, src, any_weights,
                                              dst, strides, dilations, pad_l, pad_r),
        attr, OneDnnEngine(), fwd_pd);
    bwd_data.emplace(*bwd_data_pd);
    bwd_weights_pd.emplace(dnnl::convolution_backward_weights::desc(
                               dnnl::algorithm::convolution_direct, src, any_weights, dst, strides,
                               dilations, pad_l, pad_r),
                           attr, OneDnnEngine(), fwd_pd);
    bwd_weights.emplace(*bwd_weights_pd);
    to_fwd.emplace(dnnl::reorder::primitive_desc(OneDnnEngine(), user_weights, OneDnnEngine(),
                                                 fwd_pd.weights_desc()));
    to_bwd_data.emplace(dnnl::reorder::primitive_desc(OneDnnEngine(), user_weights, OneDnnEngine(),
                                                      bwd_data_pd->weights_desc()));
    from_bwd_weights.emplace(dnnl::reorder::primitive_desc(
        OneDnnEngine(), bwd_weights_pd->diff_weights_desc(), OneDnnEngine(), user_weights));
  }
};

OneDnnConv::OneDnnConv() = default;
OneDnnConv::~OneDnnConv() = default;

// Creates, on the calling thread (where a failure can be caught), the primitives of every
// slice size (at most two); returns the first slice's.
OneDnnConv::Primitives& OneDnnConv::Prepare(const ConvGeometry& g, ThreadPool* pool) {
  const int64_t slices = pool->NumThreads();
  for (int64_t part = 1; part < slices; ++part) {
    For(g, g.batch * (part + 1) / slices - g.batch * part / slices);
  }
  return For(g, g.batch / slices);
}

OneDnnConv::Primitives& OneDnnConv::For(const ConvGeometry& g, int64_t batch) {
  std::lock_guard<std::mutex> lock(mu_);
  auto key = std::make_tuple(batch, g.in_h, g.in_w, g.in_c, g.out_c, g.window_h, g.window_w);
  auto& slot = cache_[key];
  if (!slot) slot = std::make_unique<Primitives>(g, batch);
  return *slot;
}

namespace {

// The filter in the layout `desc` wants: `shared` (reordered for the first slice) when
// `desc` is that one's layout, else reordered for this slice into `own` (a slice of another
// size may want another layout).
const float* FilterFor(const memory::desc& desc, const memory::desc& shared_desc,
                       const std::vector<float>& shared, const memory::desc& user,
                       const float* filter, const dnnl::reorder& reorder, std::vector<float>* own) {
  if (desc == shared_desc) return shared.data();
  *own = Reordered(user, filter, desc, reorder);
  return own->data();
}

}  // namespace

bool OneDnnConv::Forward(const ConvGeometry& g, const float* in, const float* filter, float* out,
                         ThreadPool* pool) try {
  if (g.batch < pool->NumThreads()) return false;  // see the header
  const auto& first_slice = Prepare(g, pool);
  const std::vector<float> weights = Reordered(
      first_slice.user_weights, filter, first_slice.fwd_pd.weights_desc(), *first_slice.to_fwd);
  const int64_t in_image = g.in_h * g.in_w * g.in_c, out_image = g.out_h * g.out_w * g.out_c;
  ForEachSlice(g.batch, pool, [&](int64_t, int64_t first, int64_t count) {
    auto& p = For(g, count);
    dnnl::stream& stream = OneDnnStream();
    memory src(p.src, OneDnnEngine(), const_cast<float*>(in + first * in_image));
    memory dst(p.dst, OneDnnEngine(), out + first * out_image);
    std::vector<float> own;
    memory wei(
        p.fwd_pd.weights_desc(), OneDnnEngine(),
        const_cast<float*>(FilterFor(p.fwd_pd.weights_desc(), first_slice.fwd_pd.weights_desc(),
                                     weights, p.user_weights, filter, *p.to_fwd, &own)));
    SetOneDnnThreads(1);
    p.fwd->execute(stream, {{DNNL_ARG_SRC, src},
                            {DNNL_ARG_WEIGHTS, wei},
                            {DNNL_ARG_DST, dst},
                            {DNNL_ARG_SCRATCHPAD, OneDnnScratchpad(p.fwd_pd.scratchpad_desc())}});
    stream.wait();
  });
  return true;
} catch (const dnnl::error&) {
  return false;
}

bool OneDnnConv::BackwardData(const ConvGeometry& g, const float* filter, const float* dy,
                              float* din, ThreadPool* pool) try {
  if (g.batch < pool->NumThreads()) return false;  // see the header
  const auto& first_slice = Prepare(g, pool);
  const std::vector<float> weights =
      Reordered(first_slice.user_weights, filter, first_slice.bwd_data_pd->weights_desc(),
                *first_slice.to_bwd_data);
  const int64_t in_image = g.in_h * g.in_w * g.in_c, out_image = g.out_h * g.out_w * g.out_c;
  ForEachSlice(g.batch, pool, [&](int64_t, int64_t first, int64_t count) {
    auto& p = For(g, count);
    dnnl::stream& stream = OneDnnStream();
    memory diff_dst(p.dst, OneDnnEngine(), const_cast<float*>(dy + first * out_image));
    memory diff_src(p.src, OneDnnEngine(), din + first * in_image);
    std::vector<float> own;
    memory wei(p.bwd_data_pd->weights_desc(), OneDnnEngine(),
               const_cast<float*>(FilterFor(p.bwd_data_pd->weights_desc(),
                                            first_slice.bwd_data_pd->weights_desc(), weights,
                                            p.user_weights, filter, *p.to_bwd_data, &own)));
    SetOneDnnThreads(1);
    p.bwd_data->execute(
        stream, {{DNNL_ARG_DIFF_DST, diff_dst},
                 {DNNL_ARG_WEIGHTS, wei},
                 {DNNL_ARG_DIFF_SRC, diff_src},
                 {DNNL_ARG_SCRATCHPAD, OneDnnScratchpad(p.bwd_data_pd->scratchpad_desc())}});
    stream.wait();
  });
  return true;
} catch (const dnnl::error&) {
  return false;
}

bool OneDnnConv::BackwardWeights(const ConvGeometry& g, const float* in, const float* dy,
                                 float* dfilter, ThreadPool* pool) try {
  if (g.batch < pool->NumThreads()) return false;  // see the header
  Prepare(g, pool);
  const int64_t in_image = g.in_h * g.in_w * g.in_c, out_image = g.out_h * g.out_w * g.out_c;
  const int64_t size = g.window_h * g.window_w * g.in_c * g.out_c;
  const int64_t slices = pool->NumThreads();
  std::vector<std::vector<float>> partial(slices, std::vector<float>(size));
  ForEachSlice(g.batch, pool, [&](int64_t slice, int64_t first, int64_t count) {
    auto& p = For(g, count);
    dnnl::stream& stream = OneDnnStream();
    memory src(p.src, OneDnnEngine(), const_cast<float*>(in + first * in_image));
    memory diff_dst(p.dst, OneDnnEngine(), const_cast<float*>(dy + first * out_image));
    const memory::desc& wei_desc = p.bwd_weights_pd->diff_weights_desc();
    std::vector<float> blocked(wei_desc.get_size() / sizeof(float));
    memory diff_wei(wei_desc, OneDnnEngine(), blocked.data());
    memory hwio(p.user_weights, OneDnnEngine(), partial[slice].data());
    SetOneDnnThreads(1);
    p.bwd_weights->execute(
        stream, {{DNNL_ARG_SRC, src},
                 {DNNL_ARG_DIFF_DST, diff_dst},
                 {DNNL_ARG_DIFF_WEIGHTS, diff_wei},
                 {DNNL_ARG_SCRATCHPAD, OneDnnScratchpad(p.bwd_weights_pd->scratchpad_desc())}});
    p.from_bwd_weights->execute(stream, diff_wei, hwio);
    stream.wait();
  });
  std::copy(partial[0].begin(), partial[0].end(), dfilter);
  for (int64_t s = 1; s < slices; ++s) {
    for (int64_t j = 0; j < size; ++j) dfilter[j] += partial[s][j];
  }
  return true;
} catch (const dnnl::error&) {
  return false;
}

}  // namespace runnel
