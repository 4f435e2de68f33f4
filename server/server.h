// `mentorflow serve`: the HTTP interface (cpp-httplib) on the same store and
// use cases as the command line. Accounts and sessions are app/accounts.h's;
// routes and their OpenAPI description are one table (server/routes.cpp),
// so the document cannot leave out a route the server answers.
//
// One Store per worker thread; several processes may share one PostgreSQL.
// Every response carries Content-Security-Policy, nosniff, frame-ancestors
// 'none', a Referrer-Policy and Cache-Control: no-store. The access log (spdlog)
// names the route's pattern, never a path, a query or a body: no id, token
// or personal data reaches it.
#pragma once

#include <string>

namespace mentorflow::server {

struct ServeOptions {
  std::string db, templates;
  std::string institution;  // the one institution this server serves; empty: "default"
  std::string listen = "127.0.0.1:8080";
  int workers = 8;
  std::string base_url;       // links in e-mails; empty: the setting base_url
  std::string now;            // --now: a fixed moment, for tests and demos
  bool trust_proxy = false;   // X-Real-IP from a proxy on this machine names the client
  std::size_t max_body = 1 << 20;
  int read_timeout_seconds = 10, write_timeout_seconds = 10;
  std::string tick_every;     // "10m": tick inside the server; empty: never
  std::string deliver_via;    // with tick_every: deliver after each tick
  // Set by Serve: no `institution` given and the database holds several.
  // Each request is then within the institution its session cookie names
  // (INSTITUTION.TOKEN), or before a session the one it asks for (the
  // field or query parameter `institution`), and the login page lists them.
  bool region = false;
};

// Serves until SIGTERM or SIGINT (in-flight requests finish); returns the
// process's exit code (0, or 1 when it cannot listen or open the store).
int Serve(const ServeOptions& options);

}  // namespace mentorflow::server
