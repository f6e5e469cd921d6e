#include "runtime/local_rendezvous.h"

#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace runnel {
namespace {

struct Received {
  int calls = 0;
  absl::Status status;
  Tensor value;
  bool is_dead = false;
  Rendezvous::DoneCallback Callback() {
    return [this](const absl::Status& s, const Tensor& v, bool dead) {
      ++calls;
      status = s;
      value = v;
      is_dead = dead;
    };
  }
};

TEST(LocalRendezvous, ValueMeetsItsReceiverWhicheverComesFirst) {
  LocalRendezvous rendezvous;
  Received early, late;
  rendezvous.RecvAsync("a", early.Callback());
  EXPECT_EQ(early.calls, 0);
  ASSERT_TRUE(rendezvous.Send("a", Tensor::Scalar<float>(1), false).ok());
  ASSERT_TRUE(rendezvous.Send("b", Tensor::Scalar<float>(2), true).ok());
  rendezvous.RecvAsync("b", late.Callback());
  EXPECT_EQ(early.calls, 1);
  EXPECT_EQ(early.value.data<float>()[0], 1);
  EXPECT_EQ(late.calls, 1);
  EXPECT_EQ(late.value.data<float>()[0], 2);
  EXPECT_TRUE(late.is_dead);
}

TEST(LocalRendezvous, SecondReceiveIsAnErrorNotAHang) {
  LocalRendezvous rendezvous;
  Received first, second, third;
  rendezvous.RecvAsync("k", first.Callback());
  rendezvous.RecvAsync("k", second.Callback());  // while the first waits
  EXPECT_EQ(second.calls, 1);
  EXPECT_STATUS(second.status, absl::StatusCode::kInternal, "'k' was received twice");
  ASSERT_TRUE(rendezvous.Send("k", Tensor::Scalar<float>(3), false).ok());
  EXPECT_EQ(first.calls, 1);
  EXPECT_TRUE(first.status.ok());
  rendezvous.RecvAsync("k", third.Callback());  // after the value was taken
  EXPECT_EQ(third.calls, 1);
  EXPECT_STATUS(third.status, absl::StatusCode::kInternal, "'k' was received twice");
}

TEST(LocalRendezvous, SecondSendIsAnError) {
  LocalRendezvous rendezvous;
  ASSERT_TRUE(rendezvous.Send("k", Tensor::Scalar<float>(1), false).ok());
  EXPECT_STATUS(rendezvous.Send("k", Tensor::Scalar<float>(1), false), absl::StatusCode::kInternal,
                "'k' was sent twice");
}

TEST(LocalRendezvous, AbortWakesTheWaitersAndFailsLaterCalls) {
  LocalRendezvous rendezvous;
  Received waiting, later;
  rendezvous.RecvAsync("k", waiting.Callback());
  rendezvous.StartAbort(absl::CancelledError("step failed"));
  EXPECT_EQ(waiting.calls, 1);
  EXPECT_STATUS(waiting.status, absl::StatusCode::kCancelled, "step failed");
  rendezvous.RecvAsync("j", later.Callback());
  EXPECT_STATUS(later.status, absl::StatusCode::kCancelled, "step failed");
  EXPECT_STATUS(rendezvous.Send("j", Tensor(), false), absl::StatusCode::kCancelled, "step failed");
}

}  // namespace
}  // namespace runnel
