// `mentorflow serve`: listening, the per-thread store, sessions and CSRF,
// the security headers, the access log, graceful stop, and time inside the
// server (--tick-every).
#include "server/server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sodium.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "app/accounts.h"
#include "app/codec.h"
#include "app/outbox.h"
#include "app/region.h"
#include "engine/calendar.h"
#include "engine/text.h"
#include "server/http.h"
#include "server/web.h"

namespace mentorflow::server {

namespace {

constexpr const char* kCsp =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'";

// The store of this worker thread, opened on first use.
Store* ThreadStore(const ServeOptions& o, Status* st) {
  thread_local std::unique_ptr<Store> store;
  if (!store) {
    store = Store::Open(o.db, st, StoreOptions{o.templates, false, o.institution});
    if (store) store->SetChannel("account");  // people act here through their accounts
  }
  return store.get();
}

// What the access log says of the request being served on this thread.
thread_local std::string t_route;

std::string CookieValue(const httplib::Request& req, const std::string& name) {
  const std::string header = req.get_header_value("Cookie");
  std::size_t pos = 0;
  while (pos < header.size()) {
    std::size_t end = header.find(';', pos);
    if (end == std::string::npos) end = header.size();
    std::string part = header.substr(pos, end - pos);
    while (!part.empty() && part.front() == ' ') part.erase(part.begin());
    if (part.compare(0, name.size() + 1, name + "=") == 0) return part.substr(name.size() + 1);
    pos = end + 1;
  }
  return "";
}

bool SameSecret(const std::string& a, const std::string& b) {
  return a.size() == b.size() && !a.empty() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

void Headers(httplib::Response& res) {
  res.set_header("Content-Security-Policy", kCsp);
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("X-Frame-Options", "DENY");
  res.set_header("Referrer-Policy", "no-referrer");
  res.set_header("Cache-Control", "no-store");
}

void SendError(httplib::Response& res, const Status& st) {
  res.status = HttpStatus(st);
  if (res.status == 429) res.set_header("Retry-After", "900");
  res.set_content(app::Dump(app::ErrorJson(st)), "application/json; charset=utf-8");
}

void Send(httplib::Response& res, const Reply& r) {
  for (const auto& c : r.cookies) res.set_header("Set-Cookie", c);
  if (!r.error.ok()) return SendError(res, r.error);
  res.status = r.status;
  if (!r.location.empty()) {
    res.set_header("Location", r.location);
    return;
  }
  if (r.cache) {
    res.headers.erase("Cache-Control");
    res.set_header("Cache-Control", "public, max-age=3600");
  }
  if (!r.content_type.empty()) {
    res.set_content(r.raw, r.content_type.c_str());
    if (!r.filename.empty()) res.set_header("Content-Disposition", "attachment; filename=\"" + r.filename + "\"");
    return;
  }
  res.set_content(app::Dump(r.body), "application/json; charset=utf-8");
}

std::string ClientAddress(const httplib::Request& req, const ServeOptions& o) {
  if (o.trust_proxy && (req.remote_addr == "127.0.0.1" || req.remote_addr == "::1")) {
    const std::string real = req.get_header_value("X-Real-IP");
    if (!real.empty() && real.size() < 64 && real.find_first_not_of("0123456789abcdefABCDEF.:") == std::string::npos)
      return real;
  }
  return req.remote_addr;
}

constexpr const char* kFormCookie = "__Host-mf_form";
// A regional server: the institution this browser logged in to last.
constexpr const char* kInstitutionCookie = "__Host-mf_institution";

// On a regional server: the institution a request is for, and the session
// token its cookie carries. A public route (logging in, a link from an
// e-mail, a calendar feed) names it in `institution` (a query or form field,
// or a member of a JSON body), else the browser's last choice; a route of
// a session takes it from the session cookie alone. "" when none is valid.
std::string RequestInstitution(const httplib::Request& req, bool public_route, std::string* token) {
  const std::string cookie = CookieValue(req, "__Host-mf_session");
  std::string from_cookie;
  *token = cookie;
  if (auto dot = cookie.find('.'); dot != std::string::npos) {
    from_cookie = cookie.substr(0, dot);
    *token = cookie.substr(dot + 1);
  }
  std::string id;
  if (public_route) {
    if (req.has_param("institution")) id = req.get_param_value("institution");
    if (id.empty() && req.get_header_value("Content-Type").rfind("application/json", 0) == 0) {
      const json body = json::parse(req.body, nullptr, false);
      if (body.is_object() && body.contains("institution") && body["institution"].is_string())
        id = body["institution"].get<std::string>();
    }
    if (id.empty()) id = from_cookie;
    if (id.empty()) id = CookieValue(req, kInstitutionCookie);
  } else {
    id = from_cookie;
  }
  return CheckInstitutionId(id).ok() ? id : "";
}

// Runs one route: the store, the moment, the session and its CSRF token,
// the body; then the handler. A page (`page`) answers HTML: no session
// sends to the login page, a refusal is the error page; its forms carry the
// CSRF token in the field `csrf` (the session's, or before one, a token
// also set as a cookie: the double-submit pattern).
void Handle(const Route& route, bool page, const ServeOptions& o, const httplib::Request& req, httplib::Response& res) {
  t_route = std::string(route.method) + " " + route.path;
  Status st;
  Store* store = ThreadStore(o, &st);
  if (!store) return SendError(res, Status(Code::kInternal, "the database is not available", "unavailable"));
  std::string token, institution;
  if (o.region) {
    institution = RequestInstitution(req, route.access == Access::kPublic, &token);
    if (institution.empty() || !store->UseInstitution(institution).ok()) store->UseNoInstitution();
  } else {
    token = CookieValue(req, "__Host-mf_session");
  }
  std::string zone = "Europe/Moscow";
  if (Status s = store->GetSetting("zone", &zone); !s.ok()) {
    // A regional server asked for no institution, or one it does not hold:
    // within none (its pages list the institutions; nothing else reads).
    if (!o.region || s.code() != Code::kNotFound) return SendError(res, s);
    store->UseNoInstitution();
    institution.clear();
    zone = "Europe/Moscow";
  }
  Now now;
  if (Status s = app::ResolveNow(o.now, zone, &now); !s.ok()) return SendError(res, s);
  Call call{req, o, app::Context{*store, "", now, zone, o.templates}, ClientAddress(req, o), "", "", institution,
            json()};
  const bool change = std::string(route.method) != "GET";
  auto refuse = [&](const Status& s) {
    if (!page) return SendError(res, s);
    Send(res, PageError(call, s));
  };
  std::string sent_csrf = req.get_header_value("X-CSRF-Token");
  if (page && sent_csrf.empty() && req.has_param("csrf")) sent_csrf = req.get_param_value("csrf");
  call.session_token = token;
  if (route.access == Access::kSession || (page && !call.session_token.empty())) {
    auto session = app::Authenticate(call.ctx, call.session_token);
    if (session.ok()) {
      call.ctx.actor = session->person;
      call.csrf = session->csrf;
    } else if (route.access == Access::kSession) {
      if (session.status().code() != Code::kNotFound) return refuse(session.status());
      return refuse(Status(Code::kRefused, "not logged in (or the session ended): log in again", "session"));
    }
  }
  if (page && call.ctx.actor.empty()) {  // before a session: the form token
    call.csrf = CookieValue(req, kFormCookie);
    if (!change && call.csrf.size() != 22) {
      call.csrf = app::NewToken();
      res.set_header("Set-Cookie", std::string(kFormCookie) + "=" + call.csrf + "; Path=/; Secure; HttpOnly; SameSite=Strict");
    }
  }
  // Every change carries the CSRF token (ASVS 5.0 V3.5).
  if (change && (route.access == Access::kSession || page) && !SameSecret(sent_csrf, call.csrf))
    return refuse(Status(Code::kRefused, "this change needs the session's CSRF token (X-CSRF-Token)", "csrf"));
  // A regional server: logging in, a password from a link, a forgotten one
  // are each within an institution the request names.
  if (o.region && change && route.access == Access::kPublic && institution.empty())
    return refuse(Status(Code::kBadInput, "choose the institution (the field 'institution')", "institution"));
  if (!page && change && !req.body.empty()) {
    const std::string type = req.get_header_value("Content-Type");
    if (type.compare(0, 16, "application/json") != 0)
      return SendError(res, Status::BadInput("the body must be JSON (Content-Type: application/json)"));
    call.body = json::parse(req.body, nullptr, false);
    if (call.body.is_discarded() || !call.body.is_object())
      return SendError(res, Status::BadInput("the body is not a JSON object (or not valid UTF-8)"));
  }
  Reply reply;
  const std::string path = route.path;
  const bool within = !o.region || !institution.empty();  // a regional login page reads no institution's rows
  if (page && !change && within && path.rfind("/static/", 0) != 0 && path.rfind("/diagrams/", 0) != 0) {
    // A page reads many things, each a recorded read: one commit for them all.
    Status st = store->Together([&]() -> Status {
      reply = route.handle(call);
      return Status::Ok();
    });
    if (!st.ok()) reply = Reply::Of(st);
  } else {
    reply = route.handle(call);
  }
  if (page && !reply.error.ok()) reply = PageError(call, reply.error);
  Send(res, reply);
}

// Time inside the server: every `every`, tick, then deliver when asked.
class Clock {
 public:
  Clock(const ServeOptions& o, std::chrono::seconds every) : o_(o), every_(every), thread_([this] { Run(); }) {}
  ~Clock() {
    {
      std::lock_guard<std::mutex> lock(m_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  void Run() {
    Status st;
    std::unique_ptr<Store> store;
    std::unique_lock<std::mutex> lock(m_);
    while (!stop_) {
      lock.unlock();
      if (!store) store = Store::Open(o_.db, &st, StoreOptions{o_.templates, false, o_.institution});
      if (store) Once(*store);
      lock.lock();
      cv_.wait_for(lock, every_, [&] { return stop_; });
    }
  }
  void Once(Store& store) {
    if (o_.region) {  // every institution in turn, each in its own zone
      auto tick = app::TickRegion(store, o_.now, 100);
      if (!tick.ok()) spdlog::error("tick: {}", tick.status().message());
      if (o_.deliver_via.empty()) return;
      auto sent = app::DeliverRegion(store, o_.deliver_via, o_.now, 20);
      if (!sent.ok()) spdlog::error("deliver: {}", sent.status().message());
      return;
    }
    std::string zone;
    if (!store.GetSetting("zone", &zone).ok()) return;
    Now now;
    if (!app::ResolveNow(o_.now, zone, &now).ok()) return;
    app::Context ctx{store, "", now, zone, o_.templates};
    auto tick = app::Tick(ctx);
    if (!tick.ok()) spdlog::error("tick: {}", tick.status().message());
    else if (!tick->fired.empty()) spdlog::info("tick: {} deadline(s) fired", tick->fired.size());
    if (o_.deliver_via.empty()) return;
    auto sent = app::Deliver(ctx, o_.deliver_via);
    if (!sent.ok()) spdlog::error("deliver: {}", sent.status().message());
    else if (sent->report.sent + sent->report.failed > 0)
      spdlog::info("deliver: {} sent, {} failed", sent->report.sent, sent->report.failed);
  }
  const ServeOptions& o_;
  std::chrono::seconds every_;
  std::mutex m_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace

namespace {

// Debian's cpp-httplib is a compiled library that listens with a backlog of
// 5 (CPPHTTPLIB_LISTEN_BACKLOG): more clients connecting at once than that
// had their SYNs dropped and waited a second for the retry, and a request
// sent on a connection the full queue had not taken was lost (measured:
// p99 of about 1 s at 16 clients, and failed POSTs). Listening again on the
// bound socket gives its queue the system's length.
void WidenBacklog(int port) {
  for (int fd = 0; fd < 1024; ++fd) {
    int listening = 0;
    socklen_t len = sizeof listening;
    if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening) continue;
    sockaddr_storage addr{};
    socklen_t alen = sizeof addr;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &alen) != 0) continue;
    const int bound = addr.ss_family == AF_INET    ? ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port)
                      : addr.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port)
                                                   : -1;
    if (bound == port) ::listen(fd, SOMAXCONN);
  }
}

}  // namespace

namespace {
int Listen(const ServeOptions& o, int port, std::chrono::seconds every);
}  // namespace

int Serve(const ServeOptions& o) {
  const auto colon = o.listen.rfind(':');
  int port = 0;
  try {
    port = colon == std::string::npos ? 0 : std::stoi(o.listen.substr(colon + 1));
  } catch (...) {
  }
  if (colon == std::string::npos || port <= 0 || port > 65535) {
    spdlog::error("--listen: expected HOST:PORT, got '{}'", o.listen);
    return 1;
  }
  std::chrono::seconds every{0};
  if (!o.tick_every.empty()) {
    const std::string& text = o.tick_every;
    long long n = 0;
    char unit = text.empty() ? 0 : text.back();
    try {
      n = std::stoll(text.substr(0, text.size() - 1));
    } catch (...) {
    }
    every = unit == 's' ? std::chrono::seconds(n) : unit == 'm' ? std::chrono::seconds(n * 60)
          : unit == 'h' ? std::chrono::seconds(n * 3600) : std::chrono::seconds(0);
    if (every.count() <= 0) {
      spdlog::error("--tick-every: expected a number and s, m or h (e.g. 10m), got '{}'", o.tick_every);
      return 1;
    }
  }
  ServeOptions options = o;
  {  // the database answers before the port opens
    Status st;
    auto store = Store::Open(o.db, &st, StoreOptions{o.templates, false, o.institution});
    std::vector<std::string> institutions;
    if (store && o.institution.empty() && (st = store->Institutions(&institutions)).ok())
      options.region = app::IsRegion(institutions, o.db);
    std::string zone;
    if (!store || (!options.region && !(st = store->GetSetting("zone", &zone)).ok()) || !st.ok()) {
      spdlog::error("{}", st.message());
      return 1;
    }
    if (options.region) spdlog::info("serve: {} institutions; each logs in to its own", institutions.size());
  }
  return Listen(options, port, every);
}

namespace {

int Listen(const ServeOptions& o, int port, std::chrono::seconds every) {
  const std::string host = o.listen.substr(0, o.listen.rfind(':'));

  httplib::Server svr;
  const int workers = std::max(1, o.workers);
  svr.new_task_queue = [workers] { return new httplib::ThreadPool(static_cast<std::size_t>(workers)); };
  svr.set_payload_max_length(o.max_body);
  svr.set_read_timeout(o.read_timeout_seconds, 0);
  svr.set_write_timeout(o.write_timeout_seconds, 0);
  // A kept-alive connection holds a worker while it idles: keep it short.
  svr.set_keep_alive_timeout(1);
  svr.set_keep_alive_max_count(1000);
  // Answers go out at once (no Nagle delay against the client's delayed ACK).
  svr.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    ::setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
  });
  svr.set_pre_routing_handler([](const httplib::Request&, httplib::Response& res) {
    t_route = "(no route)";
    Headers(res);
    return httplib::Server::HandlerResponse::Unhandled;
  });
  for (const auto* table : {&Routes(), &PageRoutes()}) {
    const bool page = table == &PageRoutes();
    for (const auto& route : *table) {
      const std::string pattern = PathPattern(route.path);
      auto handler = [&route, page, &o](const httplib::Request& req, httplib::Response& res) {
        Handle(route, page, o, req, res);
      };
      if (std::string(route.method) == "GET") svr.Get(pattern, handler);
      else svr.Post(pattern, handler);
    }
  }
  svr.set_error_handler([&o](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    // A page address that does not exist: the error page, in Russian.
    if (res.status == 404 && req.path.rfind("/api/", 0) != 0) {
      const Status st(Code::kNotFound, "no such page");
      std::string html;
      const json j = {{"title", web::Text(o.templates, "titles.error")},
                              {"message", web::ErrorText(o.templates, st)}, {"not_found", true}};
      if (web::RenderPage(o.templates, "error", j, &html).ok()) {
        res.set_content(html, "text/html; charset=utf-8");
        return;
      }
    }
    Status st = res.status == 413   ? Status(Code::kBadInput, "the request is too large", "too_large")
                : res.status == 404 ? Status(Code::kNotFound, "no such route", "route")
                                    : Status(Code::kBadInput, "the request could not be read");
    res.set_content(app::Dump(app::ErrorJson(st)), "application/json; charset=utf-8");
  });
  svr.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      spdlog::error("{}: internal error: {}", t_route, e.what());
    }
    res.status = 500;
    res.set_content(app::Dump(app::ErrorJson(Status::Internal("internal error (see the server's log)"))),
                    "application/json; charset=utf-8");
  });
  svr.set_logger([](const httplib::Request& req, const httplib::Response& res) {
    spdlog::info("access: {} {} {}", t_route, res.status, req.method == "GET" ? "read" : "change");
  });

  // SIGTERM and SIGINT stop the server from a thread of their own: the
  // listening socket closes, requests under way finish.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::atomic<bool> done{false};
  std::thread stopper([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    if (!done) spdlog::info("serve: signal {}: stopping (requests under way finish)", sig);
    svr.stop();
  });

  if (!svr.bind_to_port(host, port)) {
    spdlog::error("serve: cannot listen on {}", o.listen);
    done = true;
    pthread_kill(stopper.native_handle(), SIGTERM);
    stopper.join();
    return 1;
  }
  WidenBacklog(port);
  std::unique_ptr<Clock> clock;
  if (every.count() > 0) clock = std::make_unique<Clock>(o, every);
  spdlog::info("serve: listening on {} with {} worker(s)", o.listen, workers);
  std::fprintf(stderr, "mentorflow: serving on http://%s\n", o.listen.c_str());
  svr.listen_after_bind();
  done = true;
  clock.reset();
  if (stopper.joinable()) {
    pthread_kill(stopper.native_handle(), SIGTERM);
    stopper.join();
  }
  spdlog::info("serve: stopped");
  return 0;
}

}  // namespace

}  // namespace mentorflow::server
