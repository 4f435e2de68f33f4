// serve: the HTTP interface (server/).
#include <spdlog/spdlog.h>

#include "cli/common.h"
#include "server/server.h"

namespace mentorflow::cli {

void AddServeCommands(CLI::App& app, Globals& g, Commands* out) {
  auto o = std::make_shared<server::ServeOptions>();
  auto* serve = app.add_subcommand(
      "serve", "Serve the JSON API (accounts, sessions) on the same database; stops on SIGTERM");
  serve->add_option("--listen", o->listen, "HOST:PORT to listen on (behind nginx for TLS)");
  serve->add_option("--workers", o->workers, "Worker threads, each with its own database connection")
      ->check(CLI::Range(1, 256));
  serve->add_option("--base-url", o->base_url,
                    "Where people reach the server, for links in e-mails (default: the setting base_url)");
  serve->add_flag("--trust-proxy", o->trust_proxy,
                  "Take the client's address from X-Real-IP set by a proxy on this machine (nginx)");
  serve->add_option("--max-body", o->max_body, "Largest request body in bytes (413 past it)");
  serve->add_option("--timeout", o->read_timeout_seconds, "Seconds a client may take to send a request")
      ->check(CLI::Range(1, 3600));
  serve->add_option("--tick-every", o->tick_every, "Fire deadlines every DURATION (30s, 10m, 1h) inside the server");
  serve->add_option("--deliver-via", o->deliver_via, "With --tick-every: deliver reminders after each tick");
  out->push_back({serve, [&g, o] {
                    o->db = g.db;
                    o->templates = g.templates;
                    o->institution = g.institution;
                    o->now = g.now;
                    o->write_timeout_seconds = o->read_timeout_seconds;
                    if (!g.log_level_given) spdlog::set_level(spdlog::level::info);  // the access log
                    return server::Serve(*o);
                  }});
}

}  // namespace mentorflow::cli
