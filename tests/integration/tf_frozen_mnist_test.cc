// A frozen TensorFlow 1.x MLP (../shared/data/tf-frozen/mnist_mlp.pb), loaded through the
// C++ API and run on the MNIST test set: accuracy and logits must match the reference
// results in ../shared/data/README.md.
#include <zlib.h>

#include <fstream>

#include "gtest/gtest.h"
#include "runtime/direct_session.h"

namespace runnel {
namespace {

const std::string kData = RUNNEL_SHARED_DATA_DIR;

std::string ReadGzip(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) return "";
  std::string out;
  char buf[1 << 16];
  for (int n; (n = gzread(f, buf, sizeof(buf))) > 0;) out.append(buf, n);
  gzclose(f);
  return out;
}

class FrozenMnist : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ifstream pb(kData + "/tf-frozen/mnist_mlp.pb", std::ios::binary);
    if (!pb) GTEST_SKIP() << "shared test data not found at " << kData << " (../shared is absent)";
    std::string bytes((std::istreambuf_iterator<char>(pb)), std::istreambuf_iterator<char>());
    ASSERT_TRUE(graph_.ParseFromString(bytes));
    images_ = ReadGzip(kData + "/mnist/mnist-t10k-images-idx3-ubyte.gz");
    labels_ = ReadGzip(kData + "/mnist/mnist-t10k-labels-idx1-ubyte.gz");
    ASSERT_EQ(images_.size(), 16u + 10000 * 784);
    ASSERT_EQ(labels_.size(), 8u + 10000);
  }

  Tensor Batch(int begin, int count) {
    Tensor t(DT_FLOAT, TensorShape{count, 784});
    for (int64_t i = 0; i < count * 784; ++i) {
      t.data<float>()[i] = static_cast<uint8_t>(images_[16 + begin * 784 + i]) / 255.0f;
    }
    return t;
  }

  GraphDef graph_;
  std::string images_, labels_;
};

TEST_F(FrozenMnist, ReferenceLogitsOfImageZero) {
  auto session = DirectSession::Create(graph_);
  ASSERT_TRUE(session.ok()) << session.status();
  std::vector<Tensor> out;
  ASSERT_TRUE(
      (*session)->Run({{"Placeholder", Batch(0, 1)}}, {"softmax_linear/add"}, {}, &out).ok());
  const float expected[] = {1.6687f, -3.312f,  -0.2258f, 2.886f,   -2.2692f,
                            -0.228f, -4.3163f, 8.8935f,  -0.6836f, 4.0283f};
  ASSERT_EQ(out[0].shape(), TensorShape({1, 10}));
  for (int k = 0; k < 10; ++k) EXPECT_NEAR(out[0].data<float>()[k], expected[k], 1e-3) << k;
}

TEST_F(FrozenMnist, AccuracyOnTheTestSetWithAnyBatchSize) {
  auto session = DirectSession::Create(graph_);
  ASSERT_TRUE(session.ok()) << session.status();
  for (int batch : {100, 137, 10000}) {
    int correct = 0;
    for (int begin = 0; begin < 10000; begin += batch) {
      int count = std::min(batch, 10000 - begin);
      std::vector<Tensor> out;
      ASSERT_TRUE(
          (*session)
              ->Run({{"Placeholder", Batch(begin, count)}}, {"softmax_linear/add"}, {}, &out)
              .ok());
      for (int i = 0; i < count; ++i) {
        const float* row = out[0].data<float>() + i * 10;
        int best = static_cast<int>(std::max_element(row, row + 10) - row);
        correct += best == static_cast<uint8_t>(labels_[8 + begin + i]);
      }
    }
    EXPECT_EQ(correct, 8989) << "batch " << batch;
  }
}

}  // namespace
}  // namespace runnel
