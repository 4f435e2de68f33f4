// bench/dispatch: the mentoring_pair lifecycle (ten events) dispatched by our
// interpreter vs the same machine compiled as a Boost.MSM state machine, in
// one binary and one run. Prints the per-event time of each and the ratios,
// and counts heap allocations on the lookup path (which must be zero).
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <new>

#include "bench/msm_pair.h"
#include "engine/dispatch.h"
#include "engine/loader.h"
#include "tests/fake_world.h"

// ---- allocation counter ------------------------------------------------------
static std::atomic<long> g_allocations{0};
void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace mentorflow {
namespace {

const Date kToday = *ParseDate("2026-10-01");  // the day the benchmark acts on
const Now kNow{Instant{kToday.time_since_epoch()}, kToday, "2026-10-01T00:00"};

constexpr int kEvents = 10;

struct Step {
  const char* event;
  const char* actor;
  Input input;
};

const std::vector<Step>& Lifecycle() {
  static const std::vector<Step> steps = {
      {"submit", "c1", {}},
      {"ready", "c1", {}},
      {"approve", "d1", {}},
      {"propose_change", "m1",
       {{"change_kind", "extension"}, {"change_note", "продлить"}, {"proposed_ends_on", "2027-06-30"}}},
      {"mentor_agrees", "m1", {}},
      {"mentee_agrees", "s1", {}},
      {"apply_change", "c1", {}},
      {"change_signed", "c1", {}},
      {"request_replacement", "s1", {{"replacement_reason", "нет контакта"}}},
      {"keep_mentor", "d1", {}},
  };
  return steps;
}

struct Fixture {
  Catalog catalog = Catalog::Load({MENTORFLOW_SOURCE_DIR "/workflows"}, LoadOptions{MENTORFLOW_SOURCE_DIR "/templates"});
  const Definition* def = catalog.Find("mentoring_pair");
  mentorflow::testing::FakeWorld world;
  Now now = Now::At(*ParseLocalTime("2026-09-01", ""), "");
  Snapshot start;
  std::vector<Actor> actors;       // per step
  std::vector<int> event_ids;      // per step
  std::vector<Snapshot> before;    // the snapshot before each step

  Fixture() {
    if (!catalog.ok()) {
      for (const auto& e : catalog.errors()) std::fprintf(stderr, "%s\n", e.ToString().c_str());
      std::exit(1);
    }
    world.Add("d1", {"director"});
    world.Add("c1", {"curator"});
    world.Add("m1", {"mentor"});
    world.Add("s1", {"mentee"});
    world.children = {1, 1};  // the pair's individual plan, agreed
    auto o = Start(*def, {{"mentor", "m1"}, {"mentee", "s1"}, {"form", "virtual"}, {"kind", "volunteer_pupil"}}, "",
                   world.ActorFor("c1"), now, world);
    start.id = "1";
    start.fields.resize(def->fields.size());
    Apply(*o.decision, start);
    start.signed_documents.assign(def->documents.size(), 1);  // everything signed, as in the MSM run
    Snapshot s = start;
    for (const auto& step : Lifecycle()) {
      actors.push_back(world.ActorFor(step.actor));
      event_ids.push_back(def->EventId(step.event));
      before.push_back(s);
      auto r = Dispatch(*def, s, step.event, step.input, actors.back(), now, world);
      if (!r.ok()) {
        std::fprintf(stderr, "lifecycle refused at %s (%zu inputs): %s\n", step.event, step.input.size(), r.refusal.message.c_str());
        std::exit(1);
      }
      Apply(*r.decision, s);
    }
  }
};

Fixture& F() {
  static Fixture f;
  return f;
}

void BM_Msm_Lifecycle(benchmark::State& state) {
  bench::MsmPair pair;
  for (auto _ : state) benchmark::DoNotOptimize(pair.RunLifecycle());
  state.SetItemsProcessed(state.iterations() * kEvents);
}
BENCHMARK(BM_Msm_Lifecycle);

// Lookup (state x event table), role check and condition evaluation.
void BM_Interpreter_Lookup(benchmark::State& state) {
  Fixture& f = F();
  for (auto _ : state)
    for (int i = 0; i < kEvents; ++i)
      benchmark::DoNotOptimize(FindTransition(*f.def, f.before[i], f.event_ids[i], f.actors[i], f.world, kNow));
  state.SetItemsProcessed(state.iterations() * kEvents);
}
BENCHMARK(BM_Interpreter_Lookup);

// Everything: parse inputs, build the decision (history, timers, reminders), apply it.
void BM_Interpreter_Dispatch(benchmark::State& state) {
  Fixture& f = F();
  const auto& steps = Lifecycle();
  for (auto _ : state) {
    Snapshot s = f.start;
    for (const auto& step : steps) {
      auto r = Dispatch(*f.def, s, step.event, step.input, f.actors[&step - steps.data()], f.now, f.world);
      Apply(*r.decision, s);
    }
    benchmark::DoNotOptimize(s.state);
  }
  state.SetItemsProcessed(state.iterations() * kEvents);
}
BENCHMARK(BM_Interpreter_Dispatch);

class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& r : runs)
      if (!r.error_occurred) per_event_ns[r.run_name.function_name] = r.GetAdjustedRealTime() / kEvents;
  }
  std::map<std::string, double> per_event_ns;
};

}  // namespace
}  // namespace mentorflow

int main(int argc, char** argv) {
  using namespace mentorflow;
  benchmark::Initialize(&argc, argv);
  Fixture& f = F();

  // Allocations on the lookup path: must be zero.
  long before = g_allocations.load();
  int found = 0;
  for (int round = 0; round < 1000; ++round)
    for (int i = 0; i < kEvents; ++i)
      found += FindTransition(*f.def, f.before[i], f.event_ids[i], f.actors[i], f.world, kNow) >= 0;
  long lookup_allocs = g_allocations.load() - before;
  before = g_allocations.load();
  {
    Snapshot s = f.start;
    for (const auto& step : Lifecycle()) {
      auto r = Dispatch(*f.def, s, step.event, step.input, f.actors[&step - Lifecycle().data()], f.now, f.world);
      Apply(*r.decision, s);
    }
  }
  long dispatch_allocs = g_allocations.load() - before;

  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();

  double msm = reporter.per_event_ns["BM_Msm_Lifecycle"];
  double lookup = reporter.per_event_ns["BM_Interpreter_Lookup"];
  double full = reporter.per_event_ns["BM_Interpreter_Dispatch"];
  std::printf("\nmentoring_pair lifecycle, per event (same process, same run):\n");
  std::printf("  Boost.MSM (compiled)              %8.1f ns\n", msm);
  std::printf("  interpreter: lookup+role+guard    %8.1f ns   ratio to MSM %.1fx\n", lookup, lookup / msm);
  std::printf("  interpreter: full dispatch+apply  %8.1f ns   ratio to MSM %.1fx\n", full, full / msm);
  std::printf("  heap allocations per lookup: %.3f (%ld in %d lookups, %d found)\n",
              static_cast<double>(lookup_allocs) / (1000.0 * kEvents), lookup_allocs, 1000 * kEvents, found);
  std::printf("  heap allocations per full dispatch: %.1f\n", static_cast<double>(dispatch_allocs) / kEvents);
  return lookup_allocs == 0 ? 0 : 1;
}
