// The `mentorflow` command: the global options, then one subcommand of the
// groups in cli/*.cpp, each of which parses, calls the application layer
// (app/) and prints. Exit codes: 0 done, 1 bad input, 2 not found, 3
// refused, 4 conflict, 5 storage or internal error.
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cstdlib>
#include <iostream>

#include "cli/common.h"

namespace mf = mentorflow;

int main(int argc, char** argv) {
  // What this program creates (databases, rendered documents, backups,
  // exports) holds children's personal data: for its owner only.
  ::umask(077);
  mf::cli::Globals g;
  CLI::App app{"mentorflow: mentoring programmes as workflows (validate, run, remind, report)", "mentorflow"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "mentorflow 0.1");
  app.option_defaults()->always_capture_default();
  app.add_option("--db", g.db, "Database URL: sqlite:PATH or postgresql://... (env MENTORFLOW_DB)");
  app.add_option("--workflows", g.workflows, "Directory of workflow YAML files (env MENTORFLOW_WORKFLOWS)");
  app.add_option("--templates", g.templates, "Directory of document templates (env MENTORFLOW_TEMPLATES)");
  app.add_option("--now", g.now, "Run as if it were this moment: YYYY-MM-DD[THH:MM] (env MENTORFLOW_NOW)");
  app.add_option("--as", g.actor, "Who acts: a person id (env MENTORFLOW_ACTOR)");
  app.add_option("--institution-id", g.institution,
                 "The institution the command acts within, in a database several share (env MENTORFLOW_INSTITUTION;"
                 " default: default)");
  app.add_option("--zone", g.zone, "The institution's time zone (env MENTORFLOW_ZONE)");
  app.add_flag("--json", g.json, "Print one JSON document on stdout");
  app.add_option("--log-level", g.log_level,
                 "Operational log on stderr: trace, debug, info, warn, error, off (env MENTORFLOW_LOG)")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));

  mf::cli::Commands commands;
  mf::cli::AddAdminCommands(app, g, &commands);
  mf::cli::AddPeopleCommands(app, g, &commands);
  mf::cli::AddInstanceCommands(app, g, &commands);
  mf::cli::AddDocumentCommands(app, g, &commands);
  mf::cli::AddOutboxCommands(app, g, &commands);
  mf::cli::AddStatsCommands(app, g, &commands);
  mf::cli::AddServeCommands(app, g, &commands);
  for (const auto& c : commands) {
    c.app->fallthrough();
    const std::string own = c.app->get_footer();
    c.app->footer((own.empty() ? "" : own + "\n") +
                  "Global options (anywhere on the line): --db URL, --workflows DIR, --templates DIR,\n"
                  "  --now YYYY-MM-DD[THH:MM], --as PERSON_ID, --institution-id ID, --json, --log-level L.\n"
                  "  See: mentorflow --help");
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 1;
  }
  g.log_level_given = app.get_option("--log-level")->count() > 0 || std::getenv("MENTORFLOW_LOG");
  try {
    auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    auto logger = std::make_shared<spdlog::logger>("mentorflow", sink);
    logger->set_pattern("mentorflow %l: %v");
    logger->set_level(spdlog::level::from_str(g.log_level));
    spdlog::set_default_logger(logger);
    for (const auto& c : commands)
      if (c.app->parsed()) return c.run();
  } catch (const std::exception& e) {
    return mf::cli::Fail(g, 5, std::string("internal error: ") + e.what());
  }
  return 0;
}
