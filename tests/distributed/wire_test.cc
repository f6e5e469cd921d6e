// The message decoder accepts exactly what the encoder writes and rejects, with an error,
// anything a peer could get wrong: frame counts, sizes, dtypes, shapes.
#include "distributed/wire.h"

#include <cstring>

#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace runnel {
namespace {

// The frames of an encoded message, each in its own heap buffer as ZeroMQ would hand them.
std::vector<Frame> ToFrames(const EncodedMessage& encoded) {
  std::vector<Frame> frames;
  auto add = [&](const void* data, size_t size) {
    auto buffer = std::shared_ptr<char>(new char[size + 1], std::default_delete<char[]>());
    if (size > 0) std::memcpy(buffer.get(), data, size);
    frames.push_back(Frame{buffer.get(), size, buffer});
  };
  add(encoded.envelope.data(), encoded.envelope.size());
  for (const Tensor& t : encoded.tensors) {
    if (t.IsInitialized() && t.dtype() != DT_STRING) {
      add(t.raw_data(), t.TotalBytes());
    } else {
      add(nullptr, 0);
    }
  }
  return frames;
}

std::vector<Frame> EncodeFrames(Message message) {
  absl::StatusOr<EncodedMessage> encoded = Encode(std::move(message));
  EXPECT_TRUE(encoded.ok()) << encoded.status();
  return ToFrames(*encoded);
}

Message TwoTensors() {
  Message m;
  m.envelope.mutable_run_graph()->set_graph_handle("g");
  m.tensors.push_back(testing::MakeTensor<float>({2, 3}, {1, 2, 3, 4, 5, 6}));
  Tensor s(DT_STRING, TensorShape({2}));
  s.data<std::string>()[0] = "a";
  s.data<std::string>()[1] = std::string(3, '\0');
  m.tensors.push_back(s);
  return m;
}

TEST(Wire, RoundTripKeepsValuesStringsAndDeadness) {
  Message m = TwoTensors();
  m.tensors.emplace_back();
  m.is_dead = {false, false, true};
  absl::StatusOr<Message> decoded = Decode(EncodeFrames(std::move(m)));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  ASSERT_EQ(decoded->tensors.size(), 3u);
  EXPECT_EQ(decoded->envelope.run_graph().graph_handle(), "g");
  EXPECT_EQ(decoded->tensors[0].DebugString(), "float [2,3] 1 2 3 4 5 6");
  EXPECT_EQ(decoded->tensors[1].data<std::string>()[1], std::string(3, '\0'));
  EXPECT_EQ(decoded->is_dead, (std::vector<bool>{false, false, true}));
}

TEST(Wire, AlignedFrameBecomesTheTensorsBuffer) {
  std::vector<Frame> frames = EncodeFrames(TwoTensors());
  const void* data = frames[1].data;
  absl::StatusOr<Message> decoded = Decode(frames);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->tensors[0].raw_data(), data);  // no copy
}

TEST(Wire, MisalignedFrameIsCopied) {
  std::vector<Frame> frames = EncodeFrames(TwoTensors());
  auto buffer = std::shared_ptr<char>(new char[64], std::default_delete<char[]>());
  std::memcpy(buffer.get() + 1, frames[1].data, frames[1].size);
  frames[1] = Frame{buffer.get() + 1, frames[1].size, buffer};
  absl::StatusOr<Message> decoded = Decode(frames);
  ASSERT_TRUE(decoded.ok());
  EXPECT_NE(decoded->tensors[0].raw_data(), frames[1].data);
  EXPECT_EQ(decoded->tensors[0].DebugString(), "float [2,3] 1 2 3 4 5 6");
}

// Each case changes an encoded message the way a broken or hostile peer might.
struct Corruption {
  const char* name;
  std::function<void(std::vector<Frame>*)> apply;
  const char* error;
};

TEST(Wire, RejectsMalformedMessages) {
  auto envelope_edit = [](std::function<void(Envelope*)> edit) {
    return [edit](std::vector<Frame>* frames) {
      Envelope e;
      ASSERT_TRUE(e.ParseFromArray((*frames)[0].data, static_cast<int>((*frames)[0].size)));
      edit(&e);
      auto text = std::make_shared<std::string>(e.SerializeAsString());
      (*frames)[0] = Frame{text->data(), text->size(), text};
    };
  };
  const std::vector<Corruption> cases = {
      {"no frames", [](std::vector<Frame>* f) { f->clear(); }, "empty message"},
      {"garbage envelope",
       [](std::vector<Frame>* f) {
         static const char junk[] = "\xff\xff\xff\xff";
         (*f)[0] = Frame{junk, 4, nullptr};
       },
       "does not parse"},
      {"missing data frame", [](std::vector<Frame>* f) { f->pop_back(); }, "2 tensors but has 1"},
      {"short data frame", [](std::vector<Frame>* f) { (*f)[1].size -= 4; }, "needs 24 bytes"},
      {"negative dimension", envelope_edit([](Envelope* e) {
         e->mutable_tensors(0)->mutable_shape()->mutable_dim(0)->set_size(-2);
       }),
       "negative"},
      {"huge shape", envelope_edit([](Envelope* e) {
         for (int i = 0; i < 3; ++i)
           e->mutable_tensors(0)->mutable_shape()->add_dim()->set_size(1 << 30);
       }),
       "too many elements"},
      {"reference dtype",
       envelope_edit([](Envelope* e) { e->mutable_tensors(0)->set_dtype(DT_FLOAT_REF); }),
       "unsupported dtype"},
      {"unknown dtype", envelope_edit([](Envelope* e) {
         e->mutable_tensors(0)->set_dtype(static_cast<DataType>(77));
       }),
       "unsupported dtype"},
      {"strings that disagree with the shape", envelope_edit([](Envelope* e) {
         e->mutable_tensors(1)->mutable_shape()->mutable_dim(0)->set_size(5);
       }),
       "do not match"},
      {"dead tensor with data",
       envelope_edit([](Envelope* e) { e->mutable_tensors(0)->set_is_dead(true); }),
       "dead but has data"},
  };
  for (const Corruption& c : cases) {
    std::vector<Frame> frames = EncodeFrames(TwoTensors());
    c.apply(&frames);
    absl::StatusOr<Message> decoded = Decode(frames);
    ASSERT_FALSE(decoded.ok()) << c.name;
    EXPECT_TRUE(absl::IsInvalidArgument(decoded.status())) << c.name << ": " << decoded.status();
    EXPECT_NE(decoded.status().message().find(c.error), std::string::npos)
        << c.name << ": " << decoded.status();
  }
}

TEST(Wire, LimitsBoundEnvelopeAndTensorSizes) {
  WireLimits small;
  small.max_tensor_bytes = 16;
  absl::StatusOr<Message> decoded = Decode(EncodeFrames(TwoTensors()), small);
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.status().message().find("larger than 16 bytes"), std::string::npos);
  small = WireLimits();
  small.max_envelope_bytes = 4;
  EXPECT_FALSE(Decode(EncodeFrames(TwoTensors()), small).ok());
}

TEST(Wire, StatusCodesSurviveAndUnknownCodesAreUnknown) {
  Envelope e;
  SetStatus(absl::UnavailableError("ps gone"), &e);
  EXPECT_EQ(StatusOf(e), absl::UnavailableError("ps gone"));
  e.set_status_code(999);
  EXPECT_EQ(StatusOf(e).code(), absl::StatusCode::kUnknown);
}

}  // namespace
}  // namespace runnel
