// Every differentiable op's gradient against finite differences (float64), and the
// behaviour of AddGradients itself. RegistryWalk fails when an op is declared
// differentiable (SetGradient) without a case here.
#include <map>
#include <set>

#include "absl/strings/str_join.h"
#include "core/op_registry.h"
#include "tests/ops/gradient_checker.h"

namespace runnel {
namespace {

using testing::CheckGradient;
using testing::ConstNode;
using testing::GradientCase;
using testing::MakeNode;
using testing::MakeTensor;

NodeDef Axes(const std::string& name, std::vector<int32_t> axes) {
  return ConstNode(name, Tensor::Vector<int32_t>(axes));
}
NodeDef Int(const std::string& name, int32_t v) {
  return ConstNode(name, Tensor::Scalar<int32_t>(v));
}
AttrValue B(bool v) { return MakeAttr(v); }
AttrValue I(int64_t v) { return MakeAttr(v); }
using AttrMapInit = testing::Attrs;

GradientCase Binary(const std::string& op, TensorShape a = {2, 3}, TensorShape b = {3}) {
  return {{a, b}, {MakeNode("y", op, {"x0", "x1"})}, {"y"}};
}
GradientCase Unary(const std::string& op, double low = -2, double high = 2) {
  GradientCase c{{{2, 3}}, {MakeNode("y", op, {"x0"})}, {"y"}};
  c.low = low;
  c.high = high;
  return c;
}

// The output shape shape inference gives `op` on inputs of these shapes.
TensorShape OutputShapeOf(const std::string& op, const TensorShape& x, const TensorShape& filter,
                          const AttrMapInit& attrs) {
  GraphDef def;
  *def.add_node() = testing::PlaceholderNode("x", DT_DOUBLE, PartialShape(x));
  std::vector<std::string> inputs = {"x"};
  if (op != "AvgPool") {
    *def.add_node() = testing::PlaceholderNode("f", DT_DOUBLE, PartialShape(filter));
    inputs.push_back("f");
  }
  *def.add_node() = MakeNode("y", op, inputs, attrs);
  auto graph = Graph::FromGraphDef(def);
  EXPECT_TRUE(graph.ok()) << graph.status();
  return (*graph)->FindNode("y")->output_shape(0).ToTensorShape();
}

// Convolutions and pooling: every padding kind, strides, dilations and both formats.
void WindowCases(std::map<std::string, std::vector<GradientCase>>* cases) {
  auto L = [](std::vector<int64_t> v) { return MakeAttr(v); };
  struct Geometry {
    const char* padding;
    std::vector<int64_t> strides, dilations, explicit_paddings;
    const char* format;
  };
  const std::vector<Geometry> geometries = {
      {"SAME", {1, 2, 2, 1}, {1, 1, 1, 1}, {}, "NHWC"},
      {"VALID", {1, 1, 1, 1}, {1, 2, 2, 1}, {}, "NHWC"},
      {"EXPLICIT", {1, 1, 2, 1}, {1, 1, 1, 1}, {0, 0, 1, 0, 2, 1, 0, 0}, "NHWC"},
      {"SAME", {1, 1, 2, 1}, {1, 1, 1, 1}, {}, "NCHW"},
  };
  for (const Geometry& g : geometries) {
    const bool nchw = std::string(g.format) == "NCHW";
    TensorShape x = nchw ? TensorShape{2, 2, 5, 6} : TensorShape{2, 5, 6, 2};
    AttrMapInit attrs{{"strides", L(g.strides)},
                      {"padding", MakeAttr(g.padding)},
                      {"dilations", L(g.dilations)},
                      {"data_format", MakeAttr(g.format)},
                      {"explicit_paddings", L(g.explicit_paddings)}};
    for (const std::string op : {"Conv2D", "DepthwiseConv2dNative"}) {
      TensorShape filter{3, 2, 2, op == "Conv2D" ? 3 : 2};
      (*cases)[op].push_back({{x, filter}, {MakeNode("y", op, {"x0", "x1"}, attrs)}, {"y"}});
      // The backprops' own gradients, at the forward op's output shape.
      std::vector<int64_t> x_dims(x.dim_sizes().begin(), x.dim_sizes().end());
      std::vector<int64_t> f_dims(filter.dim_sizes().begin(), filter.dim_sizes().end());
      TensorShape dy = OutputShapeOf(op, x, filter, attrs);
      (*cases)[op + "BackpropInput"].push_back(
          {{filter, dy},
           {Axes("sizes", std::vector<int32_t>(x_dims.begin(), x_dims.end())),
            MakeNode("y", op + "BackpropInput", {"sizes", "x0", "x1"}, attrs)},
           {"y"}});
      (*cases)[op + "BackpropFilter"].push_back(
          {{x, dy},
           {Axes("sizes", std::vector<int32_t>(f_dims.begin(), f_dims.end())),
            MakeNode("y", op + "BackpropFilter", {"x0", "sizes", "x1"}, attrs)},
           {"y"}});
    }
    if (g.dilations[1] != 1) continue;  // pooling has no dilations
    std::vector<int64_t> ksize =
        nchw ? std::vector<int64_t>{1, 1, 3, 2} : std::vector<int64_t>{1, 3, 2, 1};
    AttrMapInit pool{{"ksize", L(ksize)},
                     {"strides", L(g.strides)},
                     {"padding", MakeAttr(g.padding)},
                     {"data_format", MakeAttr(g.format)}};
    if (std::string(g.padding) != "EXPLICIT") {
      (*cases)["AvgPool"].push_back({{x}, {MakeNode("y", "AvgPool", {"x0"}, pool)}, {"y"}});
      TensorShape dy = OutputShapeOf("AvgPool", x, {}, pool);
      std::vector<int64_t> x_dims(x.dim_sizes().begin(), x.dim_sizes().end());
      (*cases)["AvgPoolGrad"].push_back(
          {{dy},
           {Axes("sizes", std::vector<int32_t>(x_dims.begin(), x_dims.end())),
            MakeNode("y", "AvgPoolGrad", {"sizes", "x0"}, pool)},
           {"y"}});
      std::vector<int32_t> k32(ksize.begin(), ksize.end()), s32(g.strides.begin(), g.strides.end());
      (*cases)["MaxPoolV2"].push_back(
          {{x},
           {Axes("k", k32), Axes("s", s32),
            MakeNode("y", "MaxPoolV2", {"x0", "k", "s"},
                     {{"padding", MakeAttr(g.padding)}, {"data_format", MakeAttr(g.format)}})},
           {"y"}});
    } else {
      pool["explicit_paddings"] = L({0, 0, 1, 0, 1, 1, 0, 0});  // less than the window
    }
    (*cases)["MaxPool"].push_back({{x}, {MakeNode("y", "MaxPool", {"x0"}, pool)}, {"y"}});
  }
}

// One or more cases per differentiable op.
std::map<std::string, std::vector<GradientCase>> Cases() {
  std::map<std::string, std::vector<GradientCase>> cases;
  for (const char* op : {"Add", "AddV2", "Sub", "Mul", "Maximum", "Minimum", "SquaredDifference"}) {
    cases[op] = {Binary(op), Binary(op, {2, 1}, {1, 3}), Binary(op, {}, {2, 2})};
  }
  for (const char* op : {"RealDiv", "Div"}) {
    GradientCase c = Binary(op);
    c.low = 0.5;  // keep away from division by zero
    cases[op] = {c};
  }
  GradientCase mod = Binary("FloorMod", {2, 3}, {2, 3});
  mod.low = 0.5;
  cases["FloorMod"] = {mod};
  GradientCase pow = Binary("Pow");
  pow.low = 0.5;
  cases["Pow"] = {pow};
  for (const char* op : {"Neg", "Abs", "Square", "Exp", "Sigmoid", "Tanh", "Elu", "Selu",
                         "Softplus", "Softsign", "Relu", "Identity", "StopGradient"}) {
    cases[op] = {Unary(op)};
  }
  cases["LeakyRelu"] = {
      {{{2, 3}}, {MakeNode("y", "LeakyRelu", {"x0"}, {{"alpha", MakeAttr(0.3f)}})}, {"y"}}};
  cases["Relu6"] = {Unary("Relu6", -3, 9)};
  cases["Sqrt"] = {Unary("Sqrt", 0.5, 3)};
  cases["Rsqrt"] = {Unary("Rsqrt", 0.5, 3)};
  cases["Reciprocal"] = {Unary("Reciprocal", 0.5, 3)};
  cases["Log"] = {Unary("Log", 0.5, 3)};
  cases["Log1p"] = {Unary("Log1p", -0.5, 3)};
  cases["Expm1"] = {Unary("Expm1")};
  cases["AddN"] = {{{{2, 2}, {2, 2}, {2, 2}}, {MakeNode("y", "AddN", {"x0", "x1", "x2"})}, {"y"}}};
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      TensorShape a = ta ? TensorShape{3, 2} : TensorShape{2, 3};
      TensorShape b = tb ? TensorShape{4, 3} : TensorShape{3, 4};
      cases["MatMul"].push_back({{a, b},
                                 {MakeNode("y", "MatMul", {"x0", "x1"},
                                           {{"transpose_a", B(ta)}, {"transpose_b", B(tb)}})},
                                 {"y"}});
    }
  }
  for (const char* op : {"Sum", "Mean", "Max", "Min", "Prod"}) {
    for (bool keep : {false, true}) {
      cases[op].push_back(
          {{{2, 3, 4}},
           {Axes("axes", {0, -1}), MakeNode("y", op, {"x0", "axes"}, {{"keep_dims", B(keep)}})},
           {"y"}});
    }
    cases[op].push_back({{{5}}, {Axes("axes", {0}), MakeNode("y", op, {"x0", "axes"})}, {"y"}});
  }
  cases["BiasAdd"] = {
      {{{2, 3}, {3}}, {MakeNode("y", "BiasAdd", {"x0", "x1"})}, {"y"}},
      {{{2, 3, 2, 2}, {3}},
       {MakeNode("y", "BiasAdd", {"x0", "x1"}, {{"data_format", MakeAttr("NCHW")}})},
       {"y"}}};
  cases["BiasAddV1"] = {{{{4, 3}, {3}}, {MakeNode("y", "BiasAddV1", {"x0", "x1"})}, {"y"}}};
  cases["BiasAddGrad"] = {{{{4, 3}}, {MakeNode("y", "BiasAddGrad", {"x0"})}, {"y"}}};
  cases["Softmax"] = {{{{2, 4}}, {MakeNode("y", "Softmax", {"x0"})}, {"y"}}};
  cases["LogSoftmax"] = {{{{2, 4}}, {MakeNode("y", "LogSoftmax", {"x0"})}, {"y"}}};
  cases["IdentityN"] = {{{{2}, {3}}, {MakeNode("y", "IdentityN", {"x0", "x1"})}, {"y:0", "y:1"}}};
  cases["PlaceholderWithDefault"] = {
      {{{2, 2}},
       {MakeNode("y", "PlaceholderWithDefault", {"x0"},
                 {{"dtype", MakeAttr(DT_DOUBLE)}, {"shape", MakeAttr(PartialShape{2, 2})}})},
       {"y"}}};
  cases["Reshape"] = {
      {{{2, 3}}, {Axes("s", {3, -1}), MakeNode("y", "Reshape", {"x0", "s"})}, {"y"}}};
  cases["ExpandDims"] = {
      {{{2, 3}}, {Int("a", 1), MakeNode("y", "ExpandDims", {"x0", "a"})}, {"y"}}};
  cases["Squeeze"] = {{{{2, 1, 3}}, {MakeNode("y", "Squeeze", {"x0"})}, {"y"}}};
  cases["Transpose"] = {
      {{{2, 3, 4}}, {Axes("p", {2, 0, 1}), MakeNode("y", "Transpose", {"x0", "p"})}, {"y"}}};
  cases["ConcatV2"] = {
      {{{2, 1}, {2, 3}}, {Int("a", 1), MakeNode("y", "ConcatV2", {"x0", "x1", "a"})}, {"y"}},
      // An axis counted from the end (keras.layers.concatenate's default -1).
      {{{2, 1}, {2, 3}}, {Int("a", -1), MakeNode("y", "ConcatV2", {"x0", "x1", "a"})}, {"y"}}};
  cases["Pack"] = {
      {{{2, 3}, {2, 3}}, {MakeNode("y", "Pack", {"x0", "x1"}, {{"axis", I(1)}})}, {"y"}}};
  cases["Unpack"] = {{{{2, 3}},
                      {MakeNode("y", "Unpack", {"x0"}, {{"num", I(3)}, {"axis", I(1)}})},
                      {"y:0", "y:2"}}};
  cases["Split"] = {{{{4, 2}},
                     {Int("a", 0), MakeNode("y", "Split", {"a", "x0"}, {{"num_split", I(2)}})},
                     {"y:0", "y:1"}}};
  cases["SplitV"] = {{{{2, 5}},
                      {Axes("sizes", {1, 4}), Int("a", 1),
                       MakeNode("y", "SplitV", {"x0", "sizes", "a"},
                                {{"num_split", I(2)}, {"Tlen", MakeAttr(DT_INT32)}})},
                      {"y:1"}}};
  cases["Slice"] = {
      {{{3, 4}},
       {Axes("b", {1, 1}), Axes("s", {2, -1}), MakeNode("y", "Slice", {"x0", "b", "s"})},
       {"y"}}};
  cases["Pad"] = {{{{2, 3}},
                   {ConstNode("p", MakeTensor<int32_t>({2, 2}, {1, 0, 2, 1})),
                    MakeNode("y", "Pad", {"x0", "p"})},
                   {"y"}}};
  cases["PadV2"] = {
      {{{2, 3}},
       {ConstNode("p", MakeTensor<int32_t>({2, 2}, {0, 1, 1, 1})),
        ConstNode("v", Tensor::Scalar<double>(3)), MakeNode("y", "PadV2", {"x0", "p", "v"})},
       {"y"}}};
  cases["Tile"] = {{{{2, 3}}, {Axes("m", {2, 3}), MakeNode("y", "Tile", {"x0", "m"})}, {"y"}}};
  cases["ReverseV2"] = {
      {{{2, 3, 2}}, {Axes("a", {0, -1}), MakeNode("y", "ReverseV2", {"x0", "a"})}, {"y"}}};
  cases["ReverseSequence"] = {{{{2, 4, 2}},
                               {ConstNode("n", MakeTensor<int64_t>({2}, {3, 1})),
                                MakeNode("y", "ReverseSequence", {"x0", "n"}, {{"seq_dim", I(1)}})},
                               {"y"}}};
  cases["Select"] = {{{{2, 3}, {2, 3}},
                      {ConstNode("c", MakeTensor<bool>({2}, {true, false})),
                       MakeNode("y", "Select", {"c", "x0", "x1"})},
                      {"y"}}};
  cases["SelectV2"] = {{{{2, 3}, {3}},
                        {ConstNode("c", MakeTensor<bool>({2, 1}, {true, false})),
                         MakeNode("y", "SelectV2", {"c", "x0", "x1"})},
                        {"y"}}};
  GradientCase cast{{{2, 3}},
                    {MakeNode("f", "Cast", {"x0"}, {{"DstT", MakeAttr(DT_FLOAT)}}),
                     MakeNode("y", "Cast", {"f"}, {{"DstT", MakeAttr(DT_DOUBLE)}})},
                    {"y"}};
  cast.eps = 1e-2;  // the float round trip is linear but coarse
  cast.tolerance = 1e-4;
  cases["Cast"] = {cast};
  cases["SoftmaxCrossEntropyWithLogits"] = {
      {{{3, 4}, {3, 4}}, {MakeNode("y", "SoftmaxCrossEntropyWithLogits", {"x0", "x1"})}, {"y:0"}}};
  cases["SparseSoftmaxCrossEntropyWithLogits"] = {
      {{{3, 4}},
       {ConstNode("labels", MakeTensor<int64_t>({3}, {0, 3, 1})),
        MakeNode("y", "SparseSoftmaxCrossEntropyWithLogits", {"x0", "labels"})},
       {"y:0"}}};
  for (bool exclusive : {false, true}) {
    for (bool reverse : {false, true}) {
      for (const char* op : {"Cumsum", "Cumprod"}) {
        cases[op].push_back(
            {{{3, 4}},
             {Int("a", 1), MakeNode("y", op, {"x0", "a"},
                                    {{"exclusive", B(exclusive)}, {"reverse", B(reverse)}})},
             {"y"}});
      }
    }
  }
  cases["ReluGrad"] = {{{{2, 3}, {2, 3}}, {MakeNode("y", "ReluGrad", {"x0", "x1"})}, {"y"}}};
  cases["L2Loss"] = {{{{2, 3}}, {MakeNode("y", "L2Loss", {"x0"})}, {"y"}}};
  cases["StridedSlice"] = {
      {{{4, 5}},
       {Axes("b", {1, -1}), Axes("e", {4, 0}), Axes("s", {2, -2}),
        MakeNode("y", "StridedSlice", {"x0", "b", "e", "s"})},
       {"y"}},
      {{{3, 4}},
       {Axes("b", {1}), Axes("e", {2}), Axes("s", {1}),
        MakeNode("y", "StridedSlice", {"x0", "b", "e", "s"}, {{"shrink_axis_mask", I(1)}})},
       {"y"}}};
  for (int axis : {0, 1}) {
    cases["GatherV2"].push_back({{{4, 3}},
                                 {ConstNode("i", MakeTensor<int32_t>({2, 2}, {2, 0, 2, 1})),
                                  Int("a", axis), MakeNode("y", "GatherV2", {"x0", "i", "a"})},
                                 {"y"}});
  }
  cases["UnsortedSegmentSum"] = {
      {{{5, 2}},
       {ConstNode("ids", MakeTensor<int32_t>({5}, {1, 0, 1, 3, 1})), Int("n", 4),
        MakeNode("y", "UnsortedSegmentSum", {"x0", "ids", "n"})},
       {"y"}}};
  for (bool ax : {false, true}) {
    for (bool ay : {false, true}) {
      TensorShape xs = ax ? TensorShape{2, 3, 2} : TensorShape{2, 2, 3};
      TensorShape ys = ay ? TensorShape{2, 4, 3} : TensorShape{2, 3, 4};
      AttrMapInit adj{{"adj_x", B(ax)}, {"adj_y", B(ay)}};
      cases["BatchMatMul"].push_back(
          {{xs, ys}, {MakeNode("y", "BatchMatMul", {"x0", "x1"}, adj)}, {"y"}});
    }
  }
  cases["BatchMatMulV2"] = {
      {{{2, 2, 3}, {3, 4}}, {MakeNode("y", "BatchMatMulV2", {"x0", "x1"})}, {"y"}},
      {{{3, 1, 2, 3}, {2, 4, 3}},
       {MakeNode("y", "BatchMatMulV2", {"x0", "x1"}, {{"adj_y", B(true)}})},
       {"y"}}};
  cases["Fill"] = {{{{}}, {Axes("d", {2, 3}), MakeNode("y", "Fill", {"d", "x0"})}, {"y"}}};
  WindowCases(&cases);
  cases["LRN"] = {{{{2, 2, 3, 7}},
                   {MakeNode("y", "LRN", {"x0"},
                             {{"depth_radius", I(2)},
                              {"bias", MakeAttr(1.5f)},
                              {"alpha", MakeAttr(0.25f)},
                              {"beta", MakeAttr(0.75f)}})},
                   {"y"}}};
  // The activations' gradient ops, away from their kinks (x in (0.1, 5.9) or (-3, -0.1)).
  for (const char* op : {"Relu6Grad", "LeakyReluGrad", "EluGrad", "SeluGrad", "SoftplusGrad"}) {
    for (double sign : {1.0, -1.0}) {
      GradientCase c{{{2, 3}, {2, 3}},
                     {ConstNode("s", Tensor::Scalar<double>(sign)),
                      MakeNode("v", "Mul", {"x1", "s"}), MakeNode("y", op, {"x0", "v"})},
                     {"y"}};
      c.low = 0.1;
      c.high = 2.9;
      cases[op].push_back(c);
    }
  }
  for (const char* op : {"SpaceToDepth", "DepthToSpace"}) {
    const bool to_depth = std::string(op) == "SpaceToDepth";
    for (const char* format : {"NHWC", "NCHW"}) {
      const bool nchw = std::string(format) == "NCHW";
      TensorShape x = to_depth ? (nchw ? TensorShape{2, 3, 4, 6} : TensorShape{2, 4, 6, 3})
                               : (nchw ? TensorShape{2, 8, 2, 3} : TensorShape{2, 2, 3, 8});
      cases[op].push_back(
          {{x},
           {MakeNode("y", op, {"x0"}, {{"block_size", I(2)}, {"data_format", MakeAttr(format)}})},
           {"y"}});
    }
  }
  // Resizing is linear in the image, so wide finite differences are exact: they keep
  // ResizeBilinear's float output's rounding out of the comparison.
  for (bool align : {false, true}) {
    for (bool half : {false, true}) {
      if (align && half) continue;
      AttrMapInit attrs{{"align_corners", B(align)}, {"half_pixel_centers", B(half)}};
      GradientCase bilinear{
          {{2, 3, 4, 2}},
          {Axes("size", {5, 3}), MakeNode("r", "ResizeBilinear", {"x0", "size"}, attrs),
           MakeNode("y", "Cast", {"r"}, {{"DstT", MakeAttr(DT_DOUBLE)}})},
          {"y"}};
      bilinear.eps = 1e-2;
      bilinear.tolerance = 1e-4;
      cases["ResizeBilinear"].push_back(bilinear);
      cases["ResizeNearestNeighbor"].push_back(
          {{{2, 3, 4, 2}},
           {Axes("size", {5, 3}), MakeNode("y", "ResizeNearestNeighbor", {"x0", "size"}, attrs)},
           {"y"}});
    }
  }
  // Batch norm: training (batch statistics; empty mean and variance) and inference (given
  // statistics), both formats; only x, scale and offset have gradients.
  for (const char* op : {"FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3"}) {
    for (bool training : {true, false}) {
      const bool nchw = std::string(op) == "FusedBatchNormV2";
      TensorShape x = nchw ? TensorShape{2, 3, 2, 2} : TensorShape{2, 2, 2, 3};
      Tensor mean =
          training ? MakeTensor<double>({0}, {}) : MakeTensor<double>({3}, {0.3, -0.2, 0.1});
      Tensor var =
          training ? MakeTensor<double>({0}, {}) : MakeTensor<double>({3}, {0.5, 1.5, 2.0});
      cases[op].push_back({{x, {3}, {3}},
                           {ConstNode("m", mean), ConstNode("v", var),
                            MakeNode("y", op, {"x0", "x1", "x2", "m", "v"},
                                     {{"is_training", B(training)},
                                      {"epsilon", MakeAttr(0.01f)},
                                      {"data_format", MakeAttr(nchw ? "NCHW" : "NHWC")}})},
                           {"y"}});
    }
  }
  // A fused LSTM step, with and without peepholes: the gradients of cs and h.
  for (bool peephole : {true, false}) {
    cases["LSTMBlockCell"].push_back(
        {{{2, 3}, {2, 4}, {2, 4}, {7, 16}, {4}, {4}, {4}, {16}},
         {MakeNode("y", "LSTMBlockCell", {"x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7"},
                   {{"use_peephole", B(peephole)},
                    {"cell_clip", MakeAttr(-1.0f)},
                    {"forget_bias", MakeAttr(0.5f)}})},
         {"y:1", "y:6"}});
  }
  // TensorArrays: values written, scattered or split into an array, then read back.
  const AttrMapInit f64{{"dtype", MakeAttr(DT_DOUBLE)}};
  const AttrMapInit kept{{"dtype", MakeAttr(DT_DOUBLE)}, {"clear_after_read", B(false)}};
  const std::vector<NodeDef> array = {Int("n", 2), MakeNode("ta", "TensorArrayV3", {"n"}, kept),
                                      Int("i0", 0), Int("i1", 1)};
  auto with_array = [&](std::vector<NodeDef> nodes) {
    nodes.insert(nodes.begin(), array.begin(), array.end());
    return nodes;
  };
  GradientCase written{
      {{2, 3}, {2, 3}},
      with_array({MakeNode("put0", "TensorArrayWriteV3", {"ta", "i0", "x0", "ta:1"}),
                  MakeNode("put1", "TensorArrayWriteV3", {"ta", "i1", "x1", "put0"}),
                  MakeNode("y", "TensorArrayReadV3", {"ta", "i1", "put1"}, f64),
                  Axes("order", {1, 0}),
                  MakeNode("z", "TensorArrayGatherV3", {"ta", "order", "put1"}, f64)}),
      {"y", "z"}};
  cases["TensorArrayWriteV3"] = {written};
  cases["TensorArrayReadV3"] = {written};
  cases["TensorArrayGatherV3"] = {written};
  cases["TensorArrayScatterV3"] = {
      {{{2, 3}},
       with_array({Axes("rows", {1, 0}),
                   MakeNode("s", "TensorArrayScatterV3", {"ta", "rows", "x0", "ta:1"}),
                   MakeNode("y", "TensorArrayReadV3", {"ta", "i0", "s"}, f64)}),
       {"y"}}};
  GradientCase split{
      {{3, 2}},
      with_array({ConstNode("lengths", Tensor::Vector<int64_t>({1, 2})),
                  MakeNode("s", "TensorArraySplitV3", {"ta", "x0", "lengths", "ta:1"}),
                  MakeNode("y", "TensorArrayConcatV3", {"ta", "s"}, f64)}),
      {"y"}};
  cases["TensorArraySplitV3"] = {split};
  cases["TensorArrayConcatV3"] = {split};
  // A conditional: Switch on a constant predicate, a different function on each side,
  // Merge. Either way only the taken side's gradient reaches x.
  for (bool pred : {true, false}) {
    GradientCase conditional{
        {{2, 3}},
        {ConstNode("p", MakeTensor<bool>({}, {pred})), MakeNode("s", "Switch", {"x0", "p"}),
         MakeNode("t", "Square", {"s:1"}), MakeNode("f", "Neg", {"s"}),
         MakeNode("y", "Merge", {"f", "t"})},
        {"y"}};
    cases["Switch"].push_back(conditional);
    cases["Merge"].push_back(conditional);
  }
  return cases;
}

TEST(Gradients, EveryDifferentiableOpMatchesFiniteDifferences) {
  auto cases = Cases();
  std::set<std::string> missing;
  for (const OpRegistration* reg : OpRegistry::Global()->All()) {
    if (reg->differentiable && !cases.count(reg->op_def.name())) missing.insert(reg->op_def.name());
  }
  EXPECT_TRUE(missing.empty()) << "differentiable ops without a gradient test: "
                               << absl::StrJoin(missing, ", ");
  for (const auto& [op, op_cases] : cases) {
    auto reg = OpRegistry::Global()->LookUp(op);
    ASSERT_TRUE(reg.ok()) << op;
    if (op == "StopGradient") continue;  // checked below: it blocks gradients
    EXPECT_TRUE((*reg)->differentiable) << op << " has a case but is not differentiable";
    for (size_t k = 0; k < op_cases.size(); ++k) {
      SCOPED_TRACE(op + " case " + std::to_string(k));
      CheckGradient(op_cases[k]);
    }
  }
}

// y = v after three iterations of v <- tanh(v) * w + v / 2 (v from x0, w = x1 an invariant),
// as TensorFlow's while loop graphs are: the gradient builds a backward loop that pops
// the forward values, and the invariant's gradient adds up over the iterations.
TEST(AddGradients, WhileLoopsMatchFiniteDifferences) {
  auto enter = [](const std::string& name, const std::string& input, bool constant) {
    return MakeNode(name, "Enter", {input},
                    {{"frame_name", MakeAttr("loop")}, {"is_constant", B(constant)}});
  };
  NodeDef one = Int("one", 1);
  one.add_input("^i");  // in the loop's frame
  GradientCase loop{{{3}, {3}},
                    {Int("zero", 0),
                     Int("limit", 3),
                     ConstNode("half", Tensor::Scalar<double>(0.5)),
                     enter("enter_i", "zero", false),
                     enter("enter_v", "x0", false),
                     enter("enter_w", "x1", true),
                     enter("enter_limit", "limit", true),
                     enter("enter_half", "half", true),
                     MakeNode("merge_i", "Merge", {"enter_i", "next_i"}),
                     MakeNode("merge_v", "Merge", {"enter_v", "next_v"}),
                     MakeNode("less", "Less", {"merge_i", "enter_limit"}),
                     MakeNode("cond", "LoopCond", {"less"}),
                     MakeNode("switch_i", "Switch", {"merge_i", "cond"}),
                     MakeNode("switch_v", "Switch", {"merge_v", "cond"}),
                     MakeNode("exit_i", "Exit", {"switch_i"}),
                     MakeNode("exit_v", "Exit", {"switch_v"}),
                     MakeNode("i", "Identity", {"switch_i:1"}),
                     MakeNode("v", "Identity", {"switch_v:1"}),
                     one,
                     MakeNode("i_plus_one", "AddV2", {"i", "one"}),
                     MakeNode("next_i", "NextIteration", {"i_plus_one"}),
                     MakeNode("tanh", "Tanh", {"v"}),
                     MakeNode("scaled", "Mul", {"tanh", "enter_w"}),
                     MakeNode("halved", "Mul", {"v", "enter_half"}),
                     MakeNode("sum", "AddV2", {"scaled", "halved"}),
                     MakeNode("next_v", "NextIteration", {"sum"}),
                     MakeNode("y", "Identity", {"exit_v"})},
                    {"y"}};
  CheckGradient(loop);
}

REGISTER_OP("TestOnlyWithoutGradient").Input("x: double").Output("y: double");

TEST(AddGradients, AnOpWithoutAGradientOnThePathIsAnError) {
  auto graph = Graph::FromGraphDef(testing::MakeGraph(
      {testing::PlaceholderNode("x", DT_DOUBLE), MakeNode("y", "TestOnlyWithoutGradient", {"x"}),
       MakeNode("z", "Square", {"y"})}));
  ASSERT_TRUE(graph.ok()) << graph.status();
  const int before = (*graph)->num_node_ids();
  auto grads = AddGradients(graph->get(), {{(*graph)->FindNode("z"), 0}},
                            {{(*graph)->FindNode("x"), 0}}, {});
  EXPECT_STATUS(grads.status(), absl::StatusCode::kUnimplemented,
                "no gradient is defined for op 'TestOnlyWithoutGradient'",
                "[[node y (TestOnlyWithoutGradient)]]");
  EXPECT_EQ((*graph)->num_nodes(), before);  // all or nothing
}

TEST(AddGradients, UnconnectedXsAndIntegerPathsGiveNoGradient) {
  auto graph = Graph::FromGraphDef(testing::MakeGraph(
      {testing::PlaceholderNode("x", DT_DOUBLE), testing::PlaceholderNode("other", DT_DOUBLE),
       MakeNode("i", "Cast", {"x"}, {{"DstT", MakeAttr(DT_INT32)}}),
       MakeNode("back", "Cast", {"i"}, {{"DstT", MakeAttr(DT_DOUBLE)}}),
       MakeNode("z", "Square", {"back"})}));
  ASSERT_TRUE(graph.ok()) << graph.status();
  auto grads = AddGradients(graph->get(), {{(*graph)->FindNode("z"), 0}},
                            {{(*graph)->FindNode("x"), 0}, {(*graph)->FindNode("other"), 0}}, {});
  ASSERT_TRUE(grads.ok()) << grads.status();
  EXPECT_FALSE((*grads)[0].valid());  // through an integer cast
  EXPECT_FALSE((*grads)[1].valid());  // not connected at all
}

}  // namespace
}  // namespace runnel
