// validate, graph, demo, init, settings, table, backup, migrate, import: the
// operator's commands.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "app/admin.h"
#include "app/demo.h"
#include "app/import.h"
#include "cli/common.h"
#include "engine/graph.h"
#include "engine/loader.h"

namespace mentorflow::cli {

namespace {

void PrintDiagnostics(const std::vector<Diagnostic>& errors) {
  for (const auto& e : errors) std::cerr << e.ToString() << "\n";
}

struct Options {
  std::vector<std::string> paths;
  bool strict = false;
  std::string workflow, format = "mermaid", demo_dir = "mentorflow-demo";
  Store::InitOptions init;
  std::string setting_key;
  std::vector<std::string> setting_value;
  std::string table_name;
  int table_version = 0;
  std::string backup_to;
  app::MigrateRequest migrate;
  std::vector<std::string> maps;
  std::string import_file;
  bool import_dry_run = false;
};

int Validate(const Globals& g, std::vector<std::string> paths, bool strict) {
  LoadOptions opts;
  opts.templates_dir = g.templates;
  opts.strict = strict;
  const bool defaults = paths.empty();
  if (defaults) paths.push_back(g.workflows);
  std::unique_ptr<Catalog> shipped;
  if (!defaults) shipped = std::make_unique<Catalog>(Catalog::Load({g.workflows}, opts));
  auto c = Catalog::Load(paths, opts, shipped.get());
  if (g.json) {
    json names = json::array();
    for (const auto& d : c.definitions())
      names.push_back({{"workflow", d->name}, {"version", d->version}, {"file", d->source_path}});
    PrintJson({{"ok", c.ok()}, {"files", c.files()}, {"workflows", names}, {"errors", app::DiagnosticsJson(c.errors())},
               {"warnings", app::DiagnosticsJson(c.warnings())}});
  } else {
    PrintDiagnostics(c.warnings());
    PrintDiagnostics(c.errors());
    if (c.ok())
      std::cout << c.files() << " file(s), " << c.definitions().size() << " workflow(s): valid"
                << (c.warnings().empty() ? std::string() : ", " + std::to_string(c.warnings().size()) + " warning(s)")
                << "\n";
    else
      std::cerr << c.errors().size() << " error(s) in " << c.files() << " file(s)\n";
  }
  if (c.files() == 0 && c.ok()) return Fail(g, 1, "no workflow files found in " + paths.front());
  return c.ok() ? 0 : 1;
}

int Graph(const Globals& g, const std::string& workflow, const std::string& format) {
  LoadOptions opts;
  opts.templates_dir = g.templates;
  std::error_code ec;
  const bool is_file = std::filesystem::is_regular_file(workflow, ec);
  auto c = Catalog::Load({is_file ? workflow : g.workflows}, opts);
  const Definition* def = nullptr;
  if (is_file && !c.definitions().empty()) def = c.definitions().front().get();
  if (!is_file) def = c.Find(workflow);
  if (!def) {
    if (!c.ok()) {
      PrintDiagnostics(c.errors());
      return 1;
    }
    return Fail(g, 2, "no workflow '" + workflow + "' in " + g.workflows);
  }
  std::string text = format == "dot" ? ToDot(*def) : ToMermaid(*def);
  if (g.json) PrintJson({{"workflow", def->name}, {"format", format}, {"graph", text}});
  else std::cout << text;
  return 0;
}

int Init(const Globals& g, const Store::InitOptions& options) {
  LoadOptions opts;
  opts.templates_dir = g.templates;
  // A directory of a few changed workflows (a new version of one) may name
  // the others (a count of programmes): those are looked up among the
  // shipped ones, as validate does.
  const std::string shipped_dir = EnvOr("MENTORFLOW_WORKFLOWS", Share() + "/workflows");
  std::unique_ptr<Catalog> shipped;
  std::error_code ec;
  if (!std::filesystem::equivalent(shipped_dir, g.workflows, ec))
    shipped = std::make_unique<Catalog>(Catalog::Load({shipped_dir}, opts));
  auto c = Catalog::Load({g.workflows}, opts, shipped.get());
  if (!c.ok()) {
    PrintDiagnostics(c.errors());
    return Fail(g, 1, "the workflows do not validate; nothing was changed");
  }
  if (!options.director.id.empty() && options.director.name.empty())
    return Fail(g, 1, "--director ID needs --name NAME (the director's full name)");
  DbCommand cmd(g, true);
  if (!cmd.ok()) return cmd.code;
  std::vector<std::string> registered;
  Store::InitOptions o = options;
  o.zone = g.zone;
  {
    // The production calendar: --calendar FILE, else the shipped one.
    const bool given = !o.calendar_source.empty();
    if (!given) o.calendar_source = EnvOr("MENTORFLOW_CALENDAR", Share() + "/calendar/ru.txt");
    std::ifstream in(o.calendar_source, std::ios::binary);
    if (!in && given) return Fail(g, 1, "--calendar: cannot read " + o.calendar_source);
    if (!in) spdlog::warn("no production calendar at {}: working days count Monday to Friday only", o.calendar_source);
    std::stringstream text;
    text << in.rdbuf();
    o.calendar = text.str();
  }
  bool no_director = false;
  o.no_director = &no_director;
  if (Status st = cmd.store->Init(c, cmd.now, &registered, o); !st.ok()) return cmd.Report(st);
  if (no_director)
    std::cerr << "mentorflow: warning: the database has no director, so nobody can register people yet;"
                 " run: mentorflow init --director ID --name NAME\n";
  if (g.json) {
    PrintJson({{"db", g.db}, {"schema", Store::kSchemaVersion}, {"registered", registered}});
  } else {
    std::cout << g.db << ": schema version " << Store::kSchemaVersion << "\n";
    for (const auto& r : registered) std::cout << "registered " << r << "\n";
    if (registered.empty()) std::cout << "workflows up to date\n";
  }
  return 0;
}

int Settings(const Globals& g, const Options& o) {
  const auto& value = o.setting_value;
  DbCommand cmd(g, false, value.empty());
  if (!cmd.ok()) return cmd.code;
  if (value.size() > 1) return Fail(g, 1, "settings KEY VALUE takes one value (quote it if it has spaces)");
  auto ctx = cmd.Context();
  if (!value.empty()) {
    if (Status s = app::ChangeSetting(ctx, o.setting_key, value[0]); !s.ok()) return cmd.Report(s);
    if (g.json) PrintJson({{o.setting_key, value[0]}});
    else std::cout << o.setting_key << " = " << E(value[0]) << "\n";
    return 0;
  }
  auto r = app::ReadSettings(ctx, o.setting_key);
  if (!r.ok()) return cmd.Report(r.status());
  if (g.json) PrintJson(app::SettingsJson(*r));
  else if (!o.setting_key.empty()) std::cout << E(r->at(0).second) << "\n";
  else
    for (const auto& [k, v] : *r) std::cout << E(k) << " = " << E(v) << "\n";
  return 0;
}

int Tables(const Globals& g, const std::string& name, int version) {
  DbCommand cmd(g, false, true);
  if (!cmd.ok()) return cmd.code;
  auto ctx = cmd.Context();
  if (name.empty()) {
    auto r = app::ListTables(ctx);
    if (!r.ok()) return cmd.Report(r.status());
    if (g.json) {
      PrintJson(app::TablesJson(*r));
    } else {
      for (const auto& t : *r) std::cout << t.name << " v" << t.version << "  loaded " << LocalTime(t.loaded_at, cmd.zone) << "\n";
      if (r->empty()) std::cout << "no tables (tables/NAME.csv beside the workflows are stored by init)\n";
    }
    return 0;
  }
  auto t = app::ReadTable(ctx, name, version);
  if (!t.ok()) return cmd.Report(t.status());
  if (!g.json) {
    std::cout << t->source << (t->source.empty() || t->source.back() == '\n' ? "" : "\n");
    return 0;
  }
  json j;
  if (Status s = app::TableJson(*t, &j); !s.ok()) return cmd.Report(s);
  PrintJson(j);
  return 0;
}

int Backup(const Globals& g, const std::string& to) {
  DbCommand cmd(g, false, true);
  if (!cmd.ok()) return cmd.code;
  auto ctx = cmd.Context();
  auto r = app::Backup(ctx, to);
  if (!r.ok()) return cmd.Report(r.status());
  if (g.json) PrintJson({{"backup", r->path}, {"bytes", r->bytes}, {"integrity", "ok"}});
  else std::cout << r->path << "  " << r->bytes << " bytes, integrity ok\n";
  return 0;
}

int Migrate(const Globals& g, Options& o) {
  DbCommand cmd(g);
  if (!cmd.ok()) return cmd.code;
  auto ctx = cmd.Context();
  if (Status s = app::NeedActor(ctx); !s.ok()) return cmd.Report(s);
  app::MigrateRequest& req = o.migrate;
  for (const auto& m : o.maps) {
    auto eq = m.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == m.size())
      return Fail(g, 1, "--map expects OLD=NEW, got '" + m + "'");
    if (!req.state_map.emplace(m.substr(0, eq), m.substr(eq + 1)).second)
      return Fail(g, 1, "--map: state '" + m.substr(0, eq) + "' is mapped twice");
  }
  auto r = app::Migrate(ctx, req);
  if (!r.ok()) return cmd.Report(r.status());
  if (g.json) {
    PrintJson(app::MigrationJson(req, *r));
    return r->status.exit_code();
  }
  const bool dry = req.dry_run;
  const char* verb = dry ? "would move" : "moved";
  for (const auto& m : r->report.moved)
    std::cout << verb << " " << m.id << ": v" << m.from_version << " " << m.from << " -> v" << req.to_version << " "
              << m.to << "\n";
  for (const auto& b : r->report.blocked)
    for (const auto& reason : b.reasons)
      std::cout << "blocked " << b.id << " (v" << b.version << " " << b.state << "): " << reason << "\n";
  std::cout << r->report.moved.size() << (dry ? " would move, " : " moved, ") << r->report.blocked.size() << " blocked"
            << (dry ? " (dry run: nothing changed)" : "") << "\n";
  if (!r->status.ok()) std::cerr << "mentorflow: " << r->status.message() << "\n";
  return r->status.exit_code();
}

int Import(const Globals& g, const Options& o) {
  DbCommand cmd(g);
  if (!cmd.ok()) return cmd.code;
  std::string text;
  if (Status s = app::ReadImportFile(o.import_file, &text); !s.ok()) return cmd.Report(s);
  app::ImportOptions opts{g.actor, cmd.now, cmd.zone, o.import_dry_run, {}, 10000};
  const auto started_at = std::chrono::steady_clock::now();
  const bool tty = isatty(STDERR_FILENO);
  opts.progress = [&](int lines) {
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_at).count();
    spdlog::info("import: {} lines applied in {:.1f} s", lines, s);
    if (tty) std::cerr << "\rimport: " << lines << " lines..." << std::flush;
  };
  app::ImportResult result;
  Status st = app::Import(*cmd.store, o.import_file == "-" ? "<stdin>" : o.import_file, text, opts, &result);
  if (tty && result.lines >= opts.progress_every) std::cerr << "\r" << std::string(40, ' ') << "\r" << std::flush;
  if (!st.ok()) return cmd.Report(Status(st.code(), result.where + ": " + st.message() + "; nothing was imported"));
  if (g.json) {
    PrintJson(app::ImportJson(result, o.import_dry_run));
    return 0;
  }
  for (const auto& [ref, id] : result.refs) std::cout << "@" << E(ref) << " = " << E(id) << "\n";
  std::cout << (o.import_dry_run ? "would import " : "imported ") << result.lines << " line(s): " << result.started
            << " started, " << result.events << " event(s), " << result.signatures << " signature(s), "
            << result.issued << " order(s)" << (o.import_dry_run ? " (dry run: nothing changed)" : "") << "\n";
  return 0;
}

}  // namespace

void AddAdminCommands(CLI::App& app, Globals& g, Commands* out) {
  auto o = std::make_shared<Options>();
  auto* validate = app.add_subcommand("validate", "Check workflow YAML files; errors as file:line:col: error: ...");
  validate->add_option("PATH", o->paths, "Files or directories (default: the --workflows directory)");
  validate->add_flag("--strict", o->strict,
                     "A missing title (of the workflow, a state, transition, field, enum value or document) is an "
                     "error, not a warning: people would read the English name");
  auto* graph = app.add_subcommand("graph", "Draw a workflow as a state diagram");
  graph->add_option("WORKFLOW", o->workflow, "A workflow name, or a YAML file")->required();
  graph->add_option("--format", o->format, "mermaid or dot")->check(CLI::IsMember({"mermaid", "dot"}));
  auto* demo = app.add_subcommand("demo", "Validate and draw the shipped workflows, then simulate a school year");
  demo->add_option("--dir", o->demo_dir, "Where to write the demo's files");

  auto* init = app.add_subcommand("init", "Create or upgrade the database; store the zone and name; register new workflow versions");
  init->add_option("--institution", o->init.institution, "The institution's name (stored; see 'settings')");
  init->add_option("--institution-id", g.institution,
                   "Add (or upgrade) this institution in a database several share; its own zone, director, calendar,"
                   " settings and workflow versions (same as the global option)");
  init->add_option("--app-role", o->init.app_role,
                   "PostgreSQL: grant this role the rows of every table (the role serve and the commands connect as;"
                   " it must be neither a superuser nor BYPASSRLS)");
  init->add_flag("--shared-workflows", o->init.shared_workflows,
                 "PostgreSQL: register the workflows once for every institution of the database, and nothing else;"
                 " each institution's init then keeps no copy of them (a changed one is its own, under a new version)");
  init->add_flag("--regional", o->init.regional,
                 "PostgreSQL: this institution is the region's mentoring centre; it reads the list of institutions"
                 " and their signed annual reports (region rollup), and nothing else of theirs");
  init->add_option("--regional-role", o->init.regional_role,
                   "PostgreSQL: grant this role the views region_institutions and region_reports, and no table");
  init->add_option("--institution-address", o->init.institution_address,
                   "The institution's address, which its consents state (stored; see 'settings')");
  init->add_option("--director", o->init.director.id, "Register the first director with this id");
  init->add_option("--name", o->init.director.name, "The director's full name (with --director)");
  init->add_option("--calendar", o->init.calendar_source,
                   "The production calendar to store (YYYY-MM-DD off|work per line; default: the shipped "
                   "calendar/ru.txt, env MENTORFLOW_CALENDAR)");
  init->footer("--zone ZONE (IANA, default Europe/Moscow) is stored: every date is a calendar date in it.");

  auto* settings = app.add_subcommand("settings", "Read or change the institution's stored settings");
  settings->add_option("KEY", o->setting_key, "A setting (without one: all of them)");
  settings->add_option("VALUE", o->setting_value, "The new value (a curator or the director, with --as)");

  auto* backup = app.add_subcommand("backup", "A consistent copy of an SQLite database while it is in use (0600, checked)");
  backup->add_option("--to", o->backup_to, "The new backup file (must not exist)")->required();

  auto* table = app.add_subcommand("table", "The data tables (tables/NAME.csv beside the workflows) as init stored them");
  table->require_subcommand(1);
  table->fallthrough();
  auto* table_list = table->add_subcommand("list", "Every stored version of every table");
  auto* table_show = table->add_subcommand("show", "A table as stored (CSV; with --json its rows)");
  table_show->add_option("NAME", o->table_name, "The table's name (its file's name without .csv)")->required();
  table_show->add_option("--version", o->table_version, "An earlier version (default: the latest, which conditions read)")
      ->check(CLI::PositiveNumber);
  table->footer("Edit tables/NAME.csv beside the workflows and run 'mentorflow init': it stores a new version\n"
                "(the earlier ones are kept) and conditions read it from then on.\n");

  auto* migrate = app.add_subcommand("migrate", "Move running instances of a workflow onto another registered version");
  migrate->add_option("WORKFLOW", o->migrate.workflow, "Workflow name")->required();
  migrate->add_option("--to", o->migrate.to_version, "The version to move to (registered by 'init')")->required();
  migrate->add_option("--map", o->maps, "OLD=NEW: instances in state OLD go to state NEW (repeat)");
  migrate->add_flag("--dry-run", o->migrate.dry_run, "Show what would move and what blocks; change nothing");

  auto* import = app.add_subcommand("import", "Apply a JSON Lines file of starts, events and signatures: all or nothing");
  import->add_option("FILE", o->import_file, "The file, or - for standard input")->required();
  import->add_flag("--dry-run", o->import_dry_run, "Check every line against the database; keep nothing");

  out->push_back({validate, [&g, o] { return Validate(g, o->paths, o->strict); }});
  out->push_back({graph, [&g, o] { return Graph(g, o->workflow, o->format); }});
  out->push_back({demo, [&g, o] {
                    return app::RunDemo({g.workflows, g.templates, o->demo_dir, Share() + "/demo/school_year.yaml"});
                  }});
  out->push_back({init, [&g, o] { return Init(g, o->init); }});
  out->push_back({settings, [&g, o] { return Settings(g, *o); }});
  out->push_back({backup, [&g, o] { return Backup(g, o->backup_to); }});
  out->push_back({table_list, [&g] { return Tables(g, "", 0); }});
  out->push_back({table_show, [&g, o] { return Tables(g, o->table_name, o->table_version); }});
  out->push_back({migrate, [&g, o] { return Migrate(g, *o); }});
  out->push_back({import, [&g, o] { return Import(g, *o); }});
}

}  // namespace mentorflow::cli
