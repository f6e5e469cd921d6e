#include "core/cancellation.h"

#include <thread>

#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace runnel {
namespace {

TEST(CancellationManager, CallbacksRunOnceAndLateRegistrationsAreRefused) {
  CancellationManager cm;
  int calls = 0;
  absl::Status seen;
  CancellationManager::Token a, b, c;
  ASSERT_TRUE(cm.Register(&a, [&](const absl::Status& s) { ++calls, seen = s; }));
  ASSERT_TRUE(cm.Register(&b, [&](const absl::Status&) { ++calls; }));
  cm.Deregister(b);  // gone: will not run
  cm.StartCancel(absl::InvalidArgumentError("partition 1 failed"));
  cm.StartCancel(absl::InternalError("again"));  // ignored
  EXPECT_EQ(calls, 1);
  EXPECT_STATUS(seen, absl::StatusCode::kInvalidArgument, "partition 1 failed");
  EXPECT_TRUE(cm.IsCancelled());
  EXPECT_FALSE(cm.Register(&c, [&](const absl::Status&) { ++calls; }));
  cm.Deregister(a);  // after the cancellation: returns at once
}

TEST(CancellationManager, DeregisterFromInsideACallbackDoesNotWaitForItself) {
  CancellationManager cm;
  CancellationManager::Token first, second;
  bool second_ran = false;
  ASSERT_TRUE(cm.Register(&first, [&](const absl::Status&) { cm.Deregister(second); }));
  ASSERT_TRUE(cm.Register(&second, [&](const absl::Status&) { second_ran = true; }));
  cm.StartCancel(absl::CancelledError("stop"));  // would hang if Deregister waited
  EXPECT_TRUE(second_ran);  // taken for running before the first callback deregistered it
}

TEST(CancellationManager, DeregisterWaitsForACallbackRunningElsewhere) {
  CancellationManager cm;
  CancellationManager::Token token;
  std::atomic<bool> inside{false}, finished{false};
  ASSERT_TRUE(cm.Register(&token, [&](const absl::Status&) {
    inside = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    finished = true;
  }));
  std::thread canceller([&] { cm.StartCancel(absl::CancelledError("stop")); });
  while (!inside) std::this_thread::yield();
  cm.Deregister(token);
  EXPECT_TRUE(finished);  // it did not return while the callback ran
  canceller.join();
}

}  // namespace
}  // namespace runnel
