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
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
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

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);
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
