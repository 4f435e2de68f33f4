#include "app/demo.h"

#include <filesystem>
#include <fstream>
#include <iostream>

#include "app/scenario.h"
#include "engine/graph.h"
#include "engine/loader.h"
#include "storage/store.h"

namespace mentorflow::cli {

int RunDemo(const DemoOptions& o) {
  namespace fs = std::filesystem;
  LoadOptions opts;
  opts.templates_dir = o.templates;
  auto catalog = Catalog::Load({o.workflows}, opts);
  std::cout << "== validating " << o.workflows << "\n";
  for (const auto& e : catalog.errors()) std::cerr << e.ToString() << "\n";
  if (!catalog.ok()) return 1;
  for (const auto& d : catalog.definitions())
    std::cout << "  " << d->name << " v" << d->version << ": " << d->states.size() << " states, "
              << d->transitions.size() << " transitions — " << d->title << "\n";

  fs::create_directories(fs::path(o.dir) / "graphs");
  std::cout << "== drawing into " << (fs::path(o.dir) / "graphs").string() << "\n";
  for (const auto& d : catalog.definitions()) {
    auto path = fs::path(o.dir) / "graphs" / (d->name + ".mmd");
    std::ofstream(path) << ToMermaid(*d);
    std::cout << "  " << path.string() << "\n";
  }

  const fs::path db = fs::path(o.dir) / "demo.db";
  for (const char* ext : {"", "-wal", "-shm"}) fs::remove(db.string() + ext);
  std::cout << "== simulating a school year (" << o.scenario << ") on " << db.string() << "\n";
  auto report = RunScenarioFile(o.scenario, catalog, {"sqlite:" + db.string(), o.templates},
                                [](const std::string& line) { std::cout << "  " << line << "\n"; });
  for (const auto& f : report.failures) std::cerr << f.ToString() << "\n";
  std::cout << "== " << report.steps << " steps, " << report.fired << " deadline(s) fired, " << report.reminders
            << " reminder(s), " << report.failures.size() << " unexpected outcome(s)\n";
  std::cout << "== the database stays for you to explore, e.g.\n"
            << "  mentorflow --db sqlite:" << db.string() << " reminders\n"
            << "  mentorflow --db sqlite:" << db.string() << " agenda --from 2027-05-01 --format ics\n";
  return report.failures.empty() ? 0 : 5;
}

}  // namespace mentorflow::cli
