// What every command of the `mentorflow` CLI shares: the global options,
// the database opened with the institution's zone and --now, and printing
// (errors, JSON through app/codec.h, text with local times and titles).
// The commands themselves are thin: parse, call app/, print.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "app/codec.h"
#include "app/context.h"
#include "engine/text.h"
#include "storage/store.h"

namespace mentorflow::cli {

using nlohmann::json;

std::string EnvOr(const char* name, std::string fallback);
// Where the shipped workflows, templates, calendar and demo are.
const std::string& Share();

struct Globals {
  std::string db = EnvOr("MENTORFLOW_DB", "sqlite:mentorflow.db");
  std::string workflows = EnvOr("MENTORFLOW_WORKFLOWS", Share() + "/workflows");
  std::string templates = EnvOr("MENTORFLOW_TEMPLATES", Share() + "/templates");
  std::string now = EnvOr("MENTORFLOW_NOW", "");
  std::string actor = EnvOr("MENTORFLOW_ACTOR", "");
  std::string institution = EnvOr("MENTORFLOW_INSTITUTION", "");  // empty: the database's first, "default"
  std::string zone = EnvOr("MENTORFLOW_ZONE", "");  // init stores it; other commands use the stored one
  std::string log_level = EnvOr("MENTORFLOW_LOG", "warn");
  bool json = false;
  bool log_level_given = false;  // --log-level or MENTORFLOW_LOG
};

// A leaf subcommand and what runs when it was given.
struct Command {
  CLI::App* app;
  std::function<int()> run;
};
using Commands = std::vector<Command>;

// Output never fails on what is stored: JSON replaces bytes that are not
// UTF-8, text escapes them and control characters so no value forges a line.
std::string E(std::string_view s);
void PrintJson(const json& j, int indent = 2);
// Prints the error (JSON on stdout with --json, else on stderr); returns its exit code.
int Fail(const Globals& g, int code, const std::string& message);
int Report(const Globals& g, const Status& st);

// A command on the database: opens it, reads the institution's zone, and
// resolves --now; `ok()` false (with `code` printed) when any of that fails.
struct DbCommand {
  const Globals& g;
  std::unique_ptr<Store> store;
  Now now;
  std::string zone = "Europe/Moscow";
  int code = 0;

  // `initialising`: the zone comes from --zone (or the stored one, or the
  // default), not the database. `read_only`: the command only reads and
  // works on a file it cannot write.
  explicit DbCommand(const Globals& globals, bool initialising = false, bool read_only = false);
  bool ok() const { return code == 0; }
  int Report(const Status& st) const { return cli::Report(g, st); }
  // The use cases' context: who acts (--as), when and where.
  app::Context Context() const { return app::Context{*store, g.actor, now, zone, g.templates}; }
};

// An instant as stored (ISO 8601 UTC) as people read it: the wall time in
// the institution's zone, "2026-09-01 13:00"; text that is not an instant
// comes back as it is.
std::string LocalTime(const std::string& instant, const std::string& zone);
// "ID «Title»", or the id alone when the title is empty or the id itself.
std::string Titled(const std::string& id, const std::string& title);

// Each group's subcommands (cli/*.cpp).
void AddAdminCommands(CLI::App& app, Globals& g, Commands* out);
void AddPeopleCommands(CLI::App& app, Globals& g, Commands* out);
void AddInstanceCommands(CLI::App& app, Globals& g, Commands* out);
void AddDocumentCommands(CLI::App& app, Globals& g, Commands* out);
void AddOutboxCommands(CLI::App& app, Globals& g, Commands* out);
void AddStatsCommands(CLI::App& app, Globals& g, Commands* out);
void AddServeCommands(CLI::App& app, Globals& g, Commands* out);

}  // namespace mentorflow::cli
