// Inside the server: a request as the routes see it, their replies, and the
// route table (server/routes.cpp) from which both the router and the
// OpenAPI document are made.
#pragma once

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <vector>

#include "app/context.h"
#include "app/rollup.h"
#include "server/server.h"

namespace mentorflow::server {

using nlohmann::json;

// One request, authenticated or not.
struct Call {
  const httplib::Request& req;
  const ServeOptions& options;
  app::Context ctx;                // actor: the session's person (empty when public)
  std::string address;             // the client's, for throttling
  std::string session_token, csrf;
  // A regional server (serve over several institutions): the institution
  // this request is for, or "" before one is chosen. Empty on a server of
  // one institution.
  std::string institution;
  json body;                       // a JSON request body (an object), or null
  std::string Path(int i) const { return req.matches[i]; }
  std::string Query(const std::string& name) const {
    return req.has_param(name.c_str()) ? req.get_param_value(name.c_str()) : std::string();
  }
  // A string member of the body; BadInput when it is there and not a string.
  Status Member(const std::string& name, std::string* out, bool required = true) const;
};

struct Reply {
  int status = 200;
  json body;                 // sent as JSON unless `raw` is set
  std::string raw, content_type, filename;
  std::vector<std::string> cookies;  // Set-Cookie values
  std::string location;      // a redirect (303 See Other) to this path
  bool cache = false;        // a static file: cacheable for an hour
  Status error;              // not Ok: the error reply instead
  static Reply Of(const Status& st) {
    Reply r;
    r.error = st;
    return r;
  }
};

enum class Access { kPublic, kSession };

struct Param {
  const char* name;
  const char* description;
  bool required = false;
};

struct Route {
  const char* method;   // GET or POST
  const char* path;     // as OpenAPI writes it: /api/v1/instances/{id}
  Access access;
  const char* summary;
  std::vector<Param> query;
  std::vector<Param> body;  // members of a JSON object body
  std::function<Reply(Call&)> handle;
};

// The session cookie for `token` (ASVS 5.0 V3.3: __Host-, Secure, HttpOnly,
// SameSite=Strict). On a regional server its value is INSTITUTION.TOKEN:
// the next request is within that institution.
std::string SessionCookie(const Call& c, const std::string& token);
std::string ClearedCookie();

// Within a regional server: `path` with the institution of the request as
// its query parameter (links to files and feeds opened without a session).
std::string WithInstitution(const Call& c, const std::string& path);

// The region's roll-up for ?year= (by default the year whose reports are
// due or were due last: this one in December, else the one before).
app::Result<app::Rollup> RegionOf(Call& c);

const std::vector<Route>& Routes();
// The pages (server/pages.cpp): HTML for people; forms post here with the
// CSRF token in the field `csrf`. Not in the OpenAPI document.
const std::vector<Route>& PageRoutes();
// A page's answer to a refusal before its handler ran: the login page for
// no session, else the error page.
Reply PageError(Call& c, const Status& st);
// The OpenAPI 3.0 document of Routes().
json OpenApi();
// The regular expression that matches a route's path.
std::string PathPattern(const std::string& path);
// The HTTP status of an error: 400, 401, 403, 404, 409, 413, 422, 429, 500, 503.
int HttpStatus(const Status& st);

}  // namespace mentorflow::server
