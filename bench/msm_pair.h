// The mentoring_pair lifecycle hand-written as a Boost.MSM machine: the
// compiled baseline bench/dispatch compares our interpreter against.
// Kept behind this small interface so that MSM's heavy headers compile once.
#pragma once

#include <memory>

namespace mentorflow::bench {

class MsmPair {
 public:
  MsmPair();
  ~MsmPair();
  // Runs the scripted lifecycle (the same ten events as the interpreter's
  // run) from a fresh start; returns the number of events the machine took.
  int RunLifecycle();
  int state() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mentorflow::bench
