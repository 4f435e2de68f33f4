// bench/deliver: reminders per second handed to a real SMTP server (aiosmtpd
// on loopback, tests/smtp_sink.py) by `deliver` — claim, send, mark, per
// reminder — beside the same number of raw libcurl sends of the same message
// in the same run (the floor), in five alternating rounds. Prints both rates
// and their ratio (aim: >= 0.8).
//
//   bench_deliver [REMINDERS]     (default 200; SQLite)
#include <curl/curl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "app/delivery.h"
#include <spdlog/spdlog.h>

#include "bench/support.h"
#include "storage/store.h"

namespace mf = mentorflow;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

using mf::bench::At;
using mf::bench::Check;
using mf::bench::DirectorD1;

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);
  const int n = argc > 1 ? std::atoi(argv[1]) : 200;
  const std::string dir = fs::temp_directory_path().string() + "/mf_bench_deliver_" + std::to_string(getpid());
  fs::create_directories(dir);
  int fds[2];
  if (pipe(fds) != 0) return 1;
  pid_t sink = fork();
  if (sink == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    execl("/usr/bin/python3", "python3", MENTORFLOW_SOURCE_DIR "/tests/smtp_sink.py", dir.c_str(), nullptr);
    _exit(127);
  }
  close(fds[1]);
  std::string line;
  char c;
  while (read(fds[0], &c, 1) == 1 && c != '\n') line += c;
  close(fds[0]);
  const std::string url = "smtp://127.0.0.1:" + line;
  if (line.empty()) {
    std::fprintf(stderr, "bench_deliver: the SMTP sink did not start (python3-aiosmtpd?)\n");
    return 1;
  }

  // n pending reminders: n/2 monitoring instances, each reminding two curators.
  const std::string db = dir + "/bench.db";
  auto catalog = mf::Catalog::Load({MENTORFLOW_SOURCE_DIR "/workflows"}, mf::LoadOptions{MENTORFLOW_SOURCE_DIR "/templates"});
  mf::Status st;
  auto store = mf::Store::Open("sqlite:" + db, &st, {MENTORFLOW_SOURCE_DIR "/templates"});
  Check(st, "open");
  Check(store->Init(catalog, At("2026-09-01"), nullptr, DirectorD1()), "init");
  Check(store->AddPerson({"c1", "Мария Петрова", {"curator"}, "", "", "c1@example.org"}, "d1", At("2026-09-01")), "person");
  Check(store->AddPerson({"c2", "Иван Сидоров", {"curator"}, "", "", "c2@example.org"}, "d1", At("2026-09-01")), "person");
  Check(store->Batch([&]() -> mf::Status {
          for (int i = 0; i < n / 2; ++i) {
            mf::InstanceRecord rec;
            mf::Refusal r;
            if (auto s = store->Start("monitoring", {}, "", "c1", At("2026-09-01"), &rec, &r); !s.ok()) return s;
          }
          return mf::Status::Ok();
        }),
        "start");
  if (const char* t = std::getenv("MF_BENCH_CLAIM_TIMEOUT"))
    Check(store->SetSetting("deliver_claim_timeout_seconds", t, "d1", At("2026-09-01")), "setting");
  mf::Store::TickReport tick;
  Check(store->Tick(At("2026-12-07"), &tick), "tick");
  std::vector<mf::ReminderRecord> pending;
  Check(store->Reminders({"pending", "", ""}, &pending), "reminders");

  // The floor: the same messages through one libcurl handle, nothing else.
  mf::OutgoingMessage m{pending[0].id, mf::MessageIdFor(pending[0], "mentorflow@localhost"), "mentorflow@localhost",
                        "c1@example.org", "Мария Петрова", "c1", pending[0].subject, pending[0].text,
                        "Mon, 07 Dec 2026 00:00:00 +0000", pending[0]};
  const std::string payload = mf::BuildMimeMessage(m);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  // The floor is measured before and after deliver, and averaged: the
  // machine is shared, and its speed drifts within a run.
  auto raw_sends = [&](size_t count) -> double {
    CURL* curl = curl_easy_init();
    auto t0 = Clock::now();
    for (size_t i = 0; i < count; ++i) {
      struct Reader {
        const std::string* data;
        size_t pos = 0;
      } reader{&payload};
      auto read = [](char* buf, size_t size, size_t nitems, void* p) -> size_t {
        auto* r = static_cast<Reader*>(p);
        size_t k = std::min(size * nitems, r->data->size() - r->pos);
        std::memcpy(buf, r->data->data() + r->pos, k);
        r->pos += k;
        return k;
      };
      curl_slist* rcpt = curl_slist_append(nullptr, "<c1@example.org>");
      curl_easy_reset(curl);
      curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
      curl_easy_setopt(curl, CURLOPT_MAIL_FROM, "<mentorflow@localhost>");
      curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
      curl_easy_setopt(curl, CURLOPT_READFUNCTION, static_cast<curl_read_callback>(read));
      curl_easy_setopt(curl, CURLOPT_READDATA, &reader);
      curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
      CURLcode rc = curl_easy_perform(curl);
      curl_slist_free_all(rcpt);
      if (rc != CURLE_OK) {
        std::fprintf(stderr, "raw send: %s\n", curl_easy_strerror(rc));
        std::exit(1);
      }
    }
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    curl_easy_cleanup(curl);
    return s;
  };
  // Five rounds, each a fifth of the floor's sends and then a fifth of
  // deliver's: the machine is shared, and its speed drifts within a run.
  std::unique_ptr<mf::Channel> channel;
  Check(mf::OpenChannel(url, 30, &channel), "channel");
  mf::DeliveryReport report;
  double raw = 0, ours = 0;
  const int rounds = 5;
  for (int k = 0; k < rounds; ++k) {
    const size_t part = pending.size() / rounds + (k < static_cast<int>(pending.size() % rounds) ? 1 : 0);
    raw += raw_sends(part);
    auto t0 = Clock::now();
    Check(mf::DeliverPending(*store, *channel, At("2026-12-07"), &report, static_cast<int>(part)), "deliver");
    ours += std::chrono::duration<double>(Clock::now() - t0).count();
  }
  if (report.sent != static_cast<int>(pending.size())) {
    std::fprintf(stderr, "delivered %d of %zu\n", report.sent, pending.size());
    return 1;
  }
  std::printf("bench/deliver: %zu reminders to aiosmtpd on loopback (SQLite)\n", pending.size());
  std::printf("  raw libcurl sends:   %8.0f messages/s\n", pending.size() / raw);
  std::printf("  mentorflow deliver:  %8.0f reminders/s (claim, send, mark each)\n", pending.size() / ours);
  std::printf("  ratio deliver/raw:   %8.2f\n", (pending.size() / ours) / (pending.size() / raw));
  kill(sink, SIGTERM);
  waitpid(sink, nullptr, 0);
  fs::remove_all(dir);
  return 0;
}
