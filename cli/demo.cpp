#include "cli/demo.h"

#include <filesystem>
#include <fstream>
#include <iostream>

#include "engine/graph.h"
#include "engine/loader.h"
#include "engine/scenario.h"

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

  std::cout << "== simulating a school year (" << o.scenario << ")\n";
  auto report = RunScenarioFile(o.scenario, catalog, [](const std::string& line) { std::cout << "  " << line << "\n"; });
  for (const auto& f : report.failures) std::cerr << f.ToString() << "\n";
  std::cout << "== " << report.steps << " steps, " << report.failures.size() << " unexpected outcome(s)\n";
  return report.failures.empty() ? 0 : 5;
}

}  // namespace mentorflow::cli
