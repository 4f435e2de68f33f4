// `mentorflow serve` as a test drives it: a server process on a free port
// of loopback, stopped when it goes, and a client that keeps the session
// cookie and the CSRF token it was given (server_test, region_serve_test).
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <regex>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace mentorflow::testing {

using nlohmann::json;

inline int FreePort() {
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t n = sizeof a;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &n);
  ::close(s);
  return ntohs(a.sin_port);
}

// A raw TCP connection to the server on loopback (for requests sent in
// pieces); -1 when it cannot connect.
inline int Connect(int port) {
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(s);
    return -1;
  }
  return s;
}

// One `mentorflow serve` process, stopped (SIGTERM, then SIGKILL) when it goes.
class ServerProcess {
 public:
  ServerProcess(const std::string& db, const std::string& now, std::vector<std::string> extra = {}) {
    port_ = FreePort();
    std::vector<std::string> args = {MENTORFLOW_CLI, "--db", db, "--log-level", "warn", "serve", "--listen",
                                     "127.0.0.1:" + std::to_string(port_), "--workers", "4", "--trust-proxy"};
    if (!now.empty()) args.insert(args.begin() + 3, {"--now", now});
    for (auto& e : extra) args.push_back(e);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, argv[0], nullptr, nullptr, argv.data(), environ) != 0) pid_ = -1;
    httplib::Client c("127.0.0.1", port_);
    for (int i = 0; i < 200 && pid_ > 0; ++i) {
      if (auto r = c.Get("/api/v1/openapi.json"); r && r->status == 200) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "the server did not answer on port " << port_;
  }
  ~ServerProcess() { Stop(); }
  // SIGTERM; the exit status.
  int Stop() {
    if (pid_ <= 0) return status_;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 200; ++i) {
      if (::waitpid(pid_, &status_, WNOHANG) == pid_) {
        pid_ = -1;
        return status_;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status_, 0);
    pid_ = -1;
    return status_;
  }
  int port() const { return port_; }
  void Signal(int sig) const {
    if (pid_ > 0) ::kill(pid_, sig);
  }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  int status_ = -1;
};

struct Answer {
  int status = 0;
  json body;
  std::string text, cookie;
};

// A browser of sorts: the session cookie and the CSRF token it was given.
struct Client {
  const int* port;  // the fixture's: the server may be restarted (with another --now) on another port
  std::string address;  // X-Real-IP: the client's address as the proxy says
  std::string token, csrf;

  httplib::Headers Headers(bool with_csrf) const {
    httplib::Headers h;
    if (!token.empty()) h.emplace("Cookie", "__Host-mf_session=" + token);
    if (with_csrf && !csrf.empty()) h.emplace("X-CSRF-Token", csrf);
    if (!address.empty()) h.emplace("X-Real-IP", address);
    return h;
  }
  static Answer Read(const httplib::Result& r) {
    Answer a;
    if (!r) return a;
    a.status = r->status;
    a.text = r->body;
    a.body = json::parse(r->body, nullptr, false);
    a.cookie = r->get_header_value("Set-Cookie");
    return a;
  }
  Answer Get(const std::string& path) const {
    httplib::Client c("127.0.0.1", *port);
    c.set_read_timeout(60, 0);
    return Read(c.Get(path.c_str(), Headers(false)));
  }
  Answer Post(const std::string& path, const json& body, bool with_csrf = true) const {
    httplib::Client c("127.0.0.1", *port);
    c.set_read_timeout(60, 0);
    return Read(c.Post(path.c_str(), Headers(with_csrf), body.dump(), "application/json"));
  }
  // Logs in; keeps the cookie's token and the CSRF token.
  // On a regional server, `institution` names the one to log in to.
  Answer Login(const std::string& login, const std::string& password, const std::string& institution = "") {
    json body = {{"login", login}, {"password", password}};
    if (!institution.empty()) body["institution"] = institution;
    Answer a = Post("/api/v1/login", body, false);
    std::smatch m;
    if (a.status == 200 && std::regex_search(a.cookie, m, std::regex("__Host-mf_session=([A-Za-z0-9_.-]+)"))) {
      token = m[1];
      csrf = a.body["csrf"];
    }
    return a;
  }
};


}  // namespace mentorflow::testing
