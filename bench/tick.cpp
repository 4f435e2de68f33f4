// bench/tick: the cost of `tick` follows what is due, not what is stored.
//
// With S instances and their timers stored (S = STORED/10 and STORED, default
// 10 000 and 100 000), ticks fire 10, 1 000 and 10 000 due timers; printed:
// the time per fired timer, and for each D the ratio of the per-timer cost at
// S = STORED to the cost at S = STORED/10 (aim: <= 1.5). The instances are
// information_support pairs started through the store (Store::Batch): those
// meant to be due start on a day whose deadline the tick has passed, the
// rest months later. SQLite always; PostgreSQL when MENTORFLOW_TEST_PG is set.
//
//   bench_tick [STORED]   (below 100 000: a smoke run firing 1, 5 and 10)
//
// Beside a job queue (PostgreSQL, `bench_tick queue N`, default 5 000): N due
// deadlines of information_support fired by `mentorflow tick` in 1 and in 4
// processes at once, and N no-op jobs run by graphile-worker (npm, installed
// in bench/queue by `make bench`) at concurrency 1 and 4 on a database of the
// same cluster, in the same run. Printed: both rates and their ratio (aim:
// tick >= graphile-worker at 1 and at 4).
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include <spdlog/spdlog.h>

#include "bench/support.h"
#include "storage/store.h"

namespace mf = mentorflow;
using Clock = std::chrono::steady_clock;

namespace {

using mf::bench::At;
using mf::bench::Check;
using mf::bench::DirectorD1;

void StartMany(mf::Store& store, int n, const char* day) {
  const int chunk = 2000;
  for (int done = 0; done < n; done += chunk) {
    Check(store.Batch([&]() -> mf::Status {
            for (int i = done; i < std::min(n, done + chunk); ++i) {
              mf::InstanceRecord rec;
              mf::Refusal r;
              if (auto st = store.Start("information_support", {}, "", "c1", At(day), &rec, &r); !st.ok()) return st;
            }
            return mf::Status::Ok();
          }),
          "start");
  }
}

// How many deadlines each of the three ticks fires: 10, 1 000 and 10 000 in
// the measured run; a handful for the smoke run of `make test` (a STORED
// below 100 000), which only checks that everything completes.
std::vector<int> DueCounts(int stored) {
  return stored >= 100000 ? std::vector<int>{10, 1000, 10000} : std::vector<int>{1, 5, 10};
}

// Per-timer seconds for each D, with `stored` instances in the database.
std::map<int, double> Run(const std::string& url, int stored, const std::vector<int>& due) {
  auto catalog = mf::Catalog::Load({MENTORFLOW_SOURCE_DIR "/workflows"}, mf::LoadOptions{MENTORFLOW_SOURCE_DIR "/templates"});
  mf::Status st;
  auto store = mf::Store::Open(url, &st, {MENTORFLOW_SOURCE_DIR "/templates"});
  Check(st, "open");
  Check(store->Init(catalog, At("2026-09-01"), nullptr, DirectorD1()), "init");
  Check(store->AddPerson({"c1", "Куратор", {"curator"}, "", "", ""}, "d1", At("2026-09-01")), "person");
  const char* days[][2] = {{"2026-09-01", "2026-09-10"}, {"2026-09-15", "2026-09-24"}, {"2026-10-01", "2026-10-10"}};
  StartMany(*store, std::max(0, stored - (due[0] + due[1] + due[2])), "2027-06-01");  // not due in this run
  for (int k = 0; k < 3; ++k) StartMany(*store, due[k], days[k][0]);
  std::map<int, double> out;
  for (int k = 0; k < 3; ++k) {
    mf::Store::TickReport report;
    auto t0 = Clock::now();
    Check(store->Tick(At(days[k][1]), &report), "tick");
    double s = std::chrono::duration<double>(Clock::now() - t0).count();
    // The group started for this run misses its first week; the earlier
    // groups, lagging since, are escalated again each week (still_missed).
    const auto first = std::count_if(report.fired.begin(), report.fired.end(),
                                     [](const auto& f) { return f.event == "week_missed" && !f.refused; });
    if (first != due[k]) {
      std::fprintf(stderr, "expected %d week_missed fired, got %ld (of %zu fired)\n", due[k], static_cast<long>(first),
                   report.fired.size());
      std::exit(1);
    }
    out[due[k]] = s / static_cast<double>(report.fired.size());
  }
  return out;
}

double Since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Runs `argv` (no shell), its standard output into `out`; false unless it exits 0.
bool Spawn(const std::vector<std::string>& args, const std::string& out, pid_t* pid) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const bool ok = posix_spawnp(pid, argv[0], &fa, nullptr, argv.data(), environ) == 0;
  posix_spawn_file_actions_destroy(&fa);
  return ok;
}

bool Waited(pid_t pid) {
  int status = 0;
  return waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Temp(const std::string& what) {
  return (std::filesystem::temp_directory_path() / ("mf_bench_tick_" + what + "_" + std::to_string(getpid()))).string();
}

// `processes` x `mentorflow tick` at once over `n` due deadlines: timers/s.
double TickRate(int n, int processes) {
  const std::string url = mf::bench::FreshDatabase("postgresql", "mf_bench_tickq_" + std::to_string(processes));
  {
    auto catalog =
        mf::Catalog::Load({MENTORFLOW_SOURCE_DIR "/workflows"}, mf::LoadOptions{MENTORFLOW_SOURCE_DIR "/templates"});
    mf::Status st;
    auto store = mf::Store::Open(url, &st, {MENTORFLOW_SOURCE_DIR "/templates"});
    Check(st, "open");
    Check(store->Init(catalog, At("2026-09-01"), nullptr, DirectorD1()), "init");
    Check(store->AddPerson({"c1", "Куратор", {"curator"}, "", "", ""}, "d1", At("2026-09-01")), "person");
    StartMany(*store, n, "2026-09-01");
  }
  std::vector<pid_t> pids(processes);
  std::vector<std::string> outs;
  const auto t0 = Clock::now();
  for (int p = 0; p < processes; ++p) {
    outs.push_back(Temp("out" + std::to_string(p)));
    // MF_BENCH_WRAP="perf record -g -o FILE" runs each tick under a profiler.
    std::vector<std::string> args;
    std::istringstream wrap(std::getenv("MF_BENCH_WRAP") ? std::getenv("MF_BENCH_WRAP") : "");
    for (std::string w; wrap >> w;) args.push_back(w);
    args.insert(args.end(), {MENTORFLOW_BINARY, "--db", url, "--now", "2026-09-10", "tick"});
    if (!Spawn(args, outs.back(), &pids[p]))
      Check(mf::Status::Internal("spawn mentorflow"), "tick");
  }
  bool ok = true;
  for (pid_t pid : pids) ok = Waited(pid) && ok;
  const double s = Since(t0);
  long long fired = 0;
  for (const auto& f : outs) {
    std::istringstream in(Slurp(f));
    for (std::string line; std::getline(in, line);) {
      long long k = 0;
      int end = 0;  // the summary line alone (a fired line starts with a date)
      if (std::sscanf(line.c_str(), "%lld deadline(s) fired%n", &k, &end) == 1 && end > 0) fired += k;
    }
    std::filesystem::remove(f);
  }
  mf::bench::DropDatabase(url);
  if (!ok || fired != n) {
    std::fprintf(stderr, "tick x%d: fired %lld of %d%s\n", processes, fired, n, ok ? "" : " (a tick failed)");
    std::exit(1);
  }
  return n / s;
}

// graphile-worker at `concurrency` over `n` no-op jobs: jobs/s.
double QueueRate(int n, int concurrency) {
  const std::string url = mf::bench::FreshDatabase("postgresql", "mf_bench_graphile_" + std::to_string(concurrency));
  const std::string out = Temp("graphile");
  pid_t pid = 0;
  if (!Spawn({"node", MENTORFLOW_SOURCE_DIR "/bench/queue/graphile.js", url, std::to_string(n), std::to_string(concurrency)},
             out, &pid) ||
      !Waited(pid)) {
    std::fprintf(stderr, "graphile-worker failed (run `npm ci` in bench/queue, or `make bench`)\n");
    std::exit(1);
  }
  const std::string text = Slurp(out);
  std::filesystem::remove(out);
  mf::bench::DropDatabase(url);
  int c = 0, jobs = 0;
  double s = 0;
  if (std::sscanf(text.c_str(), "graphile-worker %d %d %lf", &c, &jobs, &s) != 3 || jobs != n || s <= 0) {
    std::fprintf(stderr, "graphile-worker: unexpected output '%s'\n", text.c_str());
    std::exit(1);
  }
  return n / s;
}

int SideBySide(int n) {
  if (!std::getenv("MENTORFLOW_TEST_PG")) {
    std::fprintf(stderr, "bench_tick queue: needs PostgreSQL (run under scripts/with-postgres.sh)\n");
    return 1;
  }
  std::printf("bench/tick beside graphile-worker: %d due deadlines / no-op jobs\n", n);
  for (int p : {1, 4}) {
    const double tick = TickRate(n, p), queue = QueueRate(n, p);
    std::printf("  %d: tick %7.0f timers/s (%d process%s), graphile-worker %7.0f jobs/s (concurrency %d), ratio %.2f%s\n", p,
                tick, p, p == 1 ? "" : "es", queue, p, tick / queue, tick >= queue ? "" : "  (below 1)");
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);
  if (argc > 1 && std::string(argv[1]) == "queue") return SideBySide(argc > 2 ? std::atoi(argv[2]) : 5000);
  const int requested = argc > 1 ? std::atoi(argv[1]) : 100000;
  const std::vector<int> due = DueCounts(requested);
  // Each database holds at least the due ones themselves.
  const int all_due = due[0] + due[1] + due[2];
  const int stored = std::max(requested, all_due), small_stored = std::max(requested / 10, all_due);
  std::vector<std::string> backends = {"sqlite"};
  if (std::getenv("MENTORFLOW_TEST_PG")) backends.push_back("postgresql");
  std::printf("bench/tick: time per fired timer, with %d and %d instances stored\n", small_stored, stored);
  for (const auto& b : backends) {
    std::map<int, std::map<int, double>> by_stored;
    for (int s : {small_stored, stored}) {
      std::string url = mf::bench::FreshDatabase(b, "mf_bench_tick_" + std::to_string(s));
      by_stored[s] = Run(url, s, due);
      mf::bench::DropDatabase(url);
    }
    for (int d : due) {
      double small = by_stored[small_stored][d], large = by_stored[stored][d];
      std::printf("  %-10s due %5d: %8.1f us/timer at %6d stored, %8.1f us/timer at %6d stored, ratio %.2f%s\n",
                  b.c_str(), d, small * 1e6, small_stored, large * 1e6, stored, large / small,
                  large / small <= 1.5 ? "" : "  (above 1.5)");
    }
  }
  return 0;
}
