// The `mentorflow` command: parses the command line, calls the engine, prints.
// No logic of its own. Exit codes follow DESIGN.md: 0 done, 1 bad input,
// 2 not found, 3 refused, 4 conflict, 5 storage or internal error.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/delivery.h"
#include "app/agenda.h"
#include "app/demo.h"
#include "app/documents.h"
#include "cli/import.h"
#include "cli/stats.h"
#include "engine/graph.h"
#include "engine/ics.h"
#include "engine/loader.h"
#include "engine/text.h"
#include "storage/store.h"

namespace mf = mentorflow;
using nlohmann::json;

namespace {

// Output never fails on what is stored: a string that is not UTF-8 (a
// database written by hand or by an older mentorflow) is printed with
// U+FFFD in JSON, and with \xHH escapes in text, where control characters
// are escaped too so that no value can forge a line.
constexpr auto kLenient = json::error_handler_t::replace;
std::string E(std::string_view s) { return mf::EscapeControls(s); }
// A JSON column as stored; text that is not JSON (edited by hand) is shown as
// the string it is rather than ending the command.
json Stored(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  return j.is_discarded() ? json(text) : j;
}

std::string EnvOr(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

// Where the shipped workflows, templates, calendar and demo are: $MENTORFLOW_SHARE,
// else ../share/mentorflow beside the binary (an installed tree: PREFIX/bin,
// PREFIX/share/mentorflow), else share/mentorflow beside it (the build tree,
// where CMake links it to the sources). Nothing of the source tree is
// compiled in: a copied or moved installation finds its own files.
std::string ShareDir() {
  if (const char* v = std::getenv("MENTORFLOW_SHARE"); v && *v) return v;
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "share/mentorflow";
  const std::filesystem::path installed = exe.parent_path().parent_path() / "share" / "mentorflow";
  if (std::filesystem::is_directory(installed / "workflows", ec)) return installed.string();
  return (exe.parent_path() / "share" / "mentorflow").string();
}

const std::string& Share() {
  static const std::string dir = ShareDir();
  return dir;
}

struct Globals {
  std::string db = EnvOr("MENTORFLOW_DB", "sqlite:mentorflow.db");
  std::string workflows = EnvOr("MENTORFLOW_WORKFLOWS", Share() + "/workflows");
  std::string templates = EnvOr("MENTORFLOW_TEMPLATES", Share() + "/templates");
  std::string now = EnvOr("MENTORFLOW_NOW", "");
  std::string actor = EnvOr("MENTORFLOW_ACTOR", "");
  std::string zone = EnvOr("MENTORFLOW_ZONE", "");  // init stores it; other commands use the stored one
  std::string log_level = EnvOr("MENTORFLOW_LOG", "warn");
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
  if (g.json) std::cout << json{{"error", {{"code", code}, {"reason", message}}}}.dump(2, ' ', false, kLenient) << "\n";
  else std::cerr << "mentorflow: " << message << "\n";
  return code;
}

int Validate(const Globals& g, std::vector<std::string> paths, bool strict) {
  mf::LoadOptions opts;
  opts.templates_dir = g.templates;
  opts.strict = strict;
  bool defaults = paths.empty();
  if (defaults) paths.push_back(g.workflows);
  std::unique_ptr<mf::Catalog> shipped;
  if (!defaults) shipped = std::make_unique<mf::Catalog>(mf::Catalog::Load({g.workflows}, opts));
  auto c = mf::Catalog::Load(paths, opts, shipped.get());
  if (g.json) {
    json names = json::array();
    for (const auto& d : c.definitions()) names.push_back({{"workflow", d->name}, {"version", d->version}, {"file", d->source_path}});
    std::cout << json{{"ok", c.ok()}, {"files", c.files()}, {"workflows", names}, {"errors", DiagnosticsJson(c.errors())},
                      {"warnings", DiagnosticsJson(c.warnings())}}.dump(2, ' ', false, kLenient)
              << "\n";
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
  if (g.json) std::cout << json{{"workflow", def->name}, {"format", format}, {"graph", text}}.dump(2, ' ', false, kLenient) << "\n";
  else std::cout << text;
  return 0;
}

// ---- commands on the database ---------------------------------------------------

// `zone` is the institution's (stored at init): --now is a wall time there.
bool ResolveNow(const Globals& g, const std::string& zone, mf::Now* now, std::string* error) {
  if (!mf::IsKnownZone(zone)) {
    *error = "unknown time zone '" + zone + "'";
    return false;
  }
  if (g.now.empty()) {  // the only place that reads the clock
    auto t = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
    *now = mf::Now::At(mf::Instant{t.time_since_epoch()}, zone);
    return true;
  }
  auto t = mf::ParseLocalTime(g.now, zone);
  if (!t) {
    *error = "--now: '" + g.now + "' is not YYYY-MM-DD or YYYY-MM-DDTHH:MM (years 1900 to 2200)";
    return false;
  }
  *now = mf::Now::At(*t, zone);
  return true;
}

json InstanceJson(const mf::InstanceRecord& r) {
  return {{"id", r.id},
          {"workflow", r.workflow},
          {"version", r.workflow_version},
          {"state", r.state},
          {"fields", Stored(r.fields_json)},
          {"parent", r.parent.empty() ? json() : json(r.parent)},
          {"created", r.created},
          {"updated", r.updated},
          {"revision", r.version}};
}

mf::Input ParseSets(const std::vector<std::string>& sets, std::string* error) {
  mf::Input in;
  for (const auto& kv : sets) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      *error = "--set expects KEY=VALUE, got '" + kv + "'";
      return {};
    }
    in.push_back({kv.substr(0, eq), kv.substr(eq + 1)});
  }
  return in;
}

struct DbCommand {
  const Globals& g;
  std::unique_ptr<mf::Store> store;
  mf::Now now;
  std::string zone = "Europe/Moscow";  // the institution's
  int code = 0;

  // `initialising`: the zone comes from --zone (or the stored one, or the default), not the database.
  // `read_only`: the command only reads (show, list, history, reminders,
  // agenda, settings without a value) and works on a file it cannot write.
  explicit DbCommand(const Globals& globals, bool initialising = false, bool read_only = false) : g(globals) {
    mf::Status st;
    store = mf::Store::Open(g.db, &st, mf::StoreOptions{g.templates, read_only});
    if (!store) {
      code = Fail(g, st.exit_code(), st.message());
      return;
    }
    if (initialising) {
      std::string stored;
      if (!g.zone.empty()) zone = g.zone;
      else if (store->GetSetting("zone", &stored).ok()) zone = stored;
      if (!mf::IsKnownZone(zone)) {
        code = Fail(g, 1, "--zone: unknown time zone '" + zone + "' (an IANA name such as Europe/Samara)");
        return;
      }
    } else {
      if (mf::Status s = store->GetSetting("zone", &zone); !s.ok()) {
        code = Fail(g, s.exit_code(), s.message());
        return;
      }
      if (!g.zone.empty() && g.zone != zone) {
        code = Fail(g, 1, "--zone " + g.zone + ": the institution's zone is " + zone +
                              " (stored at init; change it with 'mentorflow settings zone ZONE')");
        return;
      }
    }
    std::string err;
    if (!ResolveNow(g, zone, &now, &err)) code = Fail(g, 1, err);
  }
  bool ok() const { return code == 0; }
  int Report(const mf::Status& st, const mf::Refusal* refusal = nullptr) {
    if (st.ok()) return 0;
    if (g.json) {
      json e = {{"code", st.exit_code()}, {"reason", st.message()}};
      if (refusal && !refusal->rule.empty()) e["rule"] = refusal->rule;
      else if (!st.rule().empty()) e["rule"] = st.rule();
      std::cout << json{{"error", e}}.dump(2, ' ', false, kLenient) << "\n";
    } else {
      std::cerr << "mentorflow: " << st.message() << "\n";
    }
    return st.exit_code();
  }
  bool NeedActor() {
    if (!g.actor.empty()) return true;
    code = Fail(g, 1, "who acts? give --as PERSON_ID (or MENTORFLOW_ACTOR)");
    return false;
  }
};

int Init(const Globals& g, const mf::Store::InitOptions& options) {
  mf::LoadOptions opts;
  opts.templates_dir = g.templates;
  auto c = mf::Catalog::Load({g.workflows}, opts);
  if (!c.ok()) {
    PrintDiagnostics(c.errors());
    return Fail(g, 1, "the workflows do not validate; nothing was changed");
  }
  if (!options.director.id.empty() && options.director.name.empty())
    return Fail(g, 1, "--director ID needs --name NAME (the director's full name)");
  DbCommand cmd(g, true);
  if (!cmd.ok()) return cmd.code;
  std::vector<std::string> registered;
  mf::Store::InitOptions o = options;
  o.zone = g.zone;
  {
    // The production calendar: --calendar FILE, else the shipped one.
    const bool given = !o.calendar_source.empty();
    if (!given) o.calendar_source = EnvOr("MENTORFLOW_CALENDAR", Share() + "/calendar/ru.txt");
    std::ifstream in(o.calendar_source, std::ios::binary);
    if (!in && given) return Fail(g, 1, "--calendar: cannot read " + o.calendar_source);
    if (!in)
      spdlog::warn("no production calendar at {}: working days count Monday to Friday only", o.calendar_source);
    std::stringstream text;
    text << in.rdbuf();
    o.calendar = text.str();
  }
  bool no_director = false;
  o.no_director = &no_director;
  auto st = cmd.store->Init(c, cmd.now, &registered, o);
  if (!st.ok()) return cmd.Report(st);
  if (no_director)
    std::cerr << "mentorflow: warning: the database has no director, so nobody can register people yet;"
                 " run: mentorflow init --director ID --name NAME\n";
  if (g.json) std::cout << json{{"db", g.db}, {"schema", mf::Store::kSchemaVersion}, {"registered", registered}}.dump(2, ' ', false, kLenient) << "\n";
  else {
    std::cout << g.db << ": schema version " << mf::Store::kSchemaVersion << "\n";
    for (const auto& r : registered) std::cout << "registered " << r << "\n";
    if (registered.empty()) std::cout << "workflows up to date\n";
  }
  return 0;
}


json ReminderJson(const mf::ReminderRecord& r) {
  return {{"id", r.id},
          {"on", r.on},
          {"deadline", r.deadline.empty() ? json() : json(r.deadline)},
          {"kind", r.kind},
          {"to", r.to},
          {"instance", r.instance},
          {"workflow", r.workflow},
          {"subject", r.subject},
          {"text", r.text},
          {"status", r.status},
          {"tries", r.tries}};
}

// An order's number, N/YYYY: no colon, a slash.
bool IsOrderNumber(const std::string& doc) {
  return doc.find(':') == std::string::npos && doc.find('/') != std::string::npos;
}

std::string JoinIds(const std::vector<std::string>& ids) {
  std::string out;
  for (const auto& i : ids) out += (out.empty() ? "" : ", ") + i;
  return out;
}

json DocumentJson(const mf::DocumentRecord& d) {
  json signers = json::array();
  for (const auto& p : d.places)
    signers.push_back({{"person", !p.signed_by.empty() ? json(p.signed_by) : p.person.empty() ? json() : json(p.person)},
                       {"for", p.signed_by.empty() || p.signed_by == p.person ? json() : json(p.person)},
                       {"as", p.as},
                       {"capacity", p.capacity.empty() ? json() : json(p.capacity)},
                       {"signed_at", p.signed_at.empty() ? json() : json(p.signed_at)}});
  json out = {{"id", d.Id()},
          {"kind", d.name},
          {"title", d.title},
          {"instance", d.instance.empty() ? json() : json(d.instance)},
          {"workflow", d.workflow},
          {"issue", d.issue},
          {"status", d.status},
          {"sha256", d.sha256.empty() ? json() : json(d.sha256)},
          {"intact", d.intact},
          {"issued", d.issued_at},
          {"erased", d.erased_at.empty() ? json() : json(d.erased_at)},
          {"redacted", d.redacted_at.empty() ? json() : json(d.redacted_at)},
          {"signers", signers}};
  if (!d.number.empty()) {
    out["number"] = d.number;
    out["issued_by"] = d.issued_by;
    out["items"] = d.items;
  }
  return out;
}

void PrintDocument(const mf::DocumentRecord& d) {
  std::cout << E(d.Id()) << "  " << d.status << (d.intact ? "" : " (ALTERED: its text no longer matches its SHA-256)")
            << "  issued " << E(d.issued_at) << "  " << E(d.title) << "\n";
  if (!d.erased_at.empty()) std::cout << "  text destroyed " << E(d.erased_at) << " (its SHA-256 kept)\n";
  if (!d.redacted_at.empty())
    std::cout << "  a person it names was erased " << E(d.redacted_at) << ": their data replaced, the rest kept\n";
  if (!d.number.empty()) std::cout << "  lists: " << E(JoinIds(d.items)) << "  (issued by " << E(d.issued_by) << ")\n";
  for (const auto& p : d.places)
    std::cout << "  " << E(p.as) << ": " << (p.person.empty() ? "-" : E(p.person))
              << (p.signed_at.empty() ? "  not signed"
                                  : "  signed " + E(p.signed_at) + " by " + E(p.signed_by) + " as " + E(p.capacity))
              << "\n";
}

// DOC is INSTANCE:NAME or INSTANCE:NAME:ISSUE.
bool SplitDocument(const std::string& doc, std::string* instance, std::string* rest) {
  auto colon = doc.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == doc.size()) return false;
  *instance = doc.substr(0, colon);
  *rest = doc.substr(colon + 1);
  return true;
}

int DocRender(DbCommand& cmd, const std::string& doc_name, const std::string& format, const std::string& out_path) {
  const Globals& g = cmd.g;
  std::string instance, rest;
  const bool order = IsOrderNumber(doc_name);
  if (!order && !SplitDocument(doc_name, &instance, &rest))
    return Fail(g, 1, "DOC is INSTANCE:NAME[:ISSUE], e.g. 12:agreement, or an order N/YYYY");
  if (format != "html" && out_path.empty()) return Fail(g, 1, "--format " + format + " needs --out FILE");
  if (!cmd.NeedActor()) return cmd.code;  // who reads the personal data in it
  if (!out_path.empty())
    if (auto st = mf::CheckPrivateTarget(out_path); !st.ok()) return cmd.Report(st);
  mf::DocumentRecord d;
  const bool of_instance = !order && instance != "consent" && instance != "act";
  if (auto st = order ? cmd.store->Order(doc_name, &d) : cmd.store->Document(instance, rest, &d); !st.ok()) {
    // A stranger learns nothing from which documents an instance has.
    if (of_instance)
      if (auto read = cmd.store->AuthorizeRead({instance, {}, "", false}, g.actor, cmd.now); !read.ok())
        return cmd.Report(read);
    return cmd.Report(st);
  }
  // An instance's document: the instance's read rule first (recorded once
  // the document is known to print).
  if (of_instance)
    if (auto st = cmd.store->AuthorizeRead({instance, {}, "", false}, g.actor, cmd.now); !st.ok()) return cmd.Report(st);
  std::string institution;
  cmd.store->GetSetting("institution", &institution);
  mf::PrintableDocument printable;
  if (auto st = mf::Printable(g.templates, institution, cmd.zone, d, &printable); !st.ok()) return cmd.Report(st);
  if (auto st = of_instance ? cmd.store->AuthorizeRead({instance, {}, "doc render " + d.Id() + " (" + format + ")"},
                                                         g.actor, cmd.now)
                            : cmd.store->RecordDocumentRead(d, g.actor, format, cmd.now);
      !st.ok())
    return cmd.Report(st);
  mf::Status st;
  if (format == "html") {
    std::string page;
    st = mf::HtmlPage(printable, &page);
    if (st.ok() && out_path.empty()) std::cout << page;
    else if (st.ok())
      st = mf::WritePrivateFile(out_path, [&](const std::string& tmp) {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << page;
        out.flush();
        return out ? mf::Status::Ok() : mf::Status::Internal("cannot write " + out_path + " (is the disk full?)");
      });
  } else if (format == "odt") {
    st = mf::WritePrivateFile(out_path, [&](const std::string& tmp) { return mf::WriteOdt(printable, tmp); });
  } else {
    char dir_template[] = "/tmp/mentorflow-render-XXXXXX";
    if (!::mkdtemp(dir_template)) return Fail(g, 5, "cannot make a temporary directory");
    const std::string odt = std::string(dir_template) + "/" + d.name + ".odt";
    st = mf::WriteOdt(printable, odt);
    if (st.ok())
      st = mf::WritePrivateFile(out_path, [&](const std::string& tmp) { return mf::ConvertToPdf(odt, tmp); });
    std::error_code ec;
    std::filesystem::remove_all(dir_template, ec);
  }
  if (!st.ok()) return cmd.Report(st);
  if (!out_path.empty()) {
    if (g.json) std::cout << json{{"document", d.Id()}, {"format", format}, {"out", out_path}}.dump(2, ' ', false, kLenient) << "\n";
    else std::cout << out_path << "\n";
  }
  return 0;
}

json AttributesJson(const std::vector<std::pair<std::string, std::string>>& attrs) {
  json o = json::object();
  for (const auto& [k, v] : attrs) o[k] = v;
  return o;
}

// --attr NAME=VALUE, as given.
bool ParseAttrs(const Globals& g, const std::vector<std::string>& given,
                std::vector<std::pair<std::string, std::string>>* out, int* code) {
  for (const auto& a : given) {
    const auto eq = a.find('=');
    if (eq == std::string::npos || eq == 0) {
      *code = Fail(g, 1, "--attr: expected NAME=VALUE, got '" + mf::EscapeControls(a) + "'");
      return false;
    }
    out->push_back({a.substr(0, eq), a.substr(eq + 1)});
  }
  return true;
}

// `stats rating --direction D`: the ranking, names for a curator or moderator.
int Rating(DbCommand& cmd, const std::string& workflow, const std::string& group) {
  const Globals& g = cmd.g;
  mf::Store::RatingReport r;
  if (auto st = cmd.store->Rating(workflow, group, g.actor, cmd.now, &r); !st.ok()) return cmd.Report(st);
  const bool named = !r.names.empty();
  if (g.json) {
    json rows = json::array();
    for (size_t i = 0; i < r.entries.size(); ++i) {
      const auto& e = r.entries[i];
      json o = {{"rank", e.rank}, {"person", e.person}, {"score", e.score}, {"normalised", e.normalised},
                {"counted", e.records}};
      if (named) o["name"] = r.names[i];
      rows.push_back(o);
    }
    json weights = json::object(), factors = json::object();
    for (const auto& [k, v] : r.weights) weights[k] = v;
    for (const auto& [k, v] : r.factors) factors[k] = v;
    std::cout << json{{"workflow", r.workflow}, {"version", r.version}, {"direction", r.group},
                      {"title", r.group_title}, {"weights", weights}, {"factors", factors}, {"ranking", rows}}
                     .dump(2, ' ', false, kLenient)
              << "\n";
    return 0;
  }
  std::cout << "rating " << r.workflow << " v" << r.version << ": " << r.group << " «" << E(r.group_title) << "»\n";
  std::cout << "weights:";
  for (const auto& [k, v] : r.weights) std::cout << " " << k << "=" << v;
  if (!r.factors.empty()) {
    std::cout << "; factors:";
    for (const auto& [k, v] : r.factors) std::cout << " " << k << "=" << v;
  }
  std::cout << "\n";
  if (r.entries.empty()) std::cout << "nobody counted yet\n";
  for (size_t i = 0; i < r.entries.size(); ++i) {
    const auto& e = r.entries[i];
    char normalised[16];
    std::snprintf(normalised, sizeof normalised, "%.1f", e.normalised);
    std::cout << e.rank << ". " << E(e.person) << (named ? "  " + E(r.names[i]) : "") << "  " << normalised
              << "  (score " << e.score << ", " << e.records << " counted)\n";
  }
  return 0;
}

// `table list`, `table show NAME [--version N]`: the data tables as stored.
int Tables(DbCommand& cmd, const std::string& name, int version) {
  const Globals& g = cmd.g;
  if (name.empty()) {
    std::vector<mf::Store::TableVersion> all;
    if (auto st = cmd.store->Tables(&all); !st.ok()) return cmd.Report(st);
    if (g.json) {
      json arr = json::array();
      for (const auto& t : all) arr.push_back({{"name", t.name}, {"version", t.version}, {"loaded_at", t.loaded_at}});
      std::cout << arr.dump(2, ' ', false, kLenient) << "\n";
    } else {
      for (const auto& t : all) std::cout << t.name << " v" << t.version << "  loaded " << t.loaded_at << "\n";
      if (all.empty()) std::cout << "no tables (tables/NAME.csv beside the workflows are stored by init)\n";
    }
    return 0;
  }
  mf::Store::TableVersion t;
  if (auto st = cmd.store->GetTable(name, version, &t); !st.ok()) return cmd.Report(st);
  if (!g.json) {
    std::cout << t.source << (t.source.empty() || t.source.back() == '\n' ? "" : "\n");
    return 0;
  }
  std::vector<mf::TableProblem> problems;
  auto parsed = mf::ParseTable(t.name, t.source, &problems);
  if (!parsed) return cmd.Report(mf::Status::Internal("the stored table '" + t.name + "' does not parse"));
  json rows = json::array();
  for (const auto& r : parsed->rows) {
    json o = json::object();
    for (size_t i = 0; i < r.size(); ++i) o[parsed->columns[i]] = r[i];
    rows.push_back(o);
  }
  std::cout << json{{"name", t.name}, {"version", t.version}, {"loaded_at", t.loaded_at}, {"columns", parsed->columns},
                    {"rows", rows}}
                   .dump(2, ' ', false, kLenient)
            << "\n";
  return 0;
}

int Settings(DbCommand& cmd, const std::string& key, const std::vector<std::string>& value) {
  const Globals& g = cmd.g;
  if (value.size() > 1) return Fail(g, 1, "settings KEY VALUE takes one value (quote it if it has spaces)");
  if (!value.empty()) {
    if (!cmd.NeedActor()) return cmd.code;
    auto st = cmd.store->SetSetting(key, value[0], g.actor, cmd.now);
    if (!st.ok()) return cmd.Report(st);
    if (g.json) std::cout << json{{key, value[0]}}.dump(2, ' ', false, kLenient) << "\n";
    else std::cout << key << " = " << E(value[0]) << "\n";
    return 0;
  }
  std::vector<std::pair<std::string, std::string>> all;
  if (!key.empty()) {
    std::string v;
    auto st = cmd.store->GetSetting(key, &v);
    if (!st.ok()) return cmd.Report(st);
    all.push_back({key, v});
  } else if (auto st = cmd.store->Settings(&all); !st.ok()) {
    return cmd.Report(st);
  }
  if (g.json) {
    json o = json::object();
    for (const auto& [k, v] : all) o[k] = v;
    std::cout << o.dump(2, ' ', false, kLenient) << "\n";
  } else if (!key.empty()) {
    std::cout << E(all[0].second) << "\n";
  } else {
    for (const auto& [k, v] : all) std::cout << E(k) << " = " << E(v) << "\n";
  }
  return 0;
}

int Tick(DbCommand& cmd) {
  const Globals& g = cmd.g;
  mf::Store::TickReport report;
  auto st = cmd.store->Tick(cmd.now, &report);
  if (st.code() == mf::Code::kConflict) {  // a user changed an instance meanwhile: go on from where it stopped
    mf::Store::TickReport more;
    st = cmd.store->Tick(cmd.now, &more);
    for (auto& f : more.fired) report.fired.push_back(std::move(f));
    report.reminders_due += more.reminders_due;
    report.unreadable = std::move(more.unreadable);
  }
  if (!st.ok()) return cmd.Report(st);
  if (g.json) {
    json fired = json::array();
    for (const auto& f : report.fired)
      fired.push_back({{"instance", f.instance}, {"workflow", f.workflow}, {"event", f.event}, {"due", f.due},
                       {"at", f.at}, {"from", f.from}, {"to", f.to}, {"refused", f.refused},
                       {"reason", f.refused ? json(f.reason) : json()}});
    std::cout << json{{"today", mf::FormatDate(cmd.now.today)},
                      {"fired", fired},
                      {"reminders_due", report.reminders_due},
                      {"unreadable", report.unreadable}}
                     .dump(2, ' ', false, kLenient)
              << "\n";
  } else {
    for (const auto& f : report.fired)
      std::cout << f.at << "  " << f.workflow << " " << f.instance << ": " << f.event << " (due " << f.due << ") "
                << (f.refused ? "refused: " + f.reason : f.from + " -> " + f.to) << "\n";
    std::cout << report.fired.size() << " deadline(s) fired, " << report.reminders_due << " reminder(s) came due\n";
  }
  if (!report.unreadable.empty()) {
    std::string ids;
    for (const auto& id : report.unreadable) ids += (ids.empty() ? "" : ", ") + E(id);
    std::cerr << "mentorflow: the deadlines of instance(s) " << ids
              << " did not fire: their stored state or fields are not what their workflow knows (see the log);"
                 " the rest fired\n";
    return 5;
  }
  return 0;
}

int Reminders(DbCommand& cmd, const mf::Store::ReminderFilter& filter) {
  const Globals& g = cmd.g;
  if (!cmd.NeedActor()) return cmd.code;
  std::vector<mf::ReminderRecord> rs;
  auto st = cmd.store->Reminders(filter, &rs);
  if (!st.ok()) return cmd.Report(st);
  // Whose they are: the one asked for, the instance's people, or else every
  // recipient listed; the read rule is the store's.
  mf::Store::ReadScope scope{filter.instance, {}, "reminders"};
  if (!filter.person.empty()) scope.people.push_back(filter.person);
  else if (filter.instance.empty())
    for (const auto& r : rs) scope.people.push_back(r.to);
  if (auto st2 = cmd.store->AuthorizeRead(scope, g.actor, cmd.now); !st2.ok()) return cmd.Report(st2);
  if (g.json) {
    json arr = json::array();
    for (const auto& r : rs) arr.push_back(ReminderJson(r));
    std::cout << arr.dump(2, ' ', false, kLenient) << "\n";
    return 0;
  }
  for (const auto& r : rs)
    std::cout << r.id << "\t" << r.on << "\t" << r.status << (r.tries ? " (" + std::to_string(r.tries) + " tries)" : "")
              << "\t" << r.kind << "\t" << E(r.to) << "\t" << E(r.workflow) << " " << E(r.instance) << "\t"
              << E(r.subject) << "\n";
  if (rs.empty()) std::cout << "no reminders\n";
  return 0;
}

int Agenda(DbCommand& cmd, const std::string& person, const std::string& from_text, const std::string& to_text,
           const std::string& format) {
  const Globals& g = cmd.g;
  mf::Date from = cmd.now.today, to = cmd.now.today + date::days{365};
  if (!from_text.empty()) {
    auto d = mf::ParseDate(from_text);
    if (!d) return Fail(g, 1, "--from: '" + from_text + "' is not YYYY-MM-DD");
    from = *d;
  }
  if (!to_text.empty()) {
    auto d = mf::ParseDate(to_text);
    if (!d) return Fail(g, 1, "--to: '" + to_text + "' is not YYYY-MM-DD");
    to = *d;
  }
  if (to < from) return Fail(g, 1, "--to is before --from");
  if (!cmd.NeedActor()) return cmd.code;
  if (auto st = cmd.store->AuthorizeRead({"", person.empty() ? std::vector<std::string>{} : std::vector<std::string>{person},
                                          "agenda"},
                                         g.actor, cmd.now);
      !st.ok())
    return cmd.Report(st);
  std::vector<mf::DeadlineRecord> deadlines;
  std::vector<mf::ReminderRecord> reminders;
  const std::string fmt = g.json ? "json" : format;
  if (fmt == "ics") {
    std::string ics;
    if (auto st = mf::AgendaIcs(*cmd.store, person, from, to, cmd.now.instant, &ics); !st.ok()) return cmd.Report(st);
    std::cout << ics;
    return 0;
  }
  auto st = cmd.store->Agenda(person, from, to, &deadlines, &reminders);
  if (!st.ok()) return cmd.Report(st);
  if (fmt == "json") {
    json ds = json::array(), rs = json::array();
    for (const auto& d : deadlines)
      ds.push_back({{"instance", d.instance}, {"workflow", d.workflow}, {"state", d.state}, {"event", d.event},
                    {"due", d.due}, {"recipients", d.recipients}, {"title", d.workflow_title},
                    {"state_title", d.state_title}});
    for (const auto& r : reminders) rs.push_back(ReminderJson(r));
    std::cout << json{{"from", mf::FormatDate(from)}, {"to", mf::FormatDate(to)}, {"deadlines", ds}, {"reminders", rs}}
                     .dump(2, ' ', false, kLenient)
              << "\n";
    return 0;
  }
  for (const auto& d : deadlines) {
    std::cout << d.due << "  deadline  " << E(d.workflow) << " " << E(d.instance) << " (" << E(d.state)
              << "): " << E(d.event) << "\n";
    for (const auto& r : reminders)
      if (mf::ReminderBelongsTo(r, d)) std::cout << "  " << r.on << "  reminder to " << E(r.to) << ": " << E(r.subject) << "\n";
  }
  for (const auto& r : reminders)
    if (r.deadline.empty()) std::cout << r.on << "  notice to " << E(r.to) << ": " << E(r.subject) << "\n";
  if (deadlines.empty() && reminders.empty())
    std::cout << "nothing due from " << mf::FormatDate(from) << " to " << mf::FormatDate(to) << "\n";
  return 0;
}

int Deliver(DbCommand& cmd, const std::string& via) {
  const Globals& g = cmd.g;
  std::string timeout = "30";
  cmd.store->GetSetting("smtp_timeout_seconds", &timeout);
  std::unique_ptr<mf::Channel> channel;
  if (auto st = mf::OpenChannel(via, std::stoi(timeout), &channel); !st.ok()) return cmd.Report(st);
  mf::DeliveryReport report;
  auto st = mf::DeliverPending(*cmd.store, *channel, cmd.now, &report);
  if (g.json) {
    json lines = json::array();
    for (const auto& l : report.lines)
      lines.push_back({{"id", l.id}, {"to", l.to}, {"status", l.status}, {"error", l.error.empty() ? json() : json(l.error)}});
    json out = {{"via", channel->Describe()}, {"sent", report.sent}, {"failed", report.failed}, {"dead", report.dead},
                {"reminders", lines}};
    if (!st.ok()) out["error"] = {{"code", st.exit_code()}, {"reason", st.message()}};
    std::cout << out.dump(2, ' ', false, kLenient) << "\n";
  } else {
    for (const auto& l : report.lines)
      std::cout << l.id << "\t" << E(l.to) << "\t" << l.status << (l.error.empty() ? "" : "\t" + E(l.error)) << "\n";
    std::cout << report.sent << " sent, " << report.failed << " failed (retried later), " << report.dead << " dead\n";
    if (!st.ok()) std::cerr << "mentorflow: " << st.message() << "\n";
  }
  return st.exit_code();
}

int Ack(DbCommand& cmd, const std::string& id_text) {
  const Globals& g = cmd.g;
  if (!cmd.NeedActor()) return cmd.code;
  if (id_text.empty() || id_text.size() > 18 || id_text.find_first_not_of("0123456789") != std::string::npos)
    return Fail(g, 1, "REMINDER is a reminder's number, got '" + id_text + "'");
  auto st = cmd.store->Ack(std::stoll(id_text), g.actor, cmd.now);
  if (!st.ok()) return cmd.Report(st);
  if (g.json) std::cout << json{{"id", std::stoll(id_text)}, {"status", "acknowledged"}}.dump(-1, ' ', false, kLenient) << "\n";
  else std::cout << id_text << ": acknowledged\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // What this program creates (databases, rendered documents, backups,
  // exports) holds children's personal data: for its owner only.
  ::umask(077);
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
  app.add_option("--log-level", g.log_level, "Operational log on stderr: trace, debug, info, warn, error, off (env MENTORFLOW_LOG)")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));

  std::vector<std::string> paths;
  auto* validate = app.add_subcommand("validate", "Check workflow YAML files; errors as file:line:col: error: ...");
  validate->add_option("PATH", paths, "Files or directories (default: the --workflows directory)");
  bool validate_strict = false;
  validate->add_flag("--strict", validate_strict,
                     "A missing title (of the workflow, a state, transition, field, enum value or document) is an "
                     "error, not a warning: people would read the English name");
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

  mf::Store::InitOptions init_options;
  auto* init = app.add_subcommand("init", "Create or upgrade the database; store the zone and name; register new workflow versions");
  init->add_option("--institution", init_options.institution, "The institution's name (stored; see 'settings')");
  init->add_option("--director", init_options.director.id, "Register the first director with this id");
  init->add_option("--name", init_options.director.name, "The director's full name (with --director)");
  init->add_option("--calendar", init_options.calendar_source,
                   "The production calendar to store (YYYY-MM-DD off|work per line; default: the shipped "
                   "calendar/ru.txt, env MENTORFLOW_CALENDAR)");
  init->footer("--zone ZONE (IANA, default Europe/Moscow) is stored: every date is a calendar date in it.");
  init->fallthrough();

  std::string setting_key;
  std::vector<std::string> setting_value;
  auto* settings = app.add_subcommand("settings", "Read or change the institution's stored settings");
  settings->add_option("KEY", setting_key, "A setting (without one: all of them)");
  settings->add_option("VALUE", setting_value, "The new value (a curator or the director, with --as)");
  settings->fallthrough();

  auto* tick = app.add_subcommand("tick", "Fire every deadline and reminder due at --now; safe to repeat and to run twice at once");
  tick->fallthrough();

  std::string backup_to;
  auto* backup = app.add_subcommand("backup", "A consistent copy of an SQLite database while it is in use (0600, checked)");
  backup->add_option("--to", backup_to, "The new backup file (must not exist)")->required();
  backup->fallthrough();

  mf::Store::ReminderFilter reminder_filter;
  auto* reminders = app.add_subcommand("reminders", "The outbox: reminders that have come due, with their delivery status");
  reminders->add_option("--status", reminder_filter.status,
                        "Only this status: scheduled, pending, sent, acknowledged, failed, retried, dead, cancelled");
  reminders->add_option("--for", reminder_filter.person, "Only those to this person");
  reminders->add_option("--instance", reminder_filter.instance, "Only those about this instance");
  reminders->fallthrough();

  std::string agenda_for, agenda_from, agenda_to, agenda_format = "text";
  auto* agenda = app.add_subcommand("agenda", "What is coming: deadlines and scheduled reminders (text, json, or an iCalendar file)");
  agenda->add_option("--for", agenda_for, "Only what concerns this person");
  agenda->add_option("--from", agenda_from, "From this day, YYYY-MM-DD (default: today)");
  agenda->add_option("--to", agenda_to, "To this day, YYYY-MM-DD (default: a year from today)");
  agenda->add_option("--format", agenda_format, "text, json or ics")->check(CLI::IsMember({"text", "json", "ics"}));
  agenda->fallthrough();

  std::string via;
  auto* deliver = app.add_subcommand("deliver", "Hand every pending reminder to a channel and mark it sent");
  deliver->add_option("--via", via, "jsonl:PATH or smtp://HOST[:PORT]")->required();
  deliver->fallthrough();

  std::string ack_id;
  auto* ack = app.add_subcommand("ack", "Acknowledge a reminder (its recipient, a curator or the director)");
  ack->add_option("REMINDER", ack_id, "The reminder's number (see 'reminders')")->required();
  ack->fallthrough();

  mf::PersonRecord person;
  auto* person_cmd = app.add_subcommand("person", "People: add, update (a curator or the director), show (--as)");
  person_cmd->require_subcommand(1);
  auto* person_add = person_cmd->add_subcommand("add", "Register a person with their roles");
  person_add->add_option("ID", person.id, "The person's id")->required();
  person_add->add_option("--name", person.name, "Full name (personal data, kept apart)")->required();
  person_add->add_option("--role", person.roles, "A role (repeat for several)")->required();
  person_add->add_option("--birth", person.birth, "Birth date, YYYY-MM-DD");
  person_add->add_option("--guardian", person.guardian, "The guardian's person id (for a minor)");
  person_add->add_option("--email", person.email, "Where e-mailed reminders go");
  std::vector<std::string> add_attrs, update_attrs;
  person_add->add_option("--attr", add_attrs, "NAME=VALUE: an attribute the workflows declare (attributes:), repeatable");
  mf::PersonUpdate update;
  std::string update_name, update_birth, update_email, update_guardian;
  auto* person_update = person_cmd->add_subcommand("update", "Change a person's name, birth date, e-mail, guardian or roles");
  person_update->add_option("ID", update.id, "The person's id")->required();
  auto* o_name = person_update->add_option("--name", update_name, "Full name");
  auto* o_birth = person_update->add_option("--birth", update_birth, "Birth date, YYYY-MM-DD");
  auto* o_email = person_update->add_option("--email", update_email, "E-mail address (empty: none)");
  auto* o_guardian = person_update->add_option("--guardian", update_guardian, "The guardian's person id (empty: none)");
  person_update->add_option("--add-role", update.add_roles, "A role to add (repeat for several)");
  person_update->add_option("--remove-role", update.remove_roles, "A role to remove (repeat for several)");
  person_update->add_option("--attr", update_attrs, "NAME=VALUE: set an attribute (NAME= removes it), repeatable");
  std::string show_person;
  auto* person_show = person_cmd->add_subcommand(
      "show", "A person's record (the person, their guardian, a curator or the director; each read is recorded)");
  person_show->add_option("ID", show_person, "The person's id")->required();
  std::string export_person;
  auto* person_export = person_cmd->add_subcommand(
      "export", "Everything stored about a person, as JSON (the person, their guardian, a curator or the director)");
  person_export->add_option("ID", export_person, "The person's id")->required();
  person_export->fallthrough();
  std::string request_person, request_kind = "information";
  auto* person_request = person_cmd->add_subcommand(
      "request", "A subject's request for information about their data: answered within 10 working days (the "
                 "curators are reminded; see 'personal_data')");
  person_request->add_option("ID", request_person, "The person's id")->required();
  person_request->add_option("--kind", request_kind, "What is asked: information")->check(CLI::IsMember({"information"}));
  person_request->fallthrough();
  std::string erase_person;
  auto* person_erase = person_cmd->add_subcommand(
      "erase", "Destroy a person's personal data once their consent is revoked or nothing running names them "
               "(a curator or the director); writes the destruction act act:ID");
  person_erase->add_option("ID", erase_person, "The person's id")->required();
  person_erase->fallthrough();
  person_cmd->fallthrough();
  person_add->fallthrough();
  person_update->fallthrough();
  person_show->fallthrough();

  std::string consent_person;
  auto* consent = app.add_subcommand("consent", "Consent to personal data processing: sign or revoke");
  consent->require_subcommand(1);
  std::string consent_paper;
  auto* consent_sign = consent->add_subcommand(
      "sign", "Issue and sign a person's consent document (the person, their guardian for a minor, or a curator "
              "recording a paper form with --paper)");
  consent_sign->add_option("PERSON", consent_person, "Person id")->required();
  consent_sign->add_option("--paper", consent_paper, "A curator records a paper form: the date written on it (YYYY-MM-DD)");
  auto* consent_revoke = consent->add_subcommand("revoke", "Revoke a person's consent");
  consent_revoke->add_option("PERSON", consent_person, "Person id")->required();
  for (auto* c : {consent, consent_sign, consent_revoke}) c->fallthrough();

  std::string start_workflow, parent, id, event;
  std::vector<std::string> sets;
  auto* start = app.add_subcommand("start", "Start an instance of a workflow; prints its id");
  start->add_option("WORKFLOW", start_workflow, "Workflow name")->required();
  start->add_option("--set", sets, "KEY=VALUE, parsed by the field's type (repeat)");
  start->add_option("--parent", parent, "The parent instance id");
  start->fallthrough();

  auto* send = app.add_subcommand("send", "Send one event to an instance; prints the new state");
  send->add_option("ID", id, "Instance id")->required();
  send->add_option("EVENT", event, "Event name")->required();
  send->add_option("--set", sets, "KEY=VALUE, the event's input (repeat)");
  send->fallthrough();

  auto* show = app.add_subcommand("show", "Show an instance");
  show->add_option("ID", id, "Instance id")->required();
  show->fallthrough();
  std::string list_workflow, list_state;
  auto* list = app.add_subcommand("list", "List instances");
  list->add_option("--workflow", list_workflow, "Only this workflow");
  list->add_option("--state", list_state, "Only this state");
  list->fallthrough();
  auto* history = app.add_subcommand("history", "The history of an instance");
  history->add_option("ID", id, "Instance id")->required();
  history->fallthrough();

  std::string doc_name, doc_instance, doc_format = "html", doc_out;
  auto* table = app.add_subcommand("table", "The data tables (tables/NAME.csv beside the workflows) as init stored them");
  table->require_subcommand(1);
  auto* table_list = table->add_subcommand("list", "Every stored version of every table");
  std::string table_name;
  int table_version = 0;
  auto* table_show = table->add_subcommand("show", "A table as stored (CSV; with --json its rows)");
  table_show->add_option("NAME", table_name, "The table's name (its file's name without .csv)")->required();
  table_show->add_option("--version", table_version, "An earlier version (default: the latest, which conditions read)")
      ->check(CLI::PositiveNumber);
  table->footer("Edit tables/NAME.csv beside the workflows and run 'mentorflow init': it stores a new version\n"
                "(the earlier ones are kept) and conditions read it from then on.\n");
  table->fallthrough();
  table_list->fallthrough();
  table_show->fallthrough();
  auto* doc = app.add_subcommand("doc", "Documents: list, show, render, sign, issue");
  doc->require_subcommand(1);
  auto* doc_sign = doc->add_subcommand(
      "sign", "Sign a document: DOC is INSTANCE:NAME (its latest issue), INSTANCE:NAME:ISSUE, or an order N/YYYY");
  doc_sign->add_option("DOC", doc_name, "INSTANCE:NAME[:ISSUE], e.g. 12:agreement, or N/YYYY, e.g. 3/2026")->required();
  std::string issue_name;
  auto* doc_issue = doc->add_subcommand(
      "issue", "Issue a collective document (an order listing every instance that awaits it), numbered N/YYYY");
  doc_issue->add_option("NAME", issue_name, "The collective document or its template, e.g. order_assign_pairs")
      ->required();
  auto* doc_list = doc->add_subcommand("list", "Every issued document, or those of one instance");
  doc_list->add_option("INSTANCE", doc_instance, "Only this instance's documents");
  auto* doc_show = doc->add_subcommand("show", "One document: its status, hash and signers");
  doc_show->add_option("DOC", doc_name, "INSTANCE:NAME[:ISSUE] or N/YYYY")->required();
  auto* doc_render = doc->add_subcommand("render", "A document to print and sign: HTML, ODT or PDF");
  doc_render->add_option("DOC", doc_name, "INSTANCE:NAME[:ISSUE] or N/YYYY")->required();
  doc_render->add_option("--format", doc_format, "html (default), odt, or pdf (needs LibreOffice)")
      ->check(CLI::IsMember({"html", "odt", "pdf"}));
  doc_render->add_option("--out", doc_out, "The file to write (html: standard output by default)");
  for (auto* sub : {doc, doc_sign, doc_list, doc_show, doc_render, doc_issue}) sub->fallthrough();

  std::string migrate_workflow;
  int migrate_to = 0;
  std::vector<std::string> maps;
  bool dry_run = false;
  auto* migrate = app.add_subcommand("migrate", "Move running instances of a workflow onto another registered version");
  migrate->add_option("WORKFLOW", migrate_workflow, "Workflow name")->required();
  migrate->add_option("--to", migrate_to, "The version to move to (registered by 'init')")->required();
  migrate->add_option("--map", maps, "OLD=NEW: instances in state OLD go to state NEW (repeat)");
  migrate->add_flag("--dry-run", dry_run, "Show what would move and what blocks; change nothing");
  migrate->fallthrough();

  std::string import_file;
  bool import_dry_run = false;
  auto* import = app.add_subcommand("import", "Apply a JSON Lines file of starts, events and signatures: all or nothing");
  import->add_option("FILE", import_file, "The file, or - for standard input")->required();
  import->add_flag("--dry-run", import_dry_run, "Check every line against the database; keep nothing");
  import->fallthrough();

  auto* stats = app.add_subcommand("stats", "Figures from the history: a year's, a monitoring cycle's, a rating");
  stats->require_subcommand(1);
  stats->fallthrough();
  std::string stats_period;
  auto* stats_monitoring =
      stats->add_subcommand("monitoring", "A monitoring cycle's results, on time or late, and the change from the one before");
  stats_monitoring->add_option("--period", stats_period, "YEAR-H1 (due by 20 May) or YEAR-H2 (due by 20 December)")
      ->required();
  stats_monitoring->fallthrough();
  int stats_year = 0;
  std::string stats_format = "text";
  auto* stats_annual = stats->add_subcommand(
      "annual", "The year's figures: people, pairs formed, at work, completed, terminated, extended, monitoring");
  stats_annual->add_option("--year", stats_year, "The calendar year (the year under way counts up to --now)")->required();
  stats_annual->add_option("--format", stats_format, "text (default), json, csv (UTF-8, Russian titles) or html")
      ->check(CLI::IsMember({"text", "json", "csv", "html"}));
  std::string stats_by;
  stats_annual->add_option("--by", stats_by,
                           "A person attribute (attributes: in the YAML): every figure per value, a pair under its "
                           "mentee's, with the targets declared (text, json or csv)");
  stats_annual->fallthrough();
  std::string rating_group, rating_workflow;
  auto* stats_rating = stats->add_subcommand(
      "rating", "A workflow's rating (its `rating:`): people ranked by the weighted sum of their counted instances");
  stats_rating->add_option("--direction", rating_group, "The value of the rating's `per` field to rank (a direction)")
      ->required();
  stats_rating->add_option("--workflow", rating_workflow, "The workflow (default: the one that has a rating)");
  stats_rating->footer("Equal scores share a rank. Names are shown to a curator or moderator (--as), and the read\n"
                       "is recorded in each listed person's history; anyone else sees ids only.\n");
  stats_rating->fallthrough();

  for (auto* sub : {stats_rating, table_list, table_show, stats_monitoring, stats_annual, validate, graph, demo, init, settings, person_add, person_update, consent_sign, consent_revoke, start, send, show,
                    list, history, doc_sign, doc_issue, doc_list, doc_show, doc_render, person_show, person_export, person_erase, person_request, migrate, import, tick, backup, reminders, agenda, deliver, ack})
    sub->footer("Global options (anywhere on the line): --db URL, --workflows DIR, --templates DIR,\n"
                "  --now YYYY-MM-DD[THH:MM], --as PERSON_ID, --json, --log-level L. See: mentorflow --help");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 1;
  }
  try {
    if (*validate) return Validate(g, paths, validate_strict);
    if (*graph) return Graph(g, workflow, format);
    {
      auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
      auto logger = std::make_shared<spdlog::logger>("mentorflow", sink);
      logger->set_pattern("mentorflow %l: %v");
      logger->set_level(spdlog::level::from_str(g.log_level));
      spdlog::set_default_logger(logger);
    }
    if (*init) return Init(g, init_options);
    if (*person_add || *person_update || *person_show || *person_export || *person_erase || *person_request || *consent || *start || *send || *show || *list || *history || *doc || *migrate || *import ||
        *settings || *tick || *reminders || *agenda || *deliver || *ack || *stats || *table || *backup) {
      DbCommand cmd(g, false,
                    *backup || *show || *list || *history || *reminders || *agenda || (*settings && setting_value.empty()) ||
                        *doc_list || *doc_show || *stats_annual || *stats_monitoring || *table);
      if (*table) return Tables(cmd, *table_show ? table_name : "", *table_show ? table_version : 0);
      if (!cmd.ok()) return cmd.code;
      if (*stats_annual) {
        std::string text;
        if (auto st = stats_by.empty() ? mf::cli::AnnualReport(*cmd.store, g.templates, stats_year, cmd.now,
                                                                g.json ? "json" : stats_format, &text)
                                       : mf::cli::AnnualBreakdownReport(*cmd.store, g.templates, stats_year, stats_by,
                                                                        cmd.now, g.json ? "json" : stats_format, &text);
            !st.ok())
          return cmd.Report(st);
        std::cout << text;
        return 0;
      }
      if (*stats_rating) return Rating(cmd, rating_workflow, rating_group);
      if (*stats_monitoring) {
        json summary;
        if (auto st = mf::cli::MonitoringSummary(*cmd.store, stats_period, &summary); !st.ok()) return cmd.Report(st);
        if (g.json) {
          std::cout << summary.dump(2, ' ', false, kLenient) << "\n";
          return 0;
        }
        auto text = [](const json& v) { return v.is_null() ? std::string("-") : v.is_string() ? v.get<std::string>() : v.dump(); };
        std::cout << "monitoring " << summary["period"].get<std::string>() << " (due " << text(summary["due"])
                  << "): submitted " << text(summary["submitted_on"]) << (summary["on_time"].get<bool>() ? ", on time" : ", late")
                  << "\n";
        for (const auto& [k, v] : summary["results"].items()) {
          std::cout << "  " << k << ": " << E(text(v));
          if (summary["delta"].contains(k)) {
            const long long d = summary["delta"][k].get<long long>();
            std::cout << "  (" << (d >= 0 ? "+" : "") << d << " since " << summary["previous"]["period"].get<std::string>() << ")";
          }
          std::cout << "\n";
        }
        if (summary["previous"].is_null()) std::cout << "  no earlier cycle to compare with\n";
        return 0;
      }
      if (*settings) return Settings(cmd, setting_key, setting_value);
      if (*tick) return Tick(cmd);
      if (*backup) {
        long long bytes = 0;
        if (auto st = cmd.store->Backup(backup_to, &bytes); !st.ok()) return cmd.Report(st);
        if (g.json)
          std::cout << json{{"backup", backup_to}, {"bytes", bytes}, {"integrity", "ok"}}.dump(2, ' ', false, kLenient) << "\n";
        else
          std::cout << backup_to << "  " << bytes << " bytes, integrity ok\n";
        return 0;
      }
      if (*reminders) return Reminders(cmd, reminder_filter);
      if (*agenda) return Agenda(cmd, agenda_for, agenda_from, agenda_to, agenda_format);
      if (*deliver) return Deliver(cmd, via);
      if (*ack) return Ack(cmd, ack_id);
      if (*person_request) {
        if (!cmd.NeedActor()) return cmd.code;
        mf::InstanceRecord rec;
        auto st = cmd.store->RequestInformation(request_person, g.actor, cmd.now, &rec);
        if (!st.ok()) return cmd.Report(st);
        if (g.json) std::cout << InstanceJson(rec).dump(2, ' ', false, kLenient) << "\n";
        else std::cout << rec.id << "\n";
        return 0;
      }
      if (*person_erase) {
        if (!cmd.NeedActor()) return cmd.code;
        mf::DocumentRecord act;
        auto st = cmd.store->ErasePerson(erase_person, g.actor, cmd.now, &act);
        if (!st.ok()) return cmd.Report(st);
        if (g.json) std::cout << DocumentJson(act).dump(2, ' ', false, kLenient) << "\n";
        else std::cout << erase_person << ": personal data destroyed; " << act.Id() << "\n";
        return 0;
      }
      if (*person_export) {
        if (!cmd.NeedActor()) return cmd.code;
        std::string text;
        auto st = cmd.store->ExportPerson(export_person, g.actor, cmd.now, &text);
        if (!st.ok()) return cmd.Report(st);
        std::cout << text << "\n";
        return 0;
      }
      if (*person_show) {
        if (!cmd.NeedActor()) return cmd.code;
        mf::PersonRecord p;
        auto st = cmd.store->ReadPerson(show_person, g.actor, cmd.now, &p);
        if (!st.ok()) return cmd.Report(st);
        if (g.json) {
          std::cout << json{{"id", p.id},
                            {"name", p.name},
                            {"roles", p.roles},
                            {"birth", p.birth.empty() ? json() : json(p.birth)},
                            {"email", p.email.empty() ? json() : json(p.email)},
                            {"guardian", p.guardian.empty() ? json() : json(p.guardian)},
                            {"attributes", AttributesJson(p.attributes)}}
                           .dump(2, ' ', false, kLenient)
                    << "\n";
        } else {
          std::cout << "id: " << E(p.id) << "\nname: " << E(p.name) << "\nroles:";
          for (const auto& r : p.roles) std::cout << " " << E(r);
          std::cout << "\n";
          if (!p.birth.empty()) std::cout << "birth: " << E(p.birth) << "\n";
          if (!p.email.empty()) std::cout << "email: " << E(p.email) << "\n";
          if (!p.guardian.empty()) std::cout << "guardian: " << E(p.guardian) << "\n";
          for (const auto& [k, v] : p.attributes) std::cout << E(k) << ": " << E(v) << "\n";
        }
        return 0;
      }
      if (*person_update) {
        if (!cmd.NeedActor()) return cmd.code;
        if (*o_name) update.name = update_name;
        if (*o_birth) update.birth = update_birth;
        if (*o_email) update.email = update_email;
        if (*o_guardian) update.guardian = update_guardian;
        if (!ParseAttrs(g, update_attrs, &update.attributes, &cmd.code)) return cmd.code;
        auto st = cmd.store->UpdatePerson(update, g.actor, cmd.now);
        if (st.ok()) std::cout << (g.json ? json{{"id", update.id}}.dump(-1, ' ', false, kLenient) : update.id + ": updated") << "\n";
        return cmd.Report(st);
      }
      if (*person_add) {
        if (!cmd.NeedActor()) return cmd.code;
        if (!ParseAttrs(g, add_attrs, &person.attributes, &cmd.code)) return cmd.code;
        auto st = cmd.store->AddPerson(person, g.actor, cmd.now);
        if (st.ok()) std::cout << (g.json ? json{{"id", person.id}}.dump(-1, ' ', false, kLenient) : person.id) << "\n";
        return cmd.Report(st);
      }
      if (*consent) {
        if (!cmd.NeedActor()) return cmd.code;
        auto st = cmd.store->SetConsent(consent_person, static_cast<bool>(*consent_sign), g.actor, cmd.now, consent_paper);
        if (st.ok() && !g.json) std::cout << consent_person << ": consent " << (static_cast<bool>(*consent_sign) ? "signed" : "revoked") << "\n";
        if (st.ok() && g.json) std::cout << json{{"person", consent_person}, {"consent", static_cast<bool>(*consent_sign)}}.dump(-1, ' ', false, kLenient) << "\n";
        return cmd.Report(st);
      }
      if (*start || *send) {
        if (!cmd.NeedActor()) return cmd.code;
        std::string err;
        auto in = ParseSets(sets, &err);
        if (!err.empty()) return Fail(g, 1, err);
        mf::InstanceRecord rec;
        mf::Refusal refusal;
        auto st = *start ? cmd.store->Start(start_workflow, in, parent, g.actor, cmd.now, &rec, &refusal)
                         : cmd.store->Send(id, event, in, g.actor, cmd.now, &rec, &refusal);
        if (st.code() == mf::Code::kConflict && *send)  // one retry on a concurrent change
          st = cmd.store->Send(id, event, in, g.actor, cmd.now, &rec, &refusal);
        if (!st.ok()) return cmd.Report(st, &refusal);
        if (g.json) std::cout << InstanceJson(rec).dump(2, ' ', false, kLenient) << "\n";
        else std::cout << (*start ? rec.id : rec.state) << "\n";
        return 0;
      }
      if (*doc_list || *doc_show) {
        if (!cmd.NeedActor()) return cmd.code;
        std::vector<mf::DocumentRecord> docs;
        mf::Status st;
        if (*doc_list) {
          st = cmd.store->AuthorizeRead({doc_instance, {}, "doc list" + (doc_instance.empty() ? "" : " " + doc_instance)},
                                        g.actor, cmd.now);
          if (st.ok()) st = cmd.store->Documents(doc_instance, &docs);
        } else {
          std::string instance, rest;
          docs.emplace_back();
          if (IsOrderNumber(doc_name)) {
            st = cmd.store->Order(doc_name, &docs.back());
            if (st.ok()) st = cmd.store->RecordDocumentRead(docs.back(), g.actor, "show", cmd.now);
          } else if (!SplitDocument(doc_name, &instance, &rest)) {
            return Fail(g, 1, "DOC is INSTANCE:NAME[:ISSUE], e.g. 12:agreement, or an order N/YYYY");
          } else if (instance == "consent" || instance == "act") {
            st = cmd.store->Document(instance, rest, &docs.back());
            if (st.ok()) st = cmd.store->RecordDocumentRead(docs.back(), g.actor, "show", cmd.now);
          } else {  // as doc render: a stranger learns nothing from which documents exist
            st = cmd.store->Document(instance, rest, &docs.back());
            const mf::Status read = cmd.store->AuthorizeRead(
                {instance, {}, st.ok() ? "doc show " + docs.back().Id() : "", st.ok()}, g.actor, cmd.now);
            if (!read.ok()) st = read;
          }
        }
        if (!st.ok()) return cmd.Report(st);
        if (g.json) {
          json arr = json::array();
          for (const auto& d : docs) arr.push_back(DocumentJson(d));
          std::cout << (*doc_show ? arr[0] : arr).dump(2, ' ', false, kLenient) << "\n";
        } else {
          for (const auto& d : docs) PrintDocument(d);
          if (docs.empty()) std::cout << "no documents\n";
        }
        return 0;
      }
      if (*doc_render) return DocRender(cmd, doc_name, doc_format, doc_out);
      if (*doc_issue) {
        if (!cmd.NeedActor()) return cmd.code;
        mf::DocumentRecord d;
        auto st = cmd.store->IssueOrder(issue_name, g.actor, cmd.now, &d);
        if (!st.ok()) return cmd.Report(st);
        if (g.json) std::cout << DocumentJson(d).dump(2, ' ', false, kLenient) << "\n";
        else std::cout << d.Id() << " (" << d.items.size() << ": " << E(JoinIds(d.items)) << ")\n";
        return 0;
      }
      if (*doc && IsOrderNumber(doc_name)) {
        if (!cmd.NeedActor()) return cmd.code;
        std::string status;
        std::vector<std::string> sent;
        auto st = cmd.store->SignOrder(doc_name, g.actor, cmd.now, &status, &sent);
        if (!st.ok()) return cmd.Report(st);
        if (g.json)
          std::cout << json{{"document", doc_name}, {"status", status}, {"sent", sent}}.dump(-1, ' ', false, kLenient)
                    << "\n";
        else
          std::cout << doc_name << ": " << status
                    << (sent.empty() ? std::string() : "; " + std::to_string(sent.size()) + " approved: " + E(JoinIds(sent)))
                    << "\n";
        return 0;
      }
      if (*doc) {
        if (!cmd.NeedActor()) return cmd.code;
        std::string instance, rest;
        if (!SplitDocument(doc_name, &instance, &rest)) return Fail(g, 1, "DOC is INSTANCE:NAME[:ISSUE], e.g. 12:agreement");
        std::string status;
        auto st = cmd.store->Sign(instance, rest, g.actor, cmd.now, &status);
        if (st.ok()) std::cout << (g.json ? json{{"document", doc_name}, {"status", status}}.dump(-1, ' ', false, kLenient) : doc_name + ": " + status) << "\n";
        return cmd.Report(st);
      }
      if (*import) {
        std::string text;
        if (auto st = mf::cli::ReadImportFile(import_file, &text); !st.ok()) return cmd.Report(st);
        mf::cli::ImportOptions opts{g.actor, cmd.now, cmd.zone, import_dry_run, {}, 10000};
        const auto started_at = std::chrono::steady_clock::now();
        const bool tty = isatty(STDERR_FILENO);
        opts.progress = [&](int lines) {
          const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_at).count();
          spdlog::info("import: {} lines applied in {:.1f} s", lines, s);
          if (tty) std::cerr << "\rimport: " << lines << " lines..." << std::flush;
        };
        mf::cli::ImportResult result;
        auto st = mf::cli::Import(*cmd.store, import_file == "-" ? "<stdin>" : import_file, text, opts, &result);
        if (tty && result.lines >= opts.progress_every) std::cerr << "\r" << std::string(40, ' ') << "\r" << std::flush;
        if (!st.ok()) {
          mf::Status where(st.code(), result.where + ": " + st.message() + "; nothing was imported");
          return cmd.Report(where);
        }
        if (g.json) {
          std::cout << json{{"lines", result.lines}, {"started", result.started}, {"events", result.events},
                            {"signatures", result.signatures}, {"issued", result.issued}, {"refs", result.refs},
                            {"dry_run", import_dry_run}}
                           .dump(2, ' ', false, kLenient)
                    << "\n";
        } else {
          for (const auto& [ref, id] : result.refs) std::cout << "@" << E(ref) << " = " << E(id) << "\n";
          std::cout << (import_dry_run ? "would import " : "imported ") << result.lines << " line(s): " << result.started
                    << " started, " << result.events << " event(s), " << result.signatures << " signature(s), "
                    << result.issued << " order(s)"
                    << (import_dry_run ? " (dry run: nothing changed)" : "") << "\n";
        }
        return 0;
      }
      if (*migrate) {
        if (!cmd.NeedActor()) return cmd.code;
        mf::StateMap state_map;
        for (const auto& m : maps) {
          auto eq = m.find('=');
          if (eq == std::string::npos || eq == 0 || eq + 1 == m.size())
            return Fail(g, 1, "--map expects OLD=NEW, got '" + m + "'");
          if (!state_map.emplace(m.substr(0, eq), m.substr(eq + 1)).second)
            return Fail(g, 1, "--map: state '" + m.substr(0, eq) + "' is mapped twice");
        }
        mf::Store::MigrationReport report;
        auto st = cmd.store->Migrate(migrate_workflow, migrate_to, state_map, g.actor, cmd.now, dry_run, &report);
        if (st.code() == mf::Code::kConflict) {  // one retry on a concurrent change
          report = {};
          st = cmd.store->Migrate(migrate_workflow, migrate_to, state_map, g.actor, cmd.now, dry_run, &report);
        }
        bool reported = st.ok() || st.code() == mf::Code::kRefused;
        if (!reported || (st.code() == mf::Code::kRefused && report.blocked.empty())) return cmd.Report(st);
        if (g.json) {
          json moved = json::array(), blocked = json::array();
          for (const auto& m : report.moved)
            moved.push_back({{"id", m.id}, {"from_version", m.from_version}, {"from", m.from}, {"to", m.to}});
          for (const auto& b : report.blocked)
            blocked.push_back({{"id", b.id}, {"version", b.version}, {"state", b.state}, {"reasons", b.reasons}});
          json out = {{"workflow", migrate_workflow}, {"to", migrate_to}, {"dry_run", dry_run}, {"moved", moved},
                      {"blocked", blocked}};
          if (!st.ok()) out["error"] = {{"code", st.exit_code()}, {"reason", st.message()}, {"rule", "migrate"}};
          std::cout << out.dump(2, ' ', false, kLenient) << "\n";
        } else {
          const char* verb = dry_run ? "would move" : "moved";
          for (const auto& m : report.moved)
            std::cout << verb << " " << m.id << ": v" << m.from_version << " " << m.from << " -> v" << migrate_to << " "
                      << m.to << "\n";
          for (const auto& b : report.blocked)
            for (const auto& r : b.reasons) std::cout << "blocked " << b.id << " (v" << b.version << " " << b.state << "): " << r << "\n";
          std::cout << report.moved.size() << (dry_run ? " would move, " : " moved, ") << report.blocked.size()
                    << " blocked" << (dry_run ? " (dry run: nothing changed)" : "") << "\n";
          if (!st.ok()) std::cerr << "mentorflow: " << st.message() << "\n";
        }
        return st.exit_code();
      }
      if (*show) {
        if (!cmd.NeedActor()) return cmd.code;
        if (auto st = cmd.store->AuthorizeRead({id, {}, "show " + id}, g.actor, cmd.now); !st.ok()) return cmd.Report(st);
        mf::InstanceRecord rec;
        auto st = cmd.store->Show(id, &rec);
        if (!st.ok()) return cmd.Report(st);
        if (g.json) std::cout << InstanceJson(rec).dump(2, ' ', false, kLenient) << "\n";
        else {
          std::cout << "id: " << E(rec.id) << "\nworkflow: " << E(rec.workflow) << " v" << rec.workflow_version
                    << "\nstate: " << E(rec.state) << "\n";
          if (!rec.parent.empty()) std::cout << "parent: " << E(rec.parent) << "\n";
          const json fields = Stored(rec.fields_json);
          if (!fields.is_object()) std::cout << "  fields (not readable): " << E(rec.fields_json) << "\n";
          else for (auto it = fields.begin(); it != fields.end(); ++it)
            if (!it->is_null())
              std::cout << "  " << E(it.key()) << ": "
                        << E(it->is_string() ? it->get<std::string>() : it->dump(-1, ' ', false, kLenient)) << "\n";
        }
        return 0;
      }
      if (*list) {
        std::vector<mf::InstanceRecord> recs;
        auto st = cmd.store->List(list_workflow, list_state, &recs);
        if (!st.ok()) return cmd.Report(st);
        if (g.json) {
          json arr = json::array();
          for (const auto& r : recs) arr.push_back(InstanceJson(r));
          std::cout << arr.dump(2, ' ', false, kLenient) << "\n";
        } else {
          for (const auto& r : recs) std::cout << E(r.id) << "\t" << E(r.workflow) << "\t" << E(r.state) << "\n";
        }
        return 0;
      }
      if (*history) {
        if (!cmd.NeedActor()) return cmd.code;
        if (auto st = cmd.store->AuthorizeRead({id, {}, "history " + id}, g.actor, cmd.now); !st.ok())
          return cmd.Report(st);
        std::vector<mf::HistoryRecord> hs;
        auto st = cmd.store->History(id, &hs);
        if (!st.ok()) return cmd.Report(st);
        if (g.json) {
          json arr = json::array();
          for (const auto& h : hs)
            arr.push_back({{"seq", h.seq}, {"at", h.at}, {"actor", h.actor}, {"role", h.role}, {"event", h.event},
                           {"from", h.from.empty() ? json() : json(h.from)}, {"to", h.to},
                           {"changes", Stored(h.changes_json)}, {"version", h.workflow_version},
                           {"note", h.note.empty() ? json() : json(h.note)}});
          std::cout << arr.dump(2, ' ', false, kLenient) << "\n";
        } else {
          int version = 0;
          for (const auto& h : hs) {
            std::cout << h.seq << "  " << E(h.at) << "  " << E(h.actor) << " (" << E(h.role) << ")  " << E(h.event)
                      << ": " << (h.from.empty() ? "-" : E(h.from)) << " -> " << E(h.to);
            if (version != 0 && h.workflow_version != version)
              std::cout << "  [v" << version << " -> v" << h.workflow_version << "]";
            if (!h.note.empty()) std::cout << "  (" << E(h.note) << ")";
            std::cout << "\n";
            version = h.workflow_version;
          }
        }
        return 0;
      }
    }
    if (*demo) return mf::cli::RunDemo({g.workflows, g.templates, demo_dir, Share() + "/demo/school_year.yaml"});
  } catch (const std::exception& e) {
    return Fail(g, 5, std::string("internal error: ") + e.what());
  }
  return 0;
}
