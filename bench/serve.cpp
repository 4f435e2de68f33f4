// bench/serve: what the HTTP API costs over the same use case called in the
// process (the floor, measured in the same run).
//
// For reading an instance (GET /api/v1/instances/{id}) and sending an event
// (POST .../events: information_support's `publish`, repeatable, a write
// with its history entry and timers), on SQLite and (with MENTORFLOW_TEST_PG)
// PostgreSQL: requests per second and p50/p99 latency through a `mentorflow
// serve` process with 1 and 4 workers and 1 and 16 clients (keep-alive, each
// its own instance), beside app::ShowInstance / app::SendEvent in-process.
// Printed: the ratios API/in-process (aim for sending: >= 0.70 at 1 client)
// and p99 at 16 clients over p50 at 1 (aim: < 10).
//
//   bench_serve [REQUESTS_PER_CLIENT]   (default 200)
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <regex>
#include <thread>
#include <tuple>
#include <vector>

#include "app/accounts.h"
#include "app/instances.h"
#include "bench/support.h"

extern char** environ;

namespace mf = mentorflow;
using Clock = std::chrono::steady_clock;
using mf::bench::At;
using mf::bench::Check;

namespace {

constexpr int kClients = 16;
constexpr const char* kPassword = "скамейка у старого пруда";

struct Result {
  double rps = 0, p50_ms = 0, p99_ms = 0;
  int errors = 0;
};

Result Summarise(std::vector<double> ms, double seconds, int errors) {
  Result r;
  r.errors = errors;
  if (ms.empty()) return r;
  std::sort(ms.begin(), ms.end());
  r.rps = static_cast<double>(ms.size()) / seconds;
  r.p50_ms = ms[ms.size() / 2];
  r.p99_ms = ms[std::min(ms.size() - 1, ms.size() * 99 / 100)];
  return r;
}

int FreePort() {
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

// The database: a curator with an account and kClients information_support instances.
std::vector<std::string> Prepare(const std::string& url) {
  auto catalog = mf::Catalog::Load({MENTORFLOW_SOURCE_DIR "/workflows"}, mf::LoadOptions{MENTORFLOW_SOURCE_DIR "/templates"});
  mf::Status st;
  auto store = mf::Store::Open(url, &st, {MENTORFLOW_SOURCE_DIR "/templates"});
  Check(st, "open");
  const mf::Now now = At("2026-09-01");
  Check(store->Init(catalog, now, nullptr, mf::bench::DirectorD1()), "init");
  Check(store->AddPerson({"c1", "Куратор", {"curator"}, "", "", "c1@example.org"}, "d1", now), "person");
  const std::string token = mf::app::NewToken();
  Check(store->IssueAccountToken("c1", "invite", mf::app::TokenHash(token), "2030-01-01T00:00:00Z", {"x", "x"}, "d1", now),
        "invite");
  mf::app::Context ctx{*store, "", now, "Europe/Moscow", MENTORFLOW_SOURCE_DIR "/templates"};
  Check(mf::app::RedeemLink(ctx, token, kPassword).status(), "password");
  std::vector<std::string> ids;
  for (int i = 0; i < kClients; ++i) {
    mf::InstanceRecord rec;
    mf::Refusal r;
    Check(store->Start("information_support", {}, "", "c1", now, &rec, &r), "start");
    ids.push_back(rec.id);
  }
  return ids;
}

// The curator's programme with `pairs` proposed pairs (a mentor and a mentee
// of age each), for the pages' measure.
void PreparePairs(const std::string& url, int pairs) {
  mf::Status st;
  auto store = mf::Store::Open(url, &st, {MENTORFLOW_SOURCE_DIR "/templates"});
  Check(st, "open");
  const mf::Now now = At("2026-09-01");
  mf::InstanceRecord rec;
  mf::Refusal r;
  Check(store->Start("programme", {{"year", "2026/2027"}}, "", "d1", now, &rec, &r), "programme");
  const std::string prog = rec.id;
  auto send = [&](const char* event, const char* as, mf::Input input = {}) {
    Check(store->Send(prog, event, input, as, now, &rec, &r), event);
  };
  send("approve_regulation", "d1");
  send("appoint_curator", "d1", {{"curator", "c1"}});
  Check(store->Sign(prog, "roadmap", "d1", now, nullptr), "roadmap");
  for (const char* e : {"start_mentee_bank", "mentee_bank_ready", "mentor_bank_ready", "training_done"}) send(e, "c1");
  Check(store->Batch([&]() -> mf::Status {
          for (int i = 0; i < pairs; ++i) {
            const std::string k = std::to_string(i);
            if (auto s = store->AddPerson({"m" + k, "Наставник " + k, {"mentor"}, "1990-01-01", "", ""}, "c1", now); !s.ok())
              return s;
            if (auto s = store->AddPerson({"s" + k, "Наставляемый " + k, {"mentee"}, "2000-01-01", "", ""}, "c1", now); !s.ok())
              return s;
            if (auto s = store->Start("mentoring_pair", {{"mentor", "m" + k}, {"mentee", "s" + k}, {"form", "speed"},
                                                         {"kind", "volunteer_pupil"}},
                                      prog, "c1", now, &rec, &r);
                !s.ok())
              return s;
          }
          return mf::Status::Ok();
        }),
        "pairs");
}

// The floor: the use case called in this process, one thread.
Result InProcess(const std::string& url, const std::string& id, bool write, int n) {
  mf::Status st;
  auto store = mf::Store::Open(url, &st, {MENTORFLOW_SOURCE_DIR "/templates"});
  Check(st, "open");
  mf::app::Context ctx{*store, "c1", At("2026-09-01"), "Europe/Moscow", MENTORFLOW_SOURCE_DIR "/templates"};
  std::vector<double> ms;
  int errors = 0;
  const auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    const auto a = Clock::now();
    const bool ok = write ? mf::app::SendEvent(ctx, {id, "publish", {{"last_url", "https://example.org/news"}}}).ok() : mf::app::ShowInstance(ctx, id).ok();
    errors += !ok;
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - a).count());
  }
  return Summarise(ms, std::chrono::duration<double>(Clock::now() - t0).count(), errors);
}

class Server {
 public:
  Server(const std::string& url, int workers) : port_(FreePort()) {
    std::vector<std::string> args = {MENTORFLOW_CLI, "--db", url, "--now", "2026-09-01", "--log-level", "warn", "serve",
                                     "--listen", "127.0.0.1:" + std::to_string(port_), "--workers",
                                     std::to_string(workers)};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, argv[0], nullptr, nullptr, argv.data(), environ) != 0) Check(mf::Status::Internal("spawn"), "serve");
    httplib::Client c("127.0.0.1", port_);
    for (int i = 0; i < 200; ++i) {
      if (auto r = c.Get("/api/v1/openapi.json"); r && r->status == 200) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    Check(mf::Status::Internal("the server did not answer"), "serve");
  }
  ~Server() {
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
  }
  int port() const { return port_; }

 private:
  int port_;
  pid_t pid_ = -1;
};

// The curator logs in: the session's token and its CSRF token.
std::pair<std::string, std::string> Login(int port) {
  httplib::Client login("127.0.0.1", port);
  auto r = login.Post("/api/v1/login", R"({"login": "c1", "password": ")" + std::string(kPassword) + "\"}",
                      "application/json");
  if (!r || r->status != 200) Check(mf::Status::Internal("login"), "login");
  std::smatch m;
  const std::string cookie = r->get_header_value("Set-Cookie");
  std::regex_search(cookie, m, std::regex("__Host-mf_session=([A-Za-z0-9_-]+)"));
  return {m[1].str(), nlohmann::json::parse(r->body)["csrf"].get<std::string>()};
}

Result ThroughApi(int port, const std::vector<std::string>& ids, int clients, bool write, int n) {
  const auto [token, csrf] = Login(port);
  std::vector<std::vector<double>> ms(clients);
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  const auto t0 = Clock::now();
  for (int c = 0; c < clients; ++c)
    threads.emplace_back([&, c] {
      httplib::Client http("127.0.0.1", port);
      http.set_keep_alive(true);
      http.set_tcp_nodelay(true);
      http.set_read_timeout(60, 0);
      httplib::Headers h = {{"Cookie", "__Host-mf_session=" + token}, {"X-CSRF-Token", csrf}};
      const std::string path = "/api/v1/instances/" + ids[c];
      for (int i = 0; i < n; ++i) {
        const auto a = Clock::now();
        auto res = write ? http.Post((path + "/events").c_str(), h, R"({"event": "publish", "input": {"last_url": "https://example.org/news"}})", "application/json")
                         : http.Get(path.c_str(), h);
        if (!res || res->status != 200) {
          ++errors;
          std::fprintf(stderr, "    failed: %s %s: %s\n", write ? "POST" : "GET", path.c_str(),
                       res ? (std::to_string(res->status) + " " + res->body.substr(0, 200)).c_str()
                           : httplib::to_string(res.error()).c_str());
        }
        ms[c].push_back(std::chrono::duration<double, std::milli>(Clock::now() - a).count());
      }
    });
  for (auto& t : threads) t.join();
  std::vector<double> all;
  for (auto& v : ms) all.insert(all.end(), v.begin(), v.end());
  return Summarise(all, std::chrono::duration<double>(Clock::now() - t0).count(), errors);
}

// GET `path` n times as the curator, one client.
Result Get(int port, const std::string& path, int n) {
  httplib::Client http("127.0.0.1", port);
  http.set_keep_alive(true);
  http.set_read_timeout(120, 0);
  const httplib::Headers h = {{"Cookie", "__Host-mf_session=" + Login(port).first}};
  std::vector<double> ms;
  int errors = 0;
  const auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    const auto a = Clock::now();
    auto res = http.Get(path.c_str(), h);
    if (!res || res->status != 200) {
      ++errors;
      std::fprintf(stderr, "    failed: GET %s: %s\n", path.c_str(),
                   res ? std::to_string(res->status).c_str() : httplib::to_string(res.error()).c_str());
    }
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - a).count());
  }
  return Summarise(ms, std::chrono::duration<double>(Clock::now() - t0).count(), errors);
}

void Print(const char* what, const Result& r) {
  std::printf("    %-36s %9.0f req/s   p50 %7.2f ms   p99 %7.2f ms%s\n", what, r.rps, r.p50_ms, r.p99_ms,
              r.errors ? ("   ERRORS " + std::to_string(r.errors)).c_str() : "");
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);
  const int n = argc > 1 ? std::atoi(argv[1]) : 200;
  std::vector<std::string> backends = {"sqlite"};
  if (std::getenv("MENTORFLOW_TEST_PG")) backends.push_back("postgresql");
  std::printf("bench/serve: %d requests per client; the floor is the same use case in-process\n", n);
  int failures = 0;
  for (const auto& b : backends) {
    std::fflush(stdout);
    const std::string url = mf::bench::FreshDatabase(b, "mf_bench_serve");
    const auto ids = Prepare(url);
    for (const bool write : {false, true}) {
      std::printf("  %s, %s\n", b.c_str(), write ? "sending an event (POST .../events)" : "reading an instance (GET)");
      const Result floor = InProcess(url, ids[0], write, n * 2);
      Print("in-process, 1 thread (floor)", floor);
      Result one, many;
      for (int workers : {1, 4}) {
        Server server(url, workers);
        const Result r1 = ThroughApi(server.port(), ids, 1, write, n);
        const Result r16 = ThroughApi(server.port(), ids, kClients, write, n);
        Print(("API, " + std::to_string(workers) + " worker(s), 1 client").c_str(), r1);
        Print(("API, " + std::to_string(workers) + " worker(s), 16 clients").c_str(), r16);
        failures += r1.errors + r16.errors;
        if (workers == 4) {
          one = r1;
          many = r16;
        }
      }
      std::printf("    ratio API/in-process at 1 client (4 workers): %.2f%s;  p99 at 16 / p50 at 1: %.1f%s\n",
                  one.rps / floor.rps, write && one.rps / floor.rps < 0.70 ? "  (below 0.70)" : "",
                  many.p99_ms / one.p50_ms, many.p99_ms / one.p50_ms >= 10 ? "  (10 or above)" : "");
    }
    // The pages beside the API call that reads the same data.
    const int pairs = n >= 100 ? 500 : 20, reads = std::max(3, n / 20);
    PreparePairs(url, pairs);
    std::printf("  %s, pages with %d pairs stored (1 client, 4 workers, %d requests each)\n", b.c_str(), pairs, reads);
    {
      Server server(url, 4);
      for (const auto& [page, api, what] :
           {std::tuple<std::string, std::string, std::string>{"/", "/api/v1/instances", "«Мои задачи»"},
            {"/workflows/mentoring_pair", "/api/v1/instances?workflow=mentoring_pair", "the curator's pairs"}}) {
        const Result p = Get(server.port(), page, reads), a = Get(server.port(), api, reads);
        Print(("page " + page).c_str(), p);
        Print(("API " + api.substr(0, 30)).c_str(), a);
        std::printf("    ratio page/API p50 (%s): %.2f%s\n", what.c_str(), p.p50_ms / a.p50_ms,
                    p.p50_ms / a.p50_ms > 2 ? "  (above 2)" : "");
        failures += p.errors + a.errors;
      }
    }
    mf::bench::DropDatabase(url);
  }
  if (failures) std::printf("%d request(s) failed\n", failures);
  return failures ? 1 : 0;
}
