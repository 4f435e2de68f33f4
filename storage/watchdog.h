// A client-side bound on every wait for the PostgreSQL server.
//
// statement_timeout and lock_timeout are enforced by the server: a server
// that stops answering (stopped, frozen, cut off behind a firewall that
// drops packets) enforces nothing, and libpq waits in poll() for ever. TCP
// keepalives and the user timeout do not help against a stopped process,
// whose kernel still acknowledges everything. So a thread watches the
// connection: while a command is in progress (`busy`: libpq waits for its
// result) and the socket (TCP_INFO) has had no data in or out for longer
// than `bound` — longer than any statement may run on the server — the
// server is taken for gone and the socket is shut down. libpq's wait then
// ends with an error, the transaction is lost (nothing of it was committed)
// and the command exits 5. An idle connection is never touched.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace mentorflow::storage {

class Watchdog {
 public:
  // `fd`: the connection's socket (not a TCP socket: nothing is watched).
  // `busy`: whether a command is waiting for its result; called from the
  // watchdog's thread, so it must only read a flag.
  Watchdog(int fd, std::function<bool()> busy, std::chrono::milliseconds bound);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // Whether the watchdog gave up on the server (the socket is shut down).
  bool fired() const { return fired_.load(); }
  std::chrono::milliseconds bound() const { return bound_; }

 private:
  void Run();

  const int fd_;
  const std::function<bool()> busy_;
  const std::chrono::milliseconds bound_;
  std::atomic<bool> fired_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace mentorflow::storage
