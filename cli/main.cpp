// The `mentorflow` command: parses the command line, calls the engine, prints.
// No logic of its own. Exit codes follow DESIGN.md: 0 done, 1 bad input,
// 2 not found, 3 refused, 4 conflict, 5 storage or internal error.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "cli/demo.h"
#include "engine/graph.h"
#include "engine/loader.h"

namespace mf = mentorflow;
using nlohmann::json;

namespace {

std::string EnvOr(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

struct Globals {
  std::string db = EnvOr("MENTORFLOW_DB", "sqlite:mentorflow.db");
  std::string workflows = EnvOr("MENTORFLOW_WORKFLOWS", MENTORFLOW_WORKFLOWS_DIR);
  std::string templates = EnvOr("MENTORFLOW_TEMPLATES", MENTORFLOW_TEMPLATES_DIR);
  std::string now = EnvOr("MENTORFLOW_NOW", "");
  std::string actor = EnvOr("MENTORFLOW_ACTOR", "");
  std::string zone = EnvOr("MENTORFLOW_ZONE", "Europe/Moscow");
  bool json = false;
};

json DiagnosticsJson(const std::vector<mf::Diagnostic>& errors) {
  json out = json::array();
  for (const auto& e : errors)
    out.push_back({{"file", e.file}, {"line", e.mark.line}, {"column", e.mark.column}, {"message", e.message}});
  return out;
}

void PrintDiagnostics(const std::vector<mf::Diagnostic>& errors) {
  for (const auto& e : errors) std::cerr << e.ToString() << "\n";
}

int Fail(const Globals& g, int code, const std::string& message) {
  if (g.json) std::cout << json{{"error", {{"code", code}, {"reason", message}}}}.dump(2) << "\n";
  else std::cerr << "mentorflow: " << message << "\n";
  return code;
}

int Validate(const Globals& g, std::vector<std::string> paths) {
  mf::LoadOptions opts;
  opts.templates_dir = g.templates;
  bool defaults = paths.empty();
  if (defaults) paths.push_back(g.workflows);
  std::unique_ptr<mf::Catalog> shipped;
  if (!defaults) shipped = std::make_unique<mf::Catalog>(mf::Catalog::Load({g.workflows}, opts));
  auto c = mf::Catalog::Load(paths, opts, shipped.get());
  if (g.json) {
    json names = json::array();
    for (const auto& d : c.definitions()) names.push_back({{"workflow", d->name}, {"version", d->version}, {"file", d->source_path}});
    std::cout << json{{"ok", c.ok()}, {"files", c.files()}, {"workflows", names}, {"errors", DiagnosticsJson(c.errors())}}.dump(2)
              << "\n";
  } else {
    PrintDiagnostics(c.errors());
    if (c.ok())
      std::cout << c.files() << " file(s), " << c.definitions().size() << " workflow(s): valid\n";
    else
      std::cerr << c.errors().size() << " error(s) in " << c.files() << " file(s)\n";
  }
  if (c.files() == 0 && c.ok()) return Fail(g, 1, "no workflow files found in " + paths.front());
  return c.ok() ? 0 : 1;
}

int Graph(const Globals& g, const std::string& workflow, const std::string& format) {
  mf::LoadOptions opts;
  opts.templates_dir = g.templates;
  std::error_code ec;
  const bool is_file = std::filesystem::is_regular_file(workflow, ec);
  auto c = mf::Catalog::Load({is_file ? workflow : g.workflows}, opts);
  const mf::Definition* def = nullptr;
  if (is_file && !c.definitions().empty()) def = c.definitions().front().get();
  if (!is_file) def = c.Find(workflow);
  if (!def) {
    if (!c.ok()) {
      PrintDiagnostics(c.errors());
      return 1;
    }
    return Fail(g, 2, "no workflow '" + workflow + "' in " + g.workflows);
  }
  std::string text = format == "dot" ? mf::ToDot(*def) : mf::ToMermaid(*def);
  if (g.json) std::cout << json{{"workflow", def->name}, {"format", format}, {"graph", text}}.dump(2) << "\n";
  else std::cout << text;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Globals g;
  CLI::App app{"mentorflow: mentoring programmes as workflows (validate, run, remind, report)", "mentorflow"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "mentorflow 0.1");
  app.option_defaults()->always_capture_default();
  app.add_option("--db", g.db, "Database URL: sqlite:PATH or postgresql://... (env MENTORFLOW_DB)");
  app.add_option("--workflows", g.workflows, "Directory of workflow YAML files (env MENTORFLOW_WORKFLOWS)");
  app.add_option("--templates", g.templates, "Directory of document templates (env MENTORFLOW_TEMPLATES)");
  app.add_option("--now", g.now, "Run as if it were this moment: YYYY-MM-DD[THH:MM] (env MENTORFLOW_NOW)");
  app.add_option("--as", g.actor, "Who acts: a person id (env MENTORFLOW_ACTOR)");
  app.add_option("--zone", g.zone, "The institution's time zone (env MENTORFLOW_ZONE)");
  app.add_flag("--json", g.json, "Print one JSON document on stdout");

  std::vector<std::string> paths;
  auto* validate = app.add_subcommand("validate", "Check workflow YAML files; errors as file:line:col: error: ...");
  validate->add_option("PATH", paths, "Files or directories (default: the --workflows directory)");
  validate->fallthrough();

  std::string workflow, format = "mermaid";
  auto* graph = app.add_subcommand("graph", "Draw a workflow as a state diagram");
  graph->add_option("WORKFLOW", workflow, "A workflow name, or a YAML file")->required();
  graph->add_option("--format", format, "mermaid or dot")->check(CLI::IsMember({"mermaid", "dot"}));
  graph->fallthrough();

  std::string demo_dir = "mentorflow-demo";
  auto* demo = app.add_subcommand("demo", "Validate and draw the shipped workflows, then simulate a school year");
  demo->add_option("--dir", demo_dir, "Where to write the demo's files");
  demo->fallthrough();

  for (auto* sub : {validate, graph, demo})
    sub->footer("Global options (anywhere on the line): --db URL, --workflows DIR, --templates DIR,\n"
                "  --now YYYY-MM-DD[THH:MM], --as PERSON_ID, --zone ZONE, --json. See: mentorflow --help");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 1;
  }
  try {
    if (*validate) return Validate(g, paths);
    if (*graph) return Graph(g, workflow, format);
    if (*demo) return mf::cli::RunDemo({g.workflows, g.templates, g.zone, demo_dir, MENTORFLOW_SOURCE_SCENARIO});
  } catch (const std::exception& e) {
    return Fail(g, 5, std::string("internal error: ") + e.what());
  }
  return 0;
}
