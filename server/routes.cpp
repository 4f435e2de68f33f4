// The JSON API under /api/v1/: every route, its description for OpenAPI,
// and what it calls in app/. Handlers parse, call, and return the codec's
// JSON; no rule is decided here.
#include <regex>

#include "app/accounts.h"
#include "app/admin.h"
#include "app/codec.h"
#include "app/document_actions.h"
#include "app/instances.h"
#include "app/outbox.h"
#include "app/people.h"
#include "app/stats.h"
#include "server/http.h"

namespace mentorflow::server {

Status Call::Member(const std::string& name, std::string* out, bool required) const {
  if (!body.is_object() || !body.contains(name) || body[name].is_null()) {
    if (required) return Status::BadInput("'" + name + "' is required");
    out->clear();
    return Status::Ok();
  }
  if (!body[name].is_string()) return Status::BadInput("'" + name + "' must be a string");
  *out = body[name].get<std::string>();
  return Status::Ok();
}

namespace {
constexpr const char* kCookie = "__Host-mf_session";
}  // namespace

std::string SessionCookie(const Call& c, const std::string& token) {
  const std::string value = c.institution.empty() ? token : c.institution + "." + token;
  return std::string(kCookie) + "=" + value + "; Path=/; Secure; HttpOnly; SameSite=Strict";
}
std::string ClearedCookie() { return std::string(kCookie) + "=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0"; }

std::string WithInstitution(const Call& c, const std::string& path) {
  if (c.institution.empty()) return path;
  return path + (path.find('?') == std::string::npos ? "?" : "&") + "institution=" + c.institution;
}

namespace {

Reply Json(json body, int status = 200) {
  Reply r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

template <typename T, typename F>
Reply From(const app::Result<T>& r, F&& to_json) {
  if (!r.ok()) return Reply::Of(r.status());
  return Json(to_json(r.value()));
}

Reply Done(const Status& st, json body = {{"ok", true}}) { return st.ok() ? Json(std::move(body)) : Reply::Of(st); }

// A list of strings in the body ("roles"); BadInput when it is not one.
Status Strings(const Call& c, const char* name, std::vector<std::string>* out) {
  out->clear();
  if (!c.body.is_object() || !c.body.contains(name) || c.body[name].is_null()) return Status::Ok();
  const json& v = c.body[name];
  if (!v.is_array()) return Status::BadInput(std::string("'") + name + "' must be a list of strings");
  for (const auto& s : v) {
    if (!s.is_string()) return Status::BadInput(std::string("'") + name + "' must be a list of strings");
    out->push_back(s.get<std::string>());
  }
  return Status::Ok();
}

Status Attributes(const Call& c, std::vector<std::pair<std::string, std::string>>* out) {
  if (!c.body.is_object() || !c.body.contains("attributes") || c.body["attributes"].is_null()) return Status::Ok();
  const json& a = c.body["attributes"];
  if (!a.is_object()) return Status::BadInput("'attributes' must be an object of name: value");
  for (auto it = a.begin(); it != a.end(); ++it) {
    if (!it.value().is_string()) return Status::BadInput("attribute '" + it.key() + "' must be a string");
    out->push_back({it.key(), it.value().get<std::string>()});
  }
  return Status::Ok();
}

Reply AddPerson(Call& c) {
  PersonRecord p;
  for (auto [name, field] : {std::pair<const char*, std::string*>{"id", &p.id}, {"name", &p.name}})
    if (Status s = c.Member(name, field); !s.ok()) return Reply::Of(s);
  for (auto [name, field] :
       {std::pair<const char*, std::string*>{"birth", &p.birth}, {"guardian", &p.guardian}, {"email", &p.email},
        {"address", &p.address}, {"document_kind", &p.document.kind}, {"document_number", &p.document.number},
        {"document_issued", &p.document.issued}, {"document_issuer", &p.document.issuer},
        {"authority", &p.authority}})
    if (Status s = c.Member(name, field, false); !s.ok()) return Reply::Of(s);
  if (Status s = Strings(c, "roles", &p.roles); !s.ok()) return Reply::Of(s);
  if (Status s = Attributes(c, &p.attributes); !s.ok()) return Reply::Of(s);
  return Done(app::AddPerson(c.ctx, p), {{"id", p.id}});
}

Reply UpdatePerson(Call& c) {
  PersonUpdate u;
  u.id = c.Path(1);
  for (auto [name, field] : {std::pair<const char*, std::optional<std::string>*>{"name", &u.name},
                             {"birth", &u.birth}, {"email", &u.email}, {"guardian", &u.guardian},
                             {"address", &u.address}, {"document_kind", &u.document_kind},
                             {"document_number", &u.document_number}, {"document_issued", &u.document_issued},
                             {"document_issuer", &u.document_issuer}, {"authority", &u.authority}}) {
    if (!c.body.is_object() || !c.body.contains(name)) continue;
    std::string v;
    if (Status s = c.Member(name, &v, false); !s.ok()) return Reply::Of(s);
    *field = v;
  }
  if (Status s = Strings(c, "add_roles", &u.add_roles); !s.ok()) return Reply::Of(s);
  if (Status s = Strings(c, "remove_roles", &u.remove_roles); !s.ok()) return Reply::Of(s);
  if (Status s = Attributes(c, &u.attributes); !s.ok()) return Reply::Of(s);
  return Done(app::UpdatePerson(c.ctx, u), {{"id", u.id}});
}

Reply StartInstance(Call& c) {
  app::StartRequest r;
  if (Status s = c.Member("workflow", &r.workflow); !s.ok()) return Reply::Of(s);
  if (Status s = c.Member("parent", &r.parent, false); !s.ok()) return Reply::Of(s);
  if (Status s = app::InputFromJson(c.body.value("input", json()), &r.input); !s.ok()) return Reply::Of(s);
  auto v = app::StartInstance(c.ctx, r);
  if (!v.ok()) return Reply::Of(v.status());
  return Json(app::InstanceJson(*v), 201);
}

Reply SendEvent(Call& c) {
  app::SendRequest r;
  r.instance = c.Path(1);
  if (Status s = c.Member("event", &r.event); !s.ok()) return Reply::Of(s);
  if (Status s = app::InputFromJson(c.body.value("input", json()), &r.input); !s.ok()) return Reply::Of(s);
  return From(app::SendEvent(c.ctx, r), [](const app::InstanceView& v) { return app::InstanceJson(v); });
}

Reply Sign(Call& c) {
  std::string password;
  if (Status s = c.Member("password", &password); !s.ok()) return Reply::Of(s);
  if (Status s = app::ConfirmPassword(c.ctx, password); !s.ok()) return Reply::Of(s);
  return From(app::SignDocument(c.ctx, c.Path(1)), [](const app::Signed& s) { return app::SignedJson(s); });
}

Reply Render(Call& c) {
  auto r = app::RenderDocument(c.ctx, c.Path(1), c.Path(2));
  if (!r.ok()) return Reply::Of(r.status());
  Reply out;
  out.raw = std::move(r->bytes);
  out.content_type = r->content_type;
  out.filename = r->filename;
  return out;
}

Reply Login(Call& c) {
  app::LoginRequest r;
  if (Status s = c.Member("login", &r.login); !s.ok()) return Reply::Of(s);
  if (Status s = c.Member("password", &r.password); !s.ok()) return Reply::Of(s);
  r.address = c.address;
  auto s = app::Login(c.ctx, r);
  if (!s.ok()) return Reply::Of(s.status());
  Reply out = Json({{"person", s->person}, {"csrf", s->csrf}});
  out.cookies.push_back(SessionCookie(c, s->token));
  return out;
}

Reply ChangePassword(Call& c) {
  std::string current, next;
  if (Status s = c.Member("current", &current); !s.ok()) return Reply::Of(s);
  if (Status s = c.Member("password", &next); !s.ok()) return Reply::Of(s);
  auto s = app::ChangePassword(c.ctx, current, next, c.address);
  if (!s.ok()) return Reply::Of(s.status());
  Reply out = Json({{"person", s->person}, {"csrf", s->csrf}});
  out.cookies.push_back(SessionCookie(c, s->token));
  return out;
}

Reply Session(Call& c) {
  std::map<std::string, std::string> names;
  c.ctx.store.Names({c.ctx.actor}, &names);
  std::vector<std::string> roles;
  return Json({{"person", c.ctx.actor}, {"name", names[c.ctx.actor]}, {"csrf", c.csrf}});
}

Reply Calendar(Call& c) {
  auto person = app::CalendarFeedPerson(c.ctx, c.Path(1));
  if (!person.ok()) return Reply::Of(person.status());
  c.ctx.actor = *person;  // the feed reads as its person, with their rights
  auto ics = app::AgendaCalendar(c.ctx, {*person, "", ""});
  if (!ics.ok()) return Reply::Of(ics.status());
  Reply out;
  out.raw = *ics;
  out.content_type = "text/calendar; charset=utf-8";
  return out;
}

Reply NewCalendar(Call& c) {
  auto token = app::NewCalendarFeed(c.ctx);
  if (!token.ok()) return Reply::Of(token.status());
  std::string base = c.options.base_url;
  if (base.empty()) c.ctx.store.GetSetting("base_url", &base);
  while (!base.empty() && base.back() == '/') base.pop_back();
  return Json({{"url", base + WithInstitution(c, "/api/v1/calendar/" + *token + ".ics")}}, 201);
}

Reply Agenda(Call& c) {
  return From(app::Agenda(c.ctx, {c.Query("person"), c.Query("from"), c.Query("to")}),
              [](const app::AgendaView& a) { return app::AgendaJson(a); });
}

}  // namespace

app::Result<app::Rollup> RegionOf(Call& c) {
  const std::string text = c.Query("year");
  const date::year_month_day today{c.ctx.now.today};
  int year = static_cast<int>(today.year()) - (today.month() == date::December ? 0 : 1);
  if (!text.empty()) {
    if (text.size() != 4 || text.find_first_not_of("0123456789") != std::string::npos)
      return Status::BadInput("year: a calendar year, e.g. ?year=2026");
    year = std::stoi(text);
  }
  return app::RegionRollup(c.ctx, year);
}

namespace {

Reply Stats(Call& c, const std::string& what) {
  std::string text;
  Status st;
  if (what == "monitoring") {
    json summary;
    st = app::MonitoringSummary(c.ctx.store, c.Query("period"), &summary);
    return Done(st, summary);
  }
  int year = 0;
  try {
    year = std::stoi(c.Query("year"));
  } catch (...) {
    return Reply::Of(Status::BadInput("year: a calendar year, e.g. ?year=2026"));
  }
  const std::string by = c.Query("by");
  st = by.empty() ? app::AnnualReport(c.ctx.store, c.ctx.templates, year, c.ctx.now, "json", &text)
                  : app::AnnualBreakdownReport(c.ctx.store, c.ctx.templates, year, by, c.ctx.now, "json", &text);
  if (!st.ok()) return Reply::Of(st);
  return Json(json::parse(text, nullptr, false));
}

// Statistics and settings are the institution's, for a curator or the director.
Status Office(Call& c) {
  return c.ctx.store.AuthorizeRead({"", {}, "", false}, c.ctx.actor, c.ctx.now);
}

std::vector<Route> MakeRoutes() {
  using A = Access;
  return {
      {"POST", "/api/v1/login", A::kPublic, "Log in with a person id or e-mail and a password; sets the session cookie",
       {}, {{"login", "a person id or an e-mail address", true}, {"password", "the password", true}}, Login},
      {"POST", "/api/v1/logout", A::kSession, "End this session", {}, {},
       [](Call& c) {
         Reply r = Done(app::Logout(c.ctx, c.session_token));
         r.cookies.push_back(ClearedCookie());
         return r;
       }},
      {"GET", "/api/v1/session", A::kSession, "Who is logged in, and the CSRF token for changes", {}, {}, Session},
      {"POST", "/api/v1/account/password", A::kPublic, "Set a password from an invitation or reset link", {},
       {{"token", "the token of the link", true}, {"password", "the new password (8 to 128 characters)", true}},
       [](Call& c) {
         std::string token, password;
         if (Status s = c.Member("token", &token); !s.ok()) return Reply::Of(s);
         if (Status s = c.Member("password", &password); !s.ok()) return Reply::Of(s);
         return From(app::RedeemLink(c.ctx, token, password), [](const std::string& p) { return json{{"person", p}}; });
       }},
      {"POST", "/api/v1/account/forgot", A::kPublic,
       "Send a fresh link to set a password; answers the same whether or not the account exists", {},
       {{"login", "a person id or an e-mail address", true}},
       [](Call& c) {
         std::string login;
         if (Status s = c.Member("login", &login); !s.ok()) return Reply::Of(s);
         return Done(app::ForgotPassword(c.ctx, login, {c.options.base_url}),
                     {{"ok", true}, {"message", "if the account exists, a link is on its way"}});
       }},
      {"POST", "/api/v1/account/change-password", A::kSession,
       "Change the password (the current one is needed); ends every other session", {},
       {{"current", "the current password", true}, {"password", "the new password", true}}, ChangePassword},
      {"POST", "/api/v1/calendar", A::kSession, "A private calendar URL of one's agenda (replaces the previous one)",
       {}, {}, NewCalendar},
      {"POST", "/api/v1/calendar/revoke", A::kSession, "Stop every private calendar URL of one's agenda", {}, {},
       [](Call& c) { return Done(app::RevokeCalendarFeeds(c.ctx)); }},
      {"GET", "/api/v1/calendar/{token}.ics", A::kPublic, "The agenda of the calendar URL's person (iCalendar)", {},
       {}, Calendar},

      {"POST", "/api/v1/people", A::kSession, "Register a person (a curator or the director)", {},
       {{"id", "the person's id", true}, {"name", "full name", true}, {"roles", "list of roles", true},
        {"birth", "YYYY-MM-DD"}, {"guardian", "the guardian's id"}, {"email", "e-mail address"},
        {"attributes", "object of declared attributes"}, {"address", "address of residence (a consent states it)"},
        {"document_kind", "identity document: kind"}, {"document_number", "identity document: series and number"},
        {"document_issued", "identity document: YYYY-MM-DD issued"}, {"document_issuer", "identity document: issuer"},
        {"authority", "a minor's: the document of the guardian's authority"}},
       AddPerson},
      {"GET", "/api/v1/people/{id}", A::kSession, "A person's record (recorded in their history)", {}, {},
       [](Call& c) { return From(app::ReadPerson(c.ctx, c.Path(1)), [](const PersonRecord& p) { return app::PersonJson(p); }); }},
      {"POST", "/api/v1/people/{id}", A::kSession,
       "Change a person (a curator or the director; what a consent states also the person or their guardian)", {},
       {{"name", "full name"}, {"birth", "YYYY-MM-DD"}, {"email", "e-mail address"}, {"guardian", "the guardian's id"},
        {"add_roles", "list of roles to add"}, {"remove_roles", "list of roles to remove"},
        {"attributes", "object of attributes (empty value removes)"},
        {"address", "address of residence (a consent states it)"}, {"document_kind", "identity document: kind"},
        {"document_number", "identity document: series and number"},
        {"document_issued", "identity document: YYYY-MM-DD issued"}, {"document_issuer", "identity document: issuer"},
        {"authority", "a minor's: the document of the guardian's authority"}},
       UpdatePerson},
      {"GET", "/api/v1/people/{id}/export", A::kSession, "Everything stored about a person (152-FZ art. 14)", {}, {},
       [](Call& c) {
         return From(app::ExportPerson(c.ctx, c.Path(1)), [](const std::string& t) { return json::parse(t, nullptr, false); });
       }},
      {"POST", "/api/v1/people/{id}/invite", A::kSession,
       "Invite a person to set a password (a curator or the director); the link goes by e-mail", {}, {},
       [](Call& c) { return Done(app::InvitePerson(c.ctx, c.Path(1), {c.options.base_url})); }},
      {"POST", "/api/v1/people/{id}/consent", A::kSession, "Give or revoke a person's consent", {},
       {{"given", "true to give, false to revoke", true}, {"paper_date", "a curator records a paper form: its date"},
        {"purpose", "what the data is processed for, as a workflow declares it (default: mentoring)"}},
       [](Call& c) {
         if (!c.body.is_object() || !c.body.contains("given") || !c.body["given"].is_boolean())
           return Reply::Of(Status::BadInput("'given' is required: true or false"));
         app::ConsentRequest r{c.Path(1), c.body["given"].get<bool>(), ""};
         if (Status s = c.Member("paper_date", &r.paper_date, false); !s.ok()) return Reply::Of(s);
         if (Status s = c.Member("purpose", &r.purpose, false); !s.ok()) return Reply::Of(s);
         if (r.purpose.empty()) r.purpose = kDefaultPurpose;
         return Done(app::SetConsent(c.ctx, r), {{"person", r.person}, {"consent", r.given}, {"purpose", r.purpose}});
       }},
      {"POST", "/api/v1/people/{id}/requests", A::kSession,
       "A subject's request about their data: information, or a demand to correct or destroy it", {},
       {{"kind", "information (the default), correction or erasure"}, {"text", "what to correct, or why (correction, erasure)"}},
       [](Call& c) {
         std::string kind, text;
         if (Status s = c.Member("kind", &kind, false); !s.ok()) return Reply::Of(s);
         if (Status s = c.Member("text", &text, false); !s.ok()) return Reply::Of(s);
         return From(app::RequestInformation(c.ctx, c.Path(1), kind.empty() ? "information" : kind, text),
                     [](const app::InstanceView& v) { return app::InstanceJson(v); });
       }},
      {"POST", "/api/v1/people/{id}/erase", A::kSession, "Destroy a person's personal data; the destruction act", {},
       {},
       [](Call& c) {
         return From(app::ErasePerson(c.ctx, c.Path(1)), [](const DocumentRecord& d) { return app::DocumentJson(d); });
       }},

      {"GET", "/api/v1/instances", A::kSession, "The instances one may read",
       {{"workflow", "only this workflow"}, {"state", "only this state"}}, {},
       [](Call& c) {
         return From(app::ListInstances(c.ctx, {c.Query("workflow"), c.Query("state")}),
                     [](const std::vector<app::InstanceView>& v) { return app::InstancesJson(v); });
       }},
      {"POST", "/api/v1/instances", A::kSession, "Start an instance of a workflow", {},
       {{"workflow", "the workflow", true}, {"input", "object of field: value"}, {"parent", "the parent instance"}},
       StartInstance},
      {"GET", "/api/v1/instances/{id}", A::kSession, "An instance", {}, {},
       [](Call& c) {
         return From(app::ShowInstance(c.ctx, c.Path(1)), [](const app::InstanceView& v) { return app::InstanceJson(v); });
       }},
      {"GET", "/api/v1/instances/{id}/history", A::kSession, "An instance's history", {}, {},
       [](Call& c) {
         return From(app::InstanceHistory(c.ctx, c.Path(1)), [](const app::HistoryView& h) { return app::HistoryJson(h); });
       }},
      {"POST", "/api/v1/instances/{id}/events", A::kSession, "Send an event to an instance", {},
       {{"event", "the event", true}, {"input", "object of field: value"}}, SendEvent},
      {"GET", "/api/v1/instances/{id}/documents", A::kSession, "An instance's documents", {}, {},
       [](Call& c) {
         return From(app::ListDocuments(c.ctx, c.Path(1)),
                     [](const std::vector<DocumentRecord>& d) { return app::DocumentsJson(d); });
       }},

      {"GET", "/api/v1/documents", A::kSession, "Every document (a curator or the director)", {}, {},
       [](Call& c) {
         return From(app::ListDocuments(c.ctx, ""), [](const std::vector<DocumentRecord>& d) { return app::DocumentsJson(d); });
       }},
      {"POST", "/api/v1/documents", A::kSession, "Issue an order listing every instance that awaits it", {},
       {{"name", "the collective document, e.g. order_assign_pairs", true}},
       [](Call& c) {
         std::string name;
         if (Status s = c.Member("name", &name); !s.ok()) return Reply::Of(s);
         auto d = app::IssueOrder(c.ctx, name);
         if (!d.ok()) return Reply::Of(d.status());
         return Json(app::DocumentJson(*d), 201);
       }},
      {"GET", "/api/v1/documents/{doc}", A::kSession, "A document: status, hash, signers", {}, {},
       [](Call& c) { return From(app::ShowDocument(c.ctx, c.Path(1)), [](const DocumentRecord& d) { return app::DocumentJson(d); }); }},
      {"POST", "/api/v1/documents/{doc}/sign", A::kSession, "Sign a document (confirmed by one's password)", {},
       {{"password", "one's password: a signature is given knowingly", true}}, Sign},
      {"GET", "/api/v1/documents/{doc}/render.{format}", A::kSession, "A document to print: html, odt or pdf", {}, {},
       Render},

      {"GET", "/api/v1/agenda", A::kSession, "Deadlines and reminders to come",
       {{"person", "only what concerns this person"}, {"from", "YYYY-MM-DD"}, {"to", "YYYY-MM-DD"}}, {}, Agenda},
      {"GET", "/api/v1/reminders", A::kSession, "Reminders that came due",
       {{"status", "only this status"}, {"person", "only those to this person"}, {"instance", "only this instance"}},
       {},
       [](Call& c) {
         return From(app::Reminders(c.ctx, {c.Query("status"), c.Query("person"), c.Query("instance")}),
                     [](const std::vector<ReminderRecord>& r) { return app::RemindersJson(r); });
       }},
      {"POST", "/api/v1/reminders/{id}/ack", A::kSession, "Acknowledge a reminder", {}, {},
       [](Call& c) {
         const std::string id = c.Path(1);
         if (id.empty() || id.size() > 18 || id.find_first_not_of("0123456789") != std::string::npos)
           return Reply::Of(Status::NotFound("no reminder " + id));
         return Done(app::Ack(c.ctx, std::stoll(id)), {{"id", std::stoll(id)}, {"status", "acknowledged"}});
       }},

      {"GET", "/api/v1/stats/annual", A::kSession, "The year's figures (a curator or the director)",
       {{"year", "the calendar year", true}, {"by", "a person attribute to break them down by"}}, {},
       [](Call& c) {
         if (Status s = Office(c); !s.ok()) return Reply::Of(s);
         return Stats(c, "annual");
       }},
      {"GET", "/api/v1/stats/monitoring", A::kSession, "A monitoring cycle's results (a curator or the director)",
       {{"period", "YEAR-H1 or YEAR-H2", true}}, {},
       [](Call& c) {
         if (Status s = Office(c); !s.ok()) return Reply::Of(s);
         return Stats(c, "monitoring");
       }},
      {"GET", "/api/v1/stats/rating", A::kSession, "A workflow's rating",
       {{"direction", "the value ranked", true}, {"workflow", "the workflow with the rating"}}, {},
       [](Call& c) {
         return From(app::Ranking(c.ctx, c.Query("workflow"), c.Query("direction")),
                     [](const Store::RatingReport& r) { return app::RankingJson(r); });
       }},
      {"GET", "/api/v1/region/rollup", A::kSession,
       "The region's annual reports for a year: who has sent, who is late, the sums with counts below 5 withheld"
       " (a regional centre's staff)",
       {{"year", "the year the reports are for (default: the one due last)"}}, {},
       [](Call& c) { return From(RegionOf(c), [](const app::Rollup& r) { return app::RollupJson(r); }); }},
      {"GET", "/api/v1/region/rollup.{export}", A::kSession,
       "The region's roll-up as a file: csv, xlsx, or the document for the centre's director (html, odt, pdf)",
       {{"year", "the year the reports are for (default: the one due last)"}}, {},
       [](Call& c) {
         auto r = RegionOf(c);
         if (!r.ok()) return Reply::Of(r.status());
         auto file = app::RollupBytes(c.ctx, *r, c.Path(1));
         if (!file.ok()) return Reply::Of(file.status());
         Reply out;
         out.raw = std::move(file->bytes);
         out.content_type = file->content_type;
         out.filename = file->filename;
         return out;
       }},
      {"GET", "/api/v1/openapi.json", A::kPublic, "This document", {}, {}, [](Call&) { return Json(OpenApi()); }},
  };
}

}  // namespace

const std::vector<Route>& Routes() {
  static const std::vector<Route> routes = MakeRoutes();
  return routes;
}

std::string PathPattern(const std::string& path) {
  // {doc} is INSTANCE:NAME[:ISSUE], consent:P:N, act:P, or an order N/YYYY (one slash).
  static const std::regex param(R"(\{([a-z]+)\})");
  std::string out;
  auto begin = std::sregex_iterator(path.begin(), path.end(), param);
  std::size_t last = 0;
  for (auto it = begin; it != std::sregex_iterator(); ++it) {
    std::string literal = path.substr(last, it->position() - last);
    for (char ch : literal) {
      if (std::string(".+*?()[]{}|^$\\").find(ch) != std::string::npos) out += '\\';
      out += ch;
    }
    const std::string name = (*it)[1];
    out += name == "doc"       ? "([^/]+(?:/[0-9]{4})?)"
           : name == "format"  ? "(html|odt|pdf)"
           : name == "export"  ? "(csv|xlsx|html|odt|pdf)"
           : name == "file"    ? "([a-z]+\\.(?:css|js))"
           : name == "version" ? "([0-9]{1,9})"
                               : "([^/.]+)";
    last = it->position() + it->length();
  }
  for (char ch : path.substr(last)) {
    if (std::string(".+*?()[]{}|^$\\").find(ch) != std::string::npos) out += '\\';
    out += ch;
  }
  return out;
}

int HttpStatus(const Status& st) {
  switch (st.code()) {
    case Code::kOk: return 200;
    case Code::kBadInput: return st.rule() == "too_large" ? 413 : 400;
    case Code::kNotFound: return 404;
    case Code::kConflict: return 409;
    case Code::kInternal: return st.rule() == "unavailable" ? 503 : 500;
    case Code::kRefused: break;
  }
  const std::string& rule = st.rule();
  if (rule == "login" || rule == "session") return 401;
  if (rule == "throttled") return 429;
  if (rule.empty() || rule == "role" || rule == "person" || rule == "minor" || rule == "not_by" || rule == "csrf" ||
      rule == "password_check" || rule == "guardian")
    return 403;
  return 422;
}

json OpenApi() {
  json paths = json::object();
  const json error_ref = {{"$ref", "#/components/schemas/Error"}};
  for (const auto& r : Routes()) {
    json op = {{"summary", r.summary}, {"operationId", std::string(r.method) + " " + r.path}};
    json params = json::array();
    static const std::regex param(R"(\{([a-z]+)\})");
    const std::string path = r.path;
    for (auto it = std::sregex_iterator(path.begin(), path.end(), param); it != std::sregex_iterator(); ++it)
      params.push_back({{"name", (*it)[1].str()}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}});
    for (const auto& q : r.query)
      params.push_back({{"name", q.name}, {"in", "query"}, {"required", q.required}, {"description", q.description},
                        {"schema", {{"type", "string"}}}});
    if (!params.empty()) op["parameters"] = params;
    if (!r.body.empty()) {
      json props = json::object(), required = json::array();
      for (const auto& b : r.body) {
        props[b.name] = {{"description", b.description}};
        if (b.required) required.push_back(b.name);
      }
      json schema = {{"type", "object"}, {"properties", props}};
      if (!required.empty()) schema["required"] = required;
      op["requestBody"] = {{"required", true}, {"content", {{"application/json", {{"schema", schema}}}}}};
    }
    json responses = {{"200", {{"description", "done"}, {"content", {{"application/json", {{"schema", {{"type", "object"}}}}}}}}},
                      {"400", {{"description", "bad input"}, {"content", {{"application/json", {{"schema", error_ref}}}}}}},
                      {"404", {{"description", "not found, or not one's to see"},
                               {"content", {{"application/json", {{"schema", error_ref}}}}}}}};
    if (r.access == Access::kSession) {
      responses["401"] = {{"description", "not logged in"}, {"content", {{"application/json", {{"schema", error_ref}}}}}};
      responses["403"] = {{"description", "refused by a role, or no CSRF token"},
                          {"content", {{"application/json", {{"schema", error_ref}}}}}};
      op["security"] = json::array({{{"session", json::array()}}});
    }
    op["responses"] = responses;
    std::string method = r.method;
    for (char& ch : method) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    paths[r.path][method] = op;
  }
  return {
      {"openapi", "3.0.3"},
      {"info", {{"title", "mentorflow API"}, {"version", "1"},
                {"description", "Mentoring programmes as workflows: people, consents, instances, documents, agenda, "
                                "reminders and statistics. Changes need the session cookie and the X-CSRF-Token "
                                "header (GET /api/v1/session gives it)."}}},
      {"paths", paths},
      {"components",
       {{"securitySchemes", {{"session", {{"type", "apiKey"}, {"in", "cookie"}, {"name", kCookie}}}}},
        {"schemas",
         {{"Error",
           {{"type", "object"},
            {"required", json::array({"error"})},
            {"properties",
             {{"error",
               {{"type", "object"},
                {"required", json::array({"code", "reason"})},
                {"properties",
                 {{"code", {{"type", "integer"}, {"description", "the CLI's exit code: 1 bad input ... 5 internal"}}},
                  {"reason", {{"type", "string"}}},
                  {"rule", {{"type", "string"}, {"description", "what refused"}}}}}}}}}}}}}}}};
}

}  // namespace mentorflow::server
