// Runs the libFuzzer target (wire_fuzzer.cc) on mutations of valid messages in every
// test run: the decoder must return, with a value or an error, for each.
#include <random>

#include "distributed/wire.h"
#include "gtest/gtest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace runnel {
namespace {

// A valid message in the fuzzer's input format.
std::vector<uint8_t> Seed() {
  Message m;
  m.envelope.mutable_recv_tensor()->set_rendezvous_key("a;b");
  Tensor t(DT_FLOAT, TensorShape({3}));
  for (int i = 0; i < 3; ++i) t.data<float>()[i] = static_cast<float>(i);
  m.tensors.push_back(t);
  Tensor s(DT_STRING, TensorShape({1}));
  s.data<std::string>()[0] = "x";
  m.tensors.push_back(s);
  EncodedMessage encoded = Encode(std::move(m)).value();
  std::vector<uint8_t> out{3};
  auto add = [&](const void* p, size_t n) {
    out.push_back(n & 0xff);
    out.push_back(n >> 8);
    const uint8_t* b = static_cast<const uint8_t*>(p);
    out.insert(out.end(), b, b + n);
  };
  add(encoded.envelope.data(), encoded.envelope.size());
  add(encoded.tensors[0].raw_data(), encoded.tensors[0].TotalBytes());
  add(nullptr, 0);
  return out;
}

TEST(WireFuzz, SeedDecodes) {
  std::vector<uint8_t> seed = Seed();
  EXPECT_EQ(LLVMFuzzerTestOneInput(seed.data(), seed.size()), 0);
}

TEST(WireFuzz, MutatedMessagesDecodeOrFailCleanly) {
  const std::vector<uint8_t> seed = Seed();
  std::mt19937 rng(7);
  for (int round = 0; round < 20000; ++round) {
    std::vector<uint8_t> input = seed;
    const int edits = 1 + rng() % 8;
    for (int e = 0; e < edits; ++e) {
      switch (rng() % 4) {
        case 0:
          input[rng() % input.size()] = static_cast<uint8_t>(rng());
          break;
        case 1:
          input.resize(rng() % (input.size() + 1));
          break;
        case 2:
          input.insert(input.begin() + rng() % (input.size() + 1), rng() % 4, 0xff);
          break;
        default:
          if (!input.empty()) input[rng() % input.size()] ^= 1 << (rng() % 8);
      }
      if (input.empty()) input.push_back(0);
    }
    ASSERT_EQ(LLVMFuzzerTestOneInput(input.data(), input.size()), 0);
  }
}

}  // namespace
}  // namespace runnel
