#include "storage/watchdog.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <spdlog/spdlog.h>

#include <utility>

namespace mentorflow::storage {
namespace {

// How often the socket is looked at.
constexpr std::chrono::milliseconds kPoll{250};

bool IsTcp(int fd) {
  tcp_info info{};
  socklen_t len = sizeof info;
  return fd >= 0 && ::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) == 0;
}

}  // namespace

Watchdog::Watchdog(int fd, std::function<bool()> busy, std::chrono::milliseconds bound)
    : fd_(fd), busy_(std::move(busy)), bound_(bound) {
  if (IsTcp(fd_)) thread_ = std::thread([this] { Run(); });
}

Watchdog::~Watchdog() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Watchdog::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!cv_.wait_for(lock, kPoll, [this] { return stop_; })) {
    tcp_info info{};
    socklen_t len = sizeof info;
    if (::getsockopt(fd_, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) return;
    // Milliseconds since data last went out and since it last came in.
    const auto since_sent = std::chrono::milliseconds(info.tcpi_last_data_sent);
    const auto since_received = std::chrono::milliseconds(info.tcpi_last_data_recv);
    if (since_sent > bound_ && since_received > bound_ && busy_()) {
      spdlog::error("storage: the database server has not answered for {} s (statement_timeout in --db, plus a"
                    " margin); giving up on the connection",
                    since_sent.count() / 1000);
      fired_ = true;
      ::shutdown(fd_, SHUT_RDWR);
      return;
    }
  }
}

}  // namespace mentorflow::storage
