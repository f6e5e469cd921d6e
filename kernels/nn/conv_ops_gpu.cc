// Conv2D, DepthwiseConv2dNative (a grouped convolution) and their input and filter
// gradients on the GPU (float32, and half and bfloat16 with float accumulation; NHWC or
// NCHW) by cuDNN. cuDNN pads symmetrically: SAME padding that is one larger after (an even
// window, a stride) pads the input explicitly by the difference first (and crops it off the
// input gradient). TensorFlow's HWIO filter is transposed to cuDNN's KRSC (NHWC) or KCRS
// (NCHW) and back for its gradient. float32 arithmetic is strict (CUDNN_FMA_MATH: no TF32).
// The algorithm for each shape is cuDNN's first heuristic choice needing at most 1 GiB of
// scratch, or, with RUNNEL_CUDNN_AUTOTUNE=1, the fastest measured on first use
// (TensorFlow's autotuning), remembered for the process.
#include <cstdlib>
#include <map>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "kernels/util/conv_util.h"
#include "kernels/util/gpu_ops.h"

namespace runnel {
namespace {

enum class Pass { kForward, kBackwardData, kBackwardFilter };

// One convolution as cuDNN sees it, with the explicit padding that makes it symmetric.
struct ConvSetup {
  bool nchw = false, depthwise = false;
  DataType dtype = DT_FLOAT;
  int64_t n = 0, c = 0, h = 0, w = 0;  // the input, after the explicit padding
  int64_t k = 0, r = 0, s = 0;         // output channels, filter height and width
  int64_t oh = 0, ow = 0;
  int pad_h = 0, pad_w = 0, stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  std::vector<int64_t> extra_before, extra_after;  // per dim of the input, in its layout

  std::string Key(Pass pass) const {
    return absl::StrCat(static_cast<int>(pass), nchw, depthwise, dtype, ":", n, ",", c, ",", h, ",",
                        w, ":", k, ",", r, ",", s, ":", pad_h, ",", pad_w, ",", stride_h, ",",
                        stride_w, ",", dilation_h, ",", dilation_w);
  }
  bool Padded() const {
    for (size_t d = 0; d < extra_before.size(); ++d) {
      if (extra_before[d] != 0 || extra_after[d] != 0) return true;
    }
    return false;
  }
};

absl::StatusOr<ConvSetup> Setup(const Window2D& window, const TensorShape& input,
                                const TensorShape& filter, bool depthwise, DataType dtype) {
  RN_REQUIRE(input.dims() == 4, "input must be 4-D, got shape ", input.DebugString());
  WindowDim rows, cols;
  RETURN_IF_ERROR(ResolveConvWindow(window, ToNhwc(input, window.nchw), filter, &rows, &cols));
  ConvSetup c;
  c.nchw = window.nchw;
  c.depthwise = depthwise;
  c.dtype = dtype;
  const TensorShape nhwc = ToNhwc(input, window.nchw);
  c.n = nhwc.dim_size(0);
  c.c = nhwc.dim_size(3);
  c.r = filter.dim_size(0);
  c.s = filter.dim_size(1);
  c.k = depthwise ? filter.dim_size(2) * filter.dim_size(3) : filter.dim_size(3);
  c.oh = rows.output;
  c.ow = cols.output;
  c.stride_h = static_cast<int>(rows.stride);
  c.stride_w = static_cast<int>(cols.stride);
  c.dilation_h = static_cast<int>(rows.dilation);
  c.dilation_w = static_cast<int>(cols.dilation);
  c.pad_h = static_cast<int>(std::min(rows.pad_before, rows.pad_after));
  c.pad_w = static_cast<int>(std::min(cols.pad_before, cols.pad_after));
  c.extra_before.assign(4, 0);
  c.extra_after.assign(4, 0);
  const int hd = window.height_axis(), wd = window.width_axis();
  c.extra_before[hd] = rows.pad_before - c.pad_h;
  c.extra_after[hd] = rows.pad_after - c.pad_h;
  c.extra_before[wd] = cols.pad_before - c.pad_w;
  c.extra_after[wd] = cols.pad_after - c.pad_w;
  c.h = rows.input + c.extra_before[hd] + c.extra_after[hd];
  c.w = cols.input + c.extra_before[wd] + c.extra_after[wd];
  return c;
}

// cuDNN descriptors, destroyed with the object.
struct Descriptors {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;

  ~Descriptors() {
    if (x) cudnnDestroyTensorDescriptor(x);
    if (y) cudnnDestroyTensorDescriptor(y);
    if (w) cudnnDestroyFilterDescriptor(w);
    if (conv) cudnnDestroyConvolutionDescriptor(conv);
  }

  absl::Status Set(const ConvSetup& c) {
    const cudnnTensorFormat_t format = c.nchw ? CUDNN_TENSOR_NCHW : CUDNN_TENSOR_NHWC;
    // half and bfloat16 data accumulate in float, on tensor cores; float stays strict.
    const cudnnDataType_t type = c.dtype == DT_HALF       ? CUDNN_DATA_HALF
                                 : c.dtype == DT_BFLOAT16 ? CUDNN_DATA_BFLOAT16
                                                          : CUDNN_DATA_FLOAT;
    auto i = [](int64_t v) { return static_cast<int>(v); };
    RN_CUDNN(cudnnCreateTensorDescriptor(&x));
    RN_CUDNN(cudnnCreateTensorDescriptor(&y));
    RN_CUDNN(cudnnCreateFilterDescriptor(&w));
    RN_CUDNN(cudnnCreateConvolutionDescriptor(&conv));
    RN_CUDNN(cudnnSetTensor4dDescriptor(x, format, type, i(c.n), i(c.c), i(c.h), i(c.w)));
    RN_CUDNN(cudnnSetTensor4dDescriptor(y, format, type, i(c.n), i(c.k), i(c.oh), i(c.ow)));
    RN_CUDNN(cudnnSetFilter4dDescriptor(w, type, format, i(c.k), c.depthwise ? 1 : i(c.c), i(c.r),
                                        i(c.s)));
    RN_CUDNN(cudnnSetConvolution2dDescriptor(conv, c.pad_h, c.pad_w, c.stride_h, c.stride_w,
                                             c.dilation_h, c.dilation_w, CUDNN_CROSS_CORRELATION,
                                             CUDNN_DATA_FLOAT));
    if (c.depthwise) RN_CUDNN(cudnnSetConvolutionGroupCount(conv, i(c.c)));
    RN_CUDNN(cudnnSetConvolutionMathType(
        conv, c.dtype == DT_FLOAT ? CUDNN_FMA_MATH : CUDNN_TENSOR_OP_MATH));
    return absl::OkStatus();
  }
};

bool Autotune() {
  static const bool autotune = [] {
    const char* v = std::getenv("RUNNEL_CUDNN_AUTOTUNE");
    return v != nullptr && std::string(v) == "1";
  }();
  return autotune;
}

// An algorithm that ran (or would run) and whose scratch memory stays within 1 GiB.
template <typename Perf>
bool Usable(const Perf& perf) {
  return perf.status == CUDNN_STATUS_SUCCESS && perf.memory <= (size_t{1} << 30);
}

// The algorithm for a pass and shape, chosen once per process.
absl::StatusOr<int> Algorithm(const ConvSetup& c, Pass pass, GpuDeviceContext* gpu,
                              const Descriptors& d) {
  static std::mutex mu;
  static auto* chosen = new std::map<std::string, int>;
  const std::string key = absl::StrCat(gpu->ordinal, "/", c.Key(pass));
  {
    std::lock_guard<std::mutex> lock(mu);
    auto it = chosen->find(key);
    if (it != chosen->end()) return it->second;
  }
  constexpr int kMax = 16;
  int returned = 0, algo = -1;
  // Both kinds of result hold (algo, status) first; each branch reads its own.
  switch (pass) {
    case Pass::kForward: {
      cudnnConvolutionFwdAlgoPerf_t perf[kMax];
      if (Autotune()) {
        RN_CUDNN(cudnnFindConvolutionForwardAlgorithm(gpu->cudnn, d.x, d.w, d.conv, d.y, kMax,
                                                      &returned, perf));
      } else {
        RN_CUDNN(cudnnGetConvolutionForwardAlgorithm_v7(gpu->cudnn, d.x, d.w, d.conv, d.y, kMax,
                                                        &returned, perf));
      }
      for (int i = 0; i < returned && algo < 0; ++i) {
        if (Usable(perf[i])) algo = perf[i].algo;
      }
      break;
    }
    case Pass::kBackwardData: {
      cudnnConvolutionBwdDataAlgoPerf_t perf[kMax];
      if (Autotune()) {
        RN_CUDNN(cudnnFindConvolutionBackwardDataAlgorithm(gpu->cudnn, d.w, d.y, d.conv, d.x, kMax,
                                                           &returned, perf));
      } else {
        RN_CUDNN(cudnnGetConvolutionBackwardDataAlgorithm_v7(gpu->cudnn, d.w, d.y, d.conv, d.x,
                                                             kMax, &returned, perf));
      }
      for (int i = 0; i < returned && algo < 0; ++i) {
        if (Usable(perf[i])) algo = perf[i].algo;
      }
      break;
    }
    case Pass::kBackwardFilter: {
      cudnnConvolutionBwdFilterAlgoPerf_t perf[kMax];
      if (Autotune()) {
        RN_CUDNN(cudnnFindConvolutionBackwardFilterAlgorithm(gpu->cudnn, d.x, d.y, d.conv, d.w,
                                                             kMax, &returned, perf));
      } else {
        RN_CUDNN(cudnnGetConvolutionBackwardFilterAlgorithm_v7(gpu->cudnn, d.x, d.y, d.conv, d.w,
                                                               kMax, &returned, perf));
      }
      for (int i = 0; i < returned && algo < 0; ++i) {
        if (Usable(perf[i])) algo = perf[i].algo;
      }
      break;
    }
  }
  RN_REQUIRE(algo >= 0, "cuDNN has no algorithm for the convolution ", c.Key(pass));
  std::lock_guard<std::mutex> lock(mu);
  (*chosen)[key] = algo;
  return algo;
}

// cuDNN's scratch memory for a pass, from the device's allocator.
absl::StatusOr<Tensor> Workspace(const ConvSetup& c, Pass pass, int algo, GpuDeviceContext* gpu,
                                 const Descriptors& d, OpKernelContext* ctx) {
  size_t bytes = 0;
  switch (pass) {
    case Pass::kForward:
      RN_CUDNN(cudnnGetConvolutionForwardWorkspaceSize(
          gpu->cudnn, d.x, d.w, d.conv, d.y, static_cast<cudnnConvolutionFwdAlgo_t>(algo), &bytes));
      break;
    case Pass::kBackwardData:
      RN_CUDNN(cudnnGetConvolutionBackwardDataWorkspaceSize(
          gpu->cudnn, d.w, d.y, d.conv, d.x, static_cast<cudnnConvolutionBwdDataAlgo_t>(algo),
          &bytes));
      break;
    case Pass::kBackwardFilter:
      RN_CUDNN(cudnnGetConvolutionBackwardFilterWorkspaceSize(
          gpu->cudnn, d.x, d.y, d.conv, d.w, static_cast<cudnnConvolutionBwdFilterAlgo_t>(algo),
          &bytes));
      break;
  }
  return Tensor(DT_UINT8, TensorShape{static_cast<int64_t>(std::max<size_t>(bytes, 1))},
                ctx->allocator());
}

// TensorFlow's filter layout (HWIO, or HWCM for depthwise) to cuDNN's, and back.
std::vector<int64_t> ToCudnnFilter(const ConvSetup& c) {
  if (c.depthwise) return {2, 3, 0, 1};  // (C, M, R, S): K = C*M filters of one channel
  return c.nchw ? std::vector<int64_t>{3, 2, 0, 1} : std::vector<int64_t>{3, 0, 1, 2};
}
std::vector<int64_t> FromCudnnFilter(const ConvSetup& c) {
  if (c.depthwise) return {2, 3, 0, 1};
  return c.nchw ? std::vector<int64_t>{2, 3, 1, 0} : std::vector<int64_t>{1, 2, 3, 0};
}

TensorShape OutputShape(const ConvSetup& c) {
  return c.nchw ? TensorShape{c.n, c.k, c.oh, c.ow} : TensorShape{c.n, c.oh, c.ow, c.k};
}

template <bool kDepthwise>
class ConvGpuOp : public WindowKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(GpuDeviceContext * gpu, GpuContext(ctx));
    const Tensor& input = ctx->input(0);
    const Tensor& filter = ctx->input(1);
    ASSIGN_OR_RETURN(ConvSetup c,
                     Setup(window_, input.shape(), filter.shape(), kDepthwise, input.dtype()));
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(0, OutputShape(c), &out));
    if (out->NumElements() == 0) return absl::OkStatus();
    Tensor x = input;
    if (c.Padded()) {
      ASSIGN_OR_RETURN(x,
                       PadOnGpu(input, c.extra_before, c.extra_after, nullptr, ctx, gpu->compute));
    }
    ASSIGN_OR_RETURN(Tensor w, TransposeOnGpu(filter, ToCudnnFilter(c), ctx, gpu->compute));
    Descriptors d;
    RETURN_IF_ERROR(d.Set(c));
    ASSIGN_OR_RETURN(int algo, Algorithm(c, Pass::kForward, gpu, d));
    ASSIGN_OR_RETURN(Tensor ws, Workspace(c, Pass::kForward, algo, gpu, d, ctx));
    const float one = 1, zero = 0;
    RN_CUDNN(cudnnConvolutionForward(gpu->cudnn, &one, d.x, x.raw_data(), d.w, w.raw_data(), d.conv,
                                     static_cast<cudnnConvolutionFwdAlgo_t>(algo), ws.raw_data(),
                                     ws.TotalBytes(), &zero, d.y, out->raw_data()));
    return absl::OkStatus();
  }
};

template <bool kDepthwise>
class ConvBackpropInputGpuOp : public WindowKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(GpuDeviceContext * gpu, GpuContext(ctx));
    ASSIGN_OR_RETURN(TensorShape in_shape, ShapeFromInput(ctx->input(0), "input_sizes"));
    const Tensor& filter = ctx->input(1);
    const Tensor& dy = ctx->input(2);
    ASSIGN_OR_RETURN(ConvSetup c, Setup(window_, in_shape, filter.shape(), kDepthwise, dy.dtype()));
    RN_REQUIRE(dy.shape() == OutputShape(c), "out_backprop has shape ", dy.shape().DebugString(),
               " but the convolution's output has ", OutputShape(c).DebugString());
    if (in_shape.num_elements() == 0) {
      Tensor* dx;
      return ctx->allocate_output(0, in_shape, &dx);
    }
    ASSIGN_OR_RETURN(Tensor w, TransposeOnGpu(filter, ToCudnnFilter(c), ctx, gpu->compute));
    Descriptors d;
    RETURN_IF_ERROR(d.Set(c));
    ASSIGN_OR_RETURN(int algo, Algorithm(c, Pass::kBackwardData, gpu, d));
    ASSIGN_OR_RETURN(Tensor ws, Workspace(c, Pass::kBackwardData, algo, gpu, d, ctx));
    // The gradient of the (explicitly padded) input, then the padding cropped off.
    Tensor padded(dy.dtype(),
                  c.nchw ? TensorShape{c.n, c.c, c.h, c.w} : TensorShape{c.n, c.h, c.w, c.c},
                  ctx->allocator());
    const float one = 1, zero = 0;
    RN_CUDNN(cudnnConvolutionBackwardData(gpu->cudnn, &one, d.w, w.raw_data(), d.y, dy.raw_data(),
                                          d.conv, static_cast<cudnnConvolutionBwdDataAlgo_t>(algo),
                                          ws.raw_data(), ws.TotalBytes(), &zero, d.x,
                                          padded.raw_data()));
    if (!c.Padded()) {
      ctx->set_output(0, std::move(padded));
      return absl::OkStatus();
    }
    std::vector<int64_t> before(4), after(4);
    for (int i = 0; i < 4; ++i) {
      before[i] = -c.extra_before[i];
      after[i] = -c.extra_after[i];
    }
    ASSIGN_OR_RETURN(Tensor cropped, PadOnGpu(padded, before, after, nullptr, ctx, gpu->compute));
    ctx->set_output(0, std::move(cropped));
    return absl::OkStatus();
  }
};

template <bool kDepthwise>
class ConvBackpropFilterGpuOp : public WindowKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(GpuDeviceContext * gpu, GpuContext(ctx));
    const Tensor& input = ctx->input(0);
    ASSIGN_OR_RETURN(TensorShape filter_shape, ShapeFromInput(ctx->input(1), "filter_sizes"));
    const Tensor& dy = ctx->input(2);
    ASSIGN_OR_RETURN(ConvSetup c,
                     Setup(window_, input.shape(), filter_shape, kDepthwise, input.dtype()));
    RN_REQUIRE(dy.shape() == OutputShape(c), "out_backprop has shape ", dy.shape().DebugString(),
               " but the convolution's output has ", OutputShape(c).DebugString());
    if (filter_shape.num_elements() == 0) {
      Tensor* dw;
      return ctx->allocate_output(0, filter_shape, &dw);
    }
    Tensor x = input;
    if (c.Padded()) {
      ASSIGN_OR_RETURN(x,
                       PadOnGpu(input, c.extra_before, c.extra_after, nullptr, ctx, gpu->compute));
    }
    Descriptors d;
    RETURN_IF_ERROR(d.Set(c));
    ASSIGN_OR_RETURN(int algo, Algorithm(c, Pass::kBackwardFilter, gpu, d));
    ASSIGN_OR_RETURN(Tensor ws, Workspace(c, Pass::kBackwardFilter, algo, gpu, d, ctx));
    // cuDNN's layout of the filter shape, then back to TensorFlow's.
    TensorShape cudnn_shape;
    for (int64_t dim : ToCudnnFilter(c))
      cudnn_shape.AddDim(filter_shape.dim_size(static_cast<int>(dim)));
    Tensor dw(input.dtype(), cudnn_shape, ctx->allocator());
    const float one = 1, zero = 0;
    RN_CUDNN(
        cudnnConvolutionBackwardFilter(gpu->cudnn, &one, d.x, x.raw_data(), d.y, dy.raw_data(),
                                       d.conv, static_cast<cudnnConvolutionBwdFilterAlgo_t>(algo),
                                       ws.raw_data(), ws.TotalBytes(), &zero, d.w, dw.raw_data()));
    ASSIGN_OR_RETURN(Tensor out, TransposeOnGpu(dw, FromCudnnFilter(c), ctx, gpu->compute));
    ctx->set_output(0, std::move(out));
    return absl::OkStatus();
  }
};

// float, and half and bfloat16, which cuDNN convolves on tensor cores.
const std::vector<DataType> kConvTypes = {DT_FLOAT, DT_HALF, DT_BFLOAT16};

template <typename Kernel>
bool Register(const char* op, const char* host_arg) {
  KernelDefBuilder b(op);
  b.Device(kGpu).TypeConstraint("T", kConvTypes);
  if (host_arg != nullptr) b.HostMemory(host_arg);
  KernelRegistry::Global()->Register(b.def(), &MakeKernel<Kernel>);
  return true;
}
const bool kRegistered =
    Register<ConvGpuOp<false>>("Conv2D", nullptr) &&
    Register<ConvGpuOp<true>>("DepthwiseConv2dNative", nullptr) &&
    Register<ConvBackpropInputGpuOp<false>>("Conv2DBackpropInput", "input_sizes") &&
    Register<ConvBackpropInputGpuOp<true>>("DepthwiseConv2dNativeBackpropInput", "input_sizes") &&
    Register<ConvBackpropFilterGpuOp<false>>("Conv2DBackpropFilter", "filter_sizes") &&
    Register<ConvBackpropFilterGpuOp<true>>("DepthwiseConv2dNativeBackpropFilter", "filter_sizes");

}  // namespace
}  // namespace runnel
