// The pages: HTML for people, on the same use cases (app/) as the JSON API.
// A GET renders a template of templates/web/; a form POSTs here, with the
// session's CSRF token in a hidden field, and is answered by a redirect
// (303) to the page that shows the result, or by the same page again with
// the refusal next to the form. Who may see or do what is never decided
// here: the events and signatures offered come from app/actions.h.
#include <map>
#include <regex>
#include <set>

#include "app/accounts.h"
#include "app/actions.h"
#include "app/codec.h"
#include "app/document_actions.h"
#include "app/instances.h"
#include "app/outbox.h"
#include "app/people.h"
#include "engine/render.h"
#include "server/http.h"
#include "app/stats.h"
#include "server/web.h"

namespace mentorflow::server {

namespace {

// Percent-encodes a path segment (ids like 6:agreement:1; an order's N/YYYY keeps its slash).
std::string Seg(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char ch : s) {
    if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == ':' || ch == '/') {
      out += static_cast<char>(ch);
    } else {
      out += '%';
      out += hex[ch >> 4];
      out += hex[ch & 15];
    }
  }
  return out;
}

Reply Redirect(const std::string& to) {
  Reply r;
  r.status = 303;
  r.location = to;
  return r;
}

bool Office(Call& c) { return c.ctx.store.AuthorizeRead({"", {}, "", false}, c.ctx.actor, c.ctx.now).ok(); }

// What every page's layout shows: the institution, who is logged in, the
// navigation they may use, the CSRF token for forms.
json Base(Call& c, const std::string& title) {
  std::string institution;
  c.ctx.store.GetSetting("institution", &institution);
  json j = {{"title", title}, {"institution", institution}, {"csrf", c.csrf}};
  if (!c.ctx.actor.empty()) {
    std::map<std::string, std::string> names;
    c.ctx.store.Names({c.ctx.actor}, &names);
    j["user"] = {{"id", c.ctx.actor}, {"name", names.count(c.ctx.actor) ? names[c.ctx.actor] : c.ctx.actor}};
    j["office"] = Office(c);
    bool regional = false;
    j["regional"] = c.ctx.store.IsRegionalCentre(&regional).ok() && regional;
  }
  const std::string done = c.Query("done");
  if (!done.empty() && done.size() < 40) {
    const std::string notice = web::Text(c.ctx.templates, "notices." + done);
    if (!notice.empty()) j["notice"] = notice;
  }
  return j;
}

// An empty text is false for the templates ({{#guardian}} shows nothing for
// no guardian; Mustache would take "" as true), and renders as nothing.
void EmptyIsFalse(json& j) {
  if (j.is_string() && j.get_ref<const std::string&>().empty()) j = false;
  else if (j.is_structured())
    for (auto& x : j) EmptyIsFalse(x);
}

Reply Html(Call& c, const std::string& name, json context, int status = 200) {
  EmptyIsFalse(context);
  // Mustache has no "if the list is not empty": any_LIST says it.
  std::vector<std::pair<std::string, bool>> lists;
  for (const auto& [key, value] : context.items())
    if (value.is_array()) lists.push_back({"any_" + key, !value.empty()});
  for (const auto& [key, any] : lists) context[key] = any;
  Reply r;
  if (Status s = web::RenderPage(c.ctx.templates, name, context, &r.raw); !s.ok()) return Reply::Of(s);
  r.status = status;
  r.content_type = "text/html; charset=utf-8";
  return r;
}

// The page for a refusal: its text by rule, nothing of the request in it.
Reply ErrorPage(Call& c, const Status& st) {
  json j = Base(c, web::Text(c.ctx.templates, "titles.error", "codes.internal"));
  j["message"] = web::ErrorText(c.ctx.templates, st);
  j["not_found"] = st.code() == Code::kNotFound;
  return Html(c, "error", j, HttpStatus(st));
}

std::string StatusTitle(Call& c, const std::string& status) {
  std::string t = web::Text(c.ctx.templates, "document_status." + status);
  return t.empty() ? status : t;
}

json DocumentJson(Call& c, const DocumentRecord& d) {
  json places = json::array();
  for (const auto& p : d.places)
    places.push_back({{"title", p.representative ? web::Text(c.ctx.templates, "words.representative")
                                : p.title.empty()  ? web::Text(c.ctx.templates, "words.subject")
                                                   : p.title},
                      {"name", p.name.empty() ? p.person : p.name},
                      {"signed", !p.signed_at.empty()},
                      {"signed_at", web::LocalTimeRu(p.signed_at, c.ctx.zone)},
                      {"representative", p.representative},
                      {"represented", p.represented},
                      {"signed_by", p.signed_by_name.empty() ? p.signed_by : p.signed_by_name}});
  std::string title = d.title.empty() ? d.name : d.title;
  if (!d.number.empty()) title += " № " + d.number;
  return {{"id", d.Id()},
          {"href", "/documents/" + Seg(d.Id())},
          {"title", title},
          {"status", d.status},
          {"status_title", StatusTitle(c, d.status)},
          {"issued", web::LocalTimeRu(d.issued_at, c.ctx.zone)},
          {"places", places},
          {"instance", d.instance}};
}

// One input of a form, for templates/web/form.mustache's fields.
json InputJson(Call& c, const app::InputView& in, const std::string& value, const std::string& error) {
  const std::string& t = in.type;
  const bool select = !in.options.empty() || t == "enum" || t == "bool" || t == "item";
  json options = json::array();
  if (t == "bool") {
    options.push_back({{"value", "true"}, {"title", web::Text(c.ctx.templates, "words.answer_yes")}, {"selected", value == "true"}});
    options.push_back({{"value", "false"}, {"title", web::Text(c.ctx.templates, "words.answer_no")}, {"selected", value == "false"}});
  }
  for (const auto& [v, title] : in.options) options.push_back({{"value", v}, {"title", title}, {"selected", v == value}});
  const std::string type = t == "date" ? "date" : t == "datetime" ? "datetime-local" : t == "int" ? "number" : "text";
  json j = {{"name", "f." + in.name},
            {"id", "f-" + in.name},
            {"title", in.title},
            {"required", in.required},
            {"select", select},
            {"options", options},
            {"type", type},
            {"value", value},
            {"min", in.min},
            {"max", in.max},
            {"person_id", t == "person" && in.options.empty()}};
  if (!error.empty()) j["error"] = error;
  return j;
}

// The values a form posted ("f.NAME"), as an event's or a start's input:
// empty ones are not sent (an optional field left blank stays unset).
Input PostedInput(const Call& c) {
  Input input;
  for (const auto& [k, v] : c.req.params)
    if (k.size() > 2 && k.compare(0, 2, "f.") == 0 && !v.empty()) input.push_back({k.substr(2), v});
  return input;
}

std::string Posted(const Call& c, const std::string& name) {
  auto it = c.req.params.find("f." + name);
  return it == c.req.params.end() ? std::string() : it->second;
}

// A form's fields: each input with what was posted (on a refusal) or its default.
json FieldsJson(Call& c, const std::vector<app::InputView>& inputs, const Status* refused) {
  json out = json::array();
  for (const auto& in : inputs) {
    std::string value = refused ? Posted(c, in.name) : in.value;
    std::string error;
    if (refused && refused->field() == in.name)
      error = web::Text(c.ctx.templates, value.empty() ? "fields.required" : "fields.invalid");
    out.push_back(InputJson(c, in, value, error));
  }
  return out;
}

// ---- accounts ---------------------------------------------------------------

// A regional server's forms before a session: the institutions to choose
// from, the request's own (or the browser's last) chosen.
json Chosen(Call& c, json j) {
  if (!c.options.region) return j;
  std::vector<Store::RegionInstitution> list;
  if (Status s = c.ctx.store.InstitutionDirectory(&list); !s.ok()) return j;
  json options = json::array();
  for (const auto& i : list)
    options.push_back({{"id", i.id}, {"name", i.name.empty() ? i.id : i.name}, {"selected", i.id == c.institution}});
  j["choose_institution"] = true;
  j["institutions"] = std::move(options);
  j["chosen"] = c.institution;
  // The page shows no one institution's name before a session.
  if (c.ctx.actor.empty()) j["institution"] = web::Text(c.ctx.templates, "titles.region_server");
  return j;
}

// A regional server remembers for a year which institution this browser
// logged in to (its id, no secret): the login page chooses it next time.
std::string InstitutionCookie(const Call& c) {
  return "__Host-mf_institution=" + c.institution + "; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=31536000";
}

Reply LoginPage(Call& c) {
  if (!c.ctx.actor.empty()) return Redirect("/");
  return Html(c, "login", Chosen(c, Base(c, web::Text(c.ctx.templates, "titles.login"))));
}

Reply LoginPost(Call& c) {
  app::LoginRequest r{c.Query("login"), c.Query("password"), c.address};
  auto s = app::Login(c.ctx, r);
  if (!s.ok()) {
    json j = Chosen(c, Base(c, web::Text(c.ctx.templates, "titles.login")));
    j["error"] = web::ErrorText(c.ctx.templates, s.status());
    j["login"] = r.login;
    return Html(c, "login", j, HttpStatus(s.status()));
  }
  Reply out = Redirect("/");
  out.cookies.push_back(SessionCookie(c, s->token));
  if (!c.institution.empty()) out.cookies.push_back(InstitutionCookie(c));
  return out;
}

Reply LogoutPost(Call& c) {
  app::Logout(c.ctx, c.session_token);
  Reply r = Redirect("/login?done=logged_out");
  r.cookies.push_back(ClearedCookie());
  return r;
}

Reply SetPasswordPage(Call& c) {
  json j = Chosen(c, Base(c, web::Text(c.ctx.templates, "titles.set_password")));
  j["token"] = c.Query("token");
  return Html(c, "set_password", j);
}

Reply SetPasswordPost(Call& c) {
  const std::string token = c.Query("token"), password = c.Query("password");
  json j = Chosen(c, Base(c, web::Text(c.ctx.templates, "titles.set_password")));
  j["token"] = token;
  if (password != c.Query("password2")) {
    j["error"] = web::Text(c.ctx.templates, "errors.password_mismatch");
    return Html(c, "set_password", j, 400);
  }
  auto person = app::RedeemLink(c.ctx, token, password);
  if (!person.ok()) {
    j["error"] = web::ErrorText(c.ctx.templates, person.status());
    if (person.status().rule() == "password") j["password_error"] = true;
    return Html(c, "set_password", j, HttpStatus(person.status()));
  }
  return Redirect(WithInstitution(c, "/login?done=password_set"));
}

Reply ForgotPage(Call& c) { return Html(c, "forgot", Chosen(c, Base(c, web::Text(c.ctx.templates, "titles.forgot")))); }

Reply ForgotPost(Call& c) {
  Status st = app::ForgotPassword(c.ctx, c.Query("login"), {c.options.base_url});
  if (!st.ok() && st.code() != Code::kBadInput) return ErrorPage(c, st);
  json j = Chosen(c, Base(c, web::Text(c.ctx.templates, "titles.forgot")));
  if (!st.ok()) {
    j["error"] = web::ErrorText(c.ctx.templates, st);
    return Html(c, "forgot", j, 400);
  }
  j["notice"] = web::Text(c.ctx.templates, "notices.link_sent");
  j["sent"] = true;
  return Html(c, "forgot", j);
}

Reply AccountPage(Call& c) { return Html(c, "account", Base(c, web::Text(c.ctx.templates, "titles.account"))); }

Reply ChangePasswordPost(Call& c) {
  json j = Base(c, web::Text(c.ctx.templates, "titles.account"));
  if (c.Query("password") != c.Query("password2")) {
    j["error"] = web::Text(c.ctx.templates, "errors.password_mismatch");
    return Html(c, "account", j, 400);
  }
  auto s = app::ChangePassword(c.ctx, c.Query("current"), c.Query("password"), c.address);
  if (!s.ok()) {
    j["error"] = web::ErrorText(c.ctx.templates, s.status());
    return Html(c, "account", j, HttpStatus(s.status()));
  }
  Reply out = Redirect("/account?done=password_changed");
  out.cookies.push_back(SessionCookie(c, s->token));
  return out;
}

// ---- «Мои задачи» -------------------------------------------------------------

// ---- the regional centre --------------------------------------------------

Reply RegionPage(Call& c) {
  auto r = RegionOf(c);
  if (!r.ok()) return ErrorPage(c, r.status());
  auto figures = [&](const app::Rollup::Line& line) {
    json out = json::array();
    for (std::size_t k = 0; k < r->columns.size(); ++k)
      out.push_back({{"title", r->columns[k].title}, {"value", app::Cell(*r, line, k)}});
    return out;
  };
  json j = Base(c, web::Text(c.ctx.templates, "titles.region"));
  j["year"] = r->year;
  j["prev"] = r->year - 1;
  j["next"] = r->year + 1;
  j["count"] = r->institutions.size();
  j["submitted"] = r->submitted;
  j["late"] = r->late;
  j["pending"] = std::to_string(r->pending);
  j["totals"] = figures(r->total);
  const std::string show = c.Query("show");
  json list = json::array();
  for (const auto& line : r->institutions) {
    const std::string name = line.name.empty() ? line.id : line.name;
    json item = {{"name", name}, {"status", app::StatusText(*r, line)}, {"late", line.late}};
    if (line.submitted) {
      item["href"] = "/region?year=" + std::to_string(r->year) + "&show=" + Seg(line.id);
      if (line.id == show) j["shown"] = {{"name", name}, {"figures", figures(line)}};
    }
    list.push_back(std::move(item));
  }
  j["institutions"] = std::move(list);
  return Html(c, "region", j);
}

Reply TasksPage(Call& c) {
  if (bool regional = false; c.ctx.store.IsRegionalCentre(&regional).ok() && regional) return Redirect("/region");
  auto t = app::Tasks(c.ctx);
  if (!t.ok()) return ErrorPage(c, t.status());
  json j = Base(c, web::Text(c.ctx.templates, "titles.tasks"));
  json docs = json::array(), consents = json::array(), instances = json::array(), deadlines = json::array();
  for (const auto& d : t->to_sign) docs.push_back(DocumentJson(c, d));
  for (const auto& p : t->consents)
    consents.push_back({{"href", "/people/" + Seg(p.person)}, {"name", p.name}, {"ward", p.ward}});
  for (const auto& it : t->instances) {
    json events = json::array();
    for (const auto& e : it.events) events.push_back({{"title", e.title}});
    instances.push_back({{"href", "/instances/" + Seg(it.instance.record.id)},
                         {"id", it.instance.record.id},
                         {"workflow_title", it.instance.workflow_title},
                         {"state_title", it.instance.state_title},
                         {"events", events}});
  }
  for (const auto& d : t->deadlines)
    deadlines.push_back({{"href", "/instances/" + Seg(d.instance)},
                         {"due", web::DateRu(d.due)},
                         {"workflow_title", d.workflow_title},
                         {"state_title", d.state_title},
                         {"item", d.item_title},
                         {"id", d.instance}});
  j["documents"] = docs;
  j["consents"] = consents;
  j["instances"] = instances;
  j["deadlines"] = deadlines;
  j["nothing"] = docs.empty() && consents.empty() && instances.empty() && deadlines.empty();
  return Html(c, "tasks", j);
}

// ---- an instance --------------------------------------------------------------

// The instance page; `refused`/`event`: a form sent and refused, shown again.
Reply InstancePage(Call& c, const std::string& id, const Status* refused = nullptr, const std::string& event = "") {
  auto v = app::ShowInstance(c.ctx, id);
  if (!v.ok()) return ErrorPage(c, v.status());
  const InstanceRecord& rec = v->record;
  const Definition* def = nullptr;
  if (Status s = c.ctx.store.Workflow(rec.workflow, rec.workflow_version, &def); !s.ok()) return ErrorPage(c, s);
  json j = Base(c, v->workflow_title + " №" + rec.id);
  j["instance"] = {{"id", rec.id},
                   {"workflow_title", v->workflow_title},
                   {"state_title", v->state_title},
                   {"updated", web::LocalTimeRu(rec.updated, c.ctx.zone)},
                   {"diagram", "/diagrams/" + Seg(rec.workflow) + "/" + std::to_string(rec.workflow_version) + "/" +
                                   Seg(rec.state) + ".svg"}};
  if (!rec.parent.empty()) {  // its title only: no one's data
    j["instance"]["parent_href"] = "/instances/" + Seg(rec.parent);
    InstanceRecord parent;
    const Definition* pd = nullptr;
    if (c.ctx.store.Show(rec.parent, &parent).ok() && c.ctx.store.Workflow(parent.workflow, parent.workflow_version, &pd).ok())
      j["instance"]["parent_title"] = (pd->title.empty() ? parent.workflow : pd->title) + " №" + parent.id;
  }
  // Fields: a list as a table of its records, a person by name, an enum by title.
  json fields = json::array(), tables = json::array();
  for (const auto& f : v->fields) {
    const int fi = def->FieldIndex(f.name);
    const FieldDef* fd = fi >= 0 ? &def->fields[fi] : nullptr;
    if (fd && fd->type == FieldType::kList) {
      const json items = json::parse(f.text, nullptr, false);
      json columns = json::array({{{"title", "№"}}}), rows = json::array();
      for (const auto& itf : fd->item_fields) columns.push_back({{"title", itf.title.empty() ? itf.name : itf.title}});
      if (items.is_array())
        for (const auto& item : items) {
          json cells = json::array();
          cells.push_back({{"text", item.value("id", "")}, {"label", "№"}});
          for (const auto& itf : fd->item_fields) {
            std::string text;
            if (item.contains(itf.name) && !item[itf.name].is_null())
              text = item[itf.name].is_string() ? item[itf.name].get<std::string>() : item[itf.name].dump();
            if (itf.type == FieldType::kEnum)
              for (size_t k = 0; k < itf.values.size() && k < itf.value_titles.size(); ++k)
                if (itf.values[k] == text && !itf.value_titles[k].empty()) text = itf.value_titles[k];
            if (itf.type == FieldType::kDate) text = web::DateRu(text);
            cells.push_back({{"text", text}, {"label", itf.title.empty() ? itf.name : itf.title}});
          }
          rows.push_back({{"cells", cells}});
        }
      tables.push_back({{"title", f.title}, {"name", f.name}, {"columns", columns}, {"rows", rows}, {"empty", rows.empty()}});
      continue;
    }
    std::string text = f.value_title.empty() ? f.text : f.value_title;
    if (fd && fd->type == FieldType::kBool)
      text = web::Text(c.ctx.templates, f.text == "true" ? "words.answer_yes" : "words.answer_no");
    if (fd && fd->type == FieldType::kDate) text = web::DateRu(f.text);
    fields.push_back({{"title", f.title}, {"text", text}});
  }
  j["fields"] = fields;
  j["tables"] = tables;
  // What this person may do now, each with its form.
  auto offers = app::Offers(c.ctx, id);
  if (!offers.ok()) return ErrorPage(c, offers.status());
  json events = json::array();
  for (const auto& e : *offers) {
    const bool this_one = refused && e.event == event;
    json ev = {{"event", e.event},
               {"title", e.title},
               {"action", "/instances/" + Seg(id) + "/send"},
               {"form_id", "ev-" + e.event},
               {"fields", FieldsJson(c, e.inputs, this_one ? refused : nullptr)},
               {"has_fields", !e.inputs.empty()}};
    if (e.adds) ev["open"] = true;
    if (this_one) {
      ev["open"] = true;
      if (refused->field().empty()) ev["error"] = web::ErrorText(c.ctx.templates, *refused);
    }
    events.push_back(ev);
  }
  j["events"] = events;
  // What may be started under it (an individual plan under a pair).
  json children = json::array();
  for (const auto& w : app::ChildWorkflows(*def)) {
    const Definition* cd = nullptr;
    if (!c.ctx.store.Workflow(w, 0, &cd).ok()) continue;
    children.push_back({{"href", "/workflows/" + Seg(w) + "?parent=" + Seg(rec.id)}, {"title", cd->title.empty() ? w : cd->title}});
  }
  j["children"] = children;
  if (refused && event.empty()) j["error"] = web::ErrorText(c.ctx.templates, *refused);
  // Documents and history.
  auto docs = app::ListDocuments(c.ctx, id);
  json djs = json::array();
  if (docs.ok())
    for (const auto& d : *docs)
      if (d.status != "superseded") djs.push_back(DocumentJson(c, d));
  j["documents"] = djs;
  auto history = app::InstanceHistory(c.ctx, id);
  json hjs = json::array();
  if (history.ok())
    for (const auto& h : history->entries) {
      std::string what = h.entry.event;
      for (const auto& t : def->transitions)
        if (t.event == h.entry.event && !t.title.empty()) {
          what = t.title;
          break;
        }
      if (h.entry.event == "start") what = web::Text(c.ctx.templates, "words.started");
      hjs.push_back({{"at", web::LocalTimeRu(h.entry.at, c.ctx.zone)},
                     {"who", h.entry.actor == "system" ? web::Text(c.ctx.templates, "words.system")
                                                       : h.actor_name.empty() ? h.entry.actor : h.actor_name},
                     {"what", what},
                     {"to", h.to_title},
                     {"moved", h.entry.from != h.entry.to && !h.entry.from.empty()}});
    }
  j["history"] = hjs;
  const int status = refused ? HttpStatus(*refused) : 200;
  return Html(c, "instance", j, status);
}

Reply SendPost(Call& c) {
  const std::string id = c.Path(1), event = c.Query("event");
  app::SendRequest r{id, event, PostedInput(c)};
  auto v = app::SendEvent(c.ctx, r);
  if (!v.ok()) {
    if (v.status().code() == Code::kNotFound && v.status().rule().empty()) return ErrorPage(c, v.status());
    return InstancePage(c, id, &v.status(), event);
  }
  return Redirect("/instances/" + Seg(id) + "?done=sent");
}

Reply DiagramSvg(Call& c) {
  const Definition* def = nullptr;
  int version = 0;
  try {
    version = std::stoi(c.Path(2));
  } catch (...) {
    return ErrorPage(c, Status::NotFound("no such diagram"));
  }
  if (Status s = c.ctx.store.Workflow(c.Path(1), version, &def); !s.ok()) return ErrorPage(c, s);
  if (def->StateIndex(c.Path(3)) < 0) return ErrorPage(c, Status::NotFound("no such state"));
  Reply r;
  if (Status s = web::Diagram(*def, c.Path(3), &r.raw); !s.ok()) return ErrorPage(c, s);
  r.content_type = "image/svg+xml";
  return r;
}

// ---- documents ------------------------------------------------------------------

Reply DocumentPage(Call& c, const std::string& doc, const Status* refused = nullptr) {
  auto page = app::ReadDocument(c.ctx, doc);
  if (!page.ok()) return ErrorPage(c, page.status());
  json j = Base(c, page->document.title);
  j["document"] = DocumentJson(c, page->document);
  j["document"]["sha256"] = page->document.sha256;
  // The document's text as issued: XHTML its template rendered, every value
  // escaped then (app/documents.h); shown as the printed copy shows it.
  j["text"] = page->printable.body;
  j["signatures"] = page->printable.signatures;
  const std::string id = page->document.Id();
  j["downloads"] = json::array();
  for (const char* f : {"html", "odt", "pdf"})
    j["downloads"].push_back({{"format", f}, {"href", "/api/v1/documents/" + Seg(id) + "/render." + f}});
  if (!page->document.instance.empty()) j["instance_href"] = "/instances/" + Seg(page->document.instance);
  const bool may_sign = c.ctx.store.MaySignNow(id, c.ctx.actor, c.ctx.now).ok();
  if (may_sign && page->document.subject.empty()) j["sign_action"] = "/documents/" + Seg(id) + "/sign";
  if (!page->document.number.empty()) {
    json items = json::array();
    for (const auto& item : page->document.items) {
      auto v = app::ShowInstance(c.ctx, item);
      if (!v.ok()) continue;
      items.push_back({{"href", "/instances/" + Seg(item)}, {"id", item}, {"state_title", v->state_title},
                       {"workflow_title", v->workflow_title}});
    }
    j["items"] = items;
  }
  if (refused) j["sign_error"] = web::ErrorText(c.ctx.templates, *refused);
  return Html(c, "document", j, refused ? HttpStatus(*refused) : 200);
}

Reply SignPost(Call& c) {
  const std::string doc = c.Path(1);
  if (Status s = app::ConfirmPassword(c.ctx, c.Query("password")); !s.ok()) return DocumentPage(c, doc, &s);
  auto signed_ = app::SignDocument(c.ctx, doc);
  if (!signed_.ok()) return DocumentPage(c, doc, &signed_.status());
  return Redirect("/documents/" + Seg(doc) + "?done=signed");
}

// ---- people --------------------------------------------------------------------

Reply PeoplePage(Call& c, const Status* refused = nullptr) {
  Store::PeopleFilter filter;
  filter.query = c.Query("q");
  filter.role = c.Query("role");
  filter.limit = 500;
  auto listed = app::ListPeople(c.ctx, filter);
  // Not an office holder: this page is, to them, a page that does not exist.
  if (!listed.ok() && listed.status().code() == Code::kRefused) return ErrorPage(c, Status::NotFound("no such page"));
  if (!listed.ok()) return ErrorPage(c, listed.status());
  const std::vector<Store::PersonSummary>& people = *listed;
  std::map<std::string, std::string> names;
  for (const auto& p : people) names[p.id] = p.name;
  json list = json::array();
  for (const auto& p : people) {
    json roles = json::array();
    for (const auto& r : p.roles) {
      std::string t = web::Text(c.ctx.templates, "roles." + r);
      roles.push_back(t.empty() ? r : t);
    }
    list.push_back({{"href", "/people/" + Seg(p.id)},
                    {"id", p.id},
                    {"name", p.name},
                    {"roles", roles},
                    {"birth", web::DateRu(p.birth)},
                    {"consent", p.consent},
                    {"account", p.account},
                    {"guardian", p.guardian.empty() ? "" : names.count(p.guardian) ? names[p.guardian] : p.guardian}});
  }
  json j = Base(c, web::Text(c.ctx.templates, "titles.people"));
  j["people"] = list;
  j["count"] = std::to_string(list.size());
  j["q"] = filter.query;
  json roles = json::array();
  for (const char* r : {"mentor", "mentee", "guardian", "curator", "director"})
    roles.push_back({{"value", r}, {"title", web::Text(c.ctx.templates, std::string("roles.") + r)},
                     {"selected", filter.role == r}});
  j["roles"] = roles;
  if (refused) {
    j["error"] = web::ErrorText(c.ctx.templates, *refused);
    j["form"] = {{"id", c.Query("id")}, {"name", c.Query("name")}, {"birth", c.Query("birth")},
                 {"email", c.Query("email")}, {"guardian", c.Query("guardian")}};
  }
  return Html(c, "people", j, refused ? HttpStatus(*refused) : 200);
}

Reply AddPersonPost(Call& c) {
  PersonRecord p;
  p.id = c.Query("id");
  p.name = c.Query("name");
  p.birth = c.Query("birth");
  p.guardian = c.Query("guardian");
  p.email = c.Query("email");
  for (const auto& [k, v] : c.req.params)
    if (k == "roles" && !v.empty()) p.roles.push_back(v);
  Status st = app::AddPerson(c.ctx, p);
  if (!st.ok()) return PeoplePage(c, &st);
  if (c.Query("invite") == "1" && !p.email.empty()) {
    Status inv = app::InvitePerson(c.ctx, p.id, {c.options.base_url});
    if (!inv.ok()) return Redirect("/people/" + Seg(p.id) + "?done=added");
    return Redirect("/people/" + Seg(p.id) + "?done=added_invited");
  }
  return Redirect("/people/" + Seg(p.id) + "?done=added");
}

Reply PersonPage(Call& c, const std::string& id, const Status* refused = nullptr) {
  auto p = app::ReadPerson(c.ctx, id);
  if (!p.ok()) return ErrorPage(c, p.status());
  Store::PeopleFilter filter;
  filter.of = id;
  std::vector<Store::PersonSummary> me;
  c.ctx.store.People(filter, &me);
  bool consent = false, account = false;
  json wards = json::array();
  for (const auto& s : me) {
    if (s.id == id) {
      consent = s.consent;
      account = s.account;
    } else {
      wards.push_back({{"href", "/people/" + Seg(s.id)}, {"name", s.name}});
    }
  }
  std::map<std::string, std::string> names;
  if (!p->guardian.empty()) c.ctx.store.Names({p->guardian}, &names);
  json roles = json::array();
  for (const auto& r : p->roles) {
    std::string t = web::Text(c.ctx.templates, "roles." + r);
    roles.push_back(t.empty() ? r : t);
  }
  json j = Base(c, p->name);
  const bool office = j.value("office", false);
  j["person"] = {{"id", p->id},
                 {"name", p->name},
                 {"birth", web::DateRu(p->birth)},
                 {"email", p->email},
                 {"roles", roles},
                 {"guardian", p->guardian.empty() ? "" : names.count(p->guardian) ? names[p->guardian] : p->guardian},
                 {"guardian_href", p->guardian.empty() ? "" : "/people/" + Seg(p->guardian)},
                 {"consent", consent},
                 {"account", account},
                 {"self", p->id == c.ctx.actor},
                 {"href", "/people/" + Seg(p->id)},
                 {"export", "/people/" + Seg(p->id) + "/export.json"},
                 {"consent_doc", "/documents/consent:" + Seg(p->id)}};
  j["wards"] = wards;
  j["may_invite"] = office && !p->email.empty() && !account;
  // What a consent states of them (152-FZ art. 9 part 4): whoever reads
  // this page may record it (the store refuses anyone else).
  j["particulars"] = {{"address", p->address},
                      {"document_kind", p->document.kind},
                      {"document_number", p->document.number},
                      {"document_issued", p->document.issued},
                      {"document_issuer", p->document.issuer},
                      {"authority", p->authority},
                      {"minor", !p->guardian.empty()},
                      {"href", "/people/" + Seg(p->id)}};
  auto missing_of = [&](const std::vector<MissingParticular>& missing) {
    std::set<std::string> ids;
    for (const auto& m : missing)
      if (!m.person.empty()) ids.insert(m.person);
    std::map<std::string, std::string> who;
    c.ctx.store.Names({ids.begin(), ids.end()}, &who);
    json items = json::array();
    for (const auto& m : missing) {
      // Every key set: a missing one would be looked up in the enclosing context.
      json item = {{"what", web::Text(c.ctx.templates, "particulars." + m.what, m.what)}, {"who", ""}, {"href", ""}};
      if (!m.person.empty()) {
        // The authority's document is kept on the ward's record.
        const std::string on = m.what == "authority" ? id : m.person;
        item["who"] = who.count(m.person) ? who[m.person] : m.person;
        item["href"] = "/people/" + Seg(on) + "#h-particulars";
      }
      item["first"] = items.empty();
      items.push_back(std::move(item));
    }
    return items;
  };
  auto choices = app::ConsentChoicesFor(c.ctx, id);
  if (choices.ok()) {
    j["consent_missing"] = missing_of(choices->missing);
    j["consent_lacks"] = !choices->missing.empty();
    j["consent_give"] = !choices->give.empty() && choices->give != "curator";
    if (j["consent_give"].get<bool>())
      if (auto text = app::ConsentPreview(c.ctx, id); text.ok()) j["consent_text"] = *text;
    j["consent_as_guardian"] = choices->give == "guardian";
    j["consent_paper"] = choices->give == "curator";
    j["consent_revoke"] = choices->revoke;
    j["consent_awaiting"] = choices->awaiting;
  }
  // The consents of the other purposes the workflows declare, each its own.
  json purposes = json::array();
  if (auto all = app::ConsentsOf(c.ctx, id); all.ok())
    for (const auto& pc : *all) {
      if (pc.purpose == kDefaultPurpose) {  // the latest consent to mentoring, not of any purpose
        if (pc.issue > 0) j["consent_doc"] = "/documents/consent:" + Seg(id) + ":" + std::to_string(pc.issue);
        continue;
      }
      json o = {{"purpose", pc.purpose},
                {"title", web::Text(c.ctx.templates, "purposes." + pc.purpose, "")},
                {"in_force", pc.in_force},
                {"awaiting", pc.status == "partly_signed"},
                {"doc", pc.issue > 0 ? "/documents/consent:" + Seg(id) + ":" + std::to_string(pc.issue) : ""},
                {"href", "/people/" + Seg(id)}};
      if (o["title"].get<std::string>().empty()) o["title"] = pc.purpose;
      if (auto ch = app::ConsentChoicesFor(c.ctx, id, pc.purpose); ch.ok()) {
        o["give"] = !ch->give.empty() && ch->give != "curator";
        o["paper"] = ch->give == "curator";
        o["revoke"] = ch->revoke;
        o["missing"] = missing_of(ch->missing);
        o["lacks"] = !ch->missing.empty();
        if (o["give"].get<bool>())
          if (auto text = app::ConsentPreview(c.ctx, id, pc.purpose); text.ok()) o["text"] = *text;
      }
      purposes.push_back(std::move(o));
    }
  j["has_purposes"] = !purposes.empty();
  j["purposes"] = purposes;
  j["today"] = FormatDate(c.ctx.now.today);
  if (refused) j["error"] = web::ErrorText(c.ctx.templates, *refused);
  return Html(c, "person", j, refused ? HttpStatus(*refused) : 200);
}

Reply ConsentPost(Call& c) {
  const std::string id = c.Path(1);
  app::ConsentRequest r{id, c.Query("given") == "1", c.Query("paper_date")};
  if (!c.Query("purpose").empty()) r.purpose = c.Query("purpose");
  // A signature given here is confirmed by the password; a paper form the
  // curator records is not their signature.
  if (r.given && r.paper_date.empty())
    if (Status s = app::ConfirmPassword(c.ctx, c.Query("password")); !s.ok()) return PersonPage(c, id, &s);
  Status st = app::SetConsent(c.ctx, r);
  if (!st.ok()) return st.code() == Code::kNotFound ? ErrorPage(c, st) : PersonPage(c, id, &st);
  return Redirect("/people/" + Seg(id) + (r.given                           ? "?done=consent_given"
                                          : r.purpose == kDefaultPurpose ? "?done=consent_revoked"
                                                                         : "?done=consent_revoked_purpose"));
}

Reply ParticularsPost(Call& c) {
  const std::string id = c.Path(1);
  PersonUpdate u;
  u.id = id;
  u.address = c.Query("address");
  u.document_kind = c.Query("document_kind");
  u.document_number = c.Query("document_number");
  u.document_issued = c.Query("document_issued");
  u.document_issuer = c.Query("document_issuer");
  if (c.req.has_param("authority")) u.authority = c.Query("authority");
  Status st = app::UpdatePerson(c.ctx, u);
  if (!st.ok()) return st.code() == Code::kNotFound ? ErrorPage(c, st) : PersonPage(c, id, &st);
  return Redirect("/people/" + Seg(id) + "?done=particulars_saved");
}

Reply InvitePost(Call& c) {
  const std::string id = c.Path(1);
  Status st = app::InvitePerson(c.ctx, id, {c.options.base_url});
  if (!st.ok()) return st.code() == Code::kNotFound ? ErrorPage(c, st) : PersonPage(c, id, &st);
  return Redirect("/people/" + Seg(id) + "?done=invited");
}

Reply RequestPost(Call& c) {
  const std::string id = c.Path(1);
  const std::string kind = c.Query("kind").empty() ? "information" : c.Query("kind");
  auto v = app::RequestInformation(c.ctx, id, kind, c.Query("text"));
  if (!v.ok()) return v.status().code() == Code::kNotFound ? ErrorPage(c, v.status()) : PersonPage(c, id, &v.status());
  return Redirect("/instances/" + Seg(v->record.id) + "?done=requested");
}

Reply ExportDownload(Call& c) {
  auto text = app::ExportPerson(c.ctx, c.Path(1));
  if (!text.ok()) return ErrorPage(c, text.status());
  Reply r;
  r.raw = *text;
  r.content_type = "application/json; charset=utf-8";
  r.filename = "personal-data.json";
  return r;
}

// ---- everything one may read, by workflow ------------------------------------------

Reply InstancesPage(Call& c) {
  auto listed = app::ListInstances(c.ctx, {});
  if (!listed.ok()) return ErrorPage(c, listed.status());
  std::vector<std::string> order;  // workflows in the order first met
  std::map<std::string, json> groups;
  for (const auto& v : *listed) {
    const std::string& w = v.record.workflow;
    if (!groups.count(w)) {
      order.push_back(w);
      groups[w] = {{"title", v.workflow_title}, {"href", "/workflows/" + Seg(w)}, {"rows", json::array()}};
    }
    std::string people;
    for (const auto& f : v.fields)
      if (f.person && !f.value_title.empty()) people += (people.empty() ? "" : ", ") + f.value_title;
    groups[w]["rows"].push_back({{"href", "/instances/" + Seg(v.record.id)}, {"id", v.record.id},
                                 {"state_title", v.state_title}, {"people", people}});
  }
  json list = json::array();
  for (const auto& w : order) list.push_back(groups[w]);
  json j = Base(c, web::Text(c.ctx.templates, "titles.instances"));
  j["groups"] = list;
  return Html(c, "instances", j);
}

// ---- a workflow's instances, by state; starting one; issuing an order -----------

Reply WorkflowPage(Call& c, const std::string& workflow, const Status* refused = nullptr) {
  auto form = app::StartFormOf(c.ctx, workflow, refused ? "" : c.Query("parent"));
  if (!form.ok()) return ErrorPage(c, form.status());
  const Definition* def = nullptr;
  if (Status s = c.ctx.store.Workflow(workflow, 0, &def); !s.ok()) return ErrorPage(c, s);
  auto listed = app::ListInstances(c.ctx, {workflow, ""});
  if (!listed.ok()) return ErrorPage(c, listed.status());
  // The nearest deadline of each instance: overdue ones first.
  std::map<std::string, std::string> due;
  auto agenda = app::Agenda(c.ctx, {"", "2000-01-01", FormatDate(AddDuration(c.ctx.now.today, Duration{1, 0, 0}))});
  if (agenda.ok())
    for (const auto& d : agenda->deadlines)
      if (!due.count(d.instance) || d.due < due[d.instance]) due[d.instance] = d.due;
  const std::string today = FormatDate(c.ctx.now.today);
  json states = json::array();
  for (const auto& s : def->states) {
    std::vector<const app::InstanceView*> here;
    for (const auto& v : *listed)
      if (v.record.state == s.name) here.push_back(&v);
    if (here.empty()) continue;
    std::stable_sort(here.begin(), here.end(), [&](const app::InstanceView* a, const app::InstanceView* b) {
      const std::string da = due.count(a->record.id) ? due[a->record.id] : "9999", db = due.count(b->record.id) ? due[b->record.id] : "9999";
      return da < db;
    });
    json rows = json::array();
    for (const auto* v : here) {
      std::string people;
      for (const auto& f : v->fields)
        if (f.person && !f.value_title.empty()) people += (people.empty() ? "" : ", ") + f.value_title;
      const std::string d = due.count(v->record.id) ? due[v->record.id] : "";
      rows.push_back({{"href", "/instances/" + Seg(v->record.id)},
                      {"id", v->record.id},
                      {"people", people},
                      {"due", web::DateRu(d)},
                      {"overdue", !d.empty() && d < today}});
    }
    states.push_back({{"title", s.title.empty() ? s.name : s.title}, {"count", std::to_string(here.size())},
                      {"rows", rows}, {"final", s.final}});
  }
  json j = Base(c, form->title);
  j["workflow"] = {{"name", workflow}, {"title", form->title}, {"total", std::to_string(listed->size())}};
  j["states"] = states;
  j["start"] = {{"action", "/workflows/" + Seg(workflow) + "/start"},
                {"fields", FieldsJson(c, form->inputs, refused)},
                {"parents", json::array()}};
  for (const auto& [id, title] : form->parents)
    j["start"]["parents"].push_back(
        {{"value", id}, {"title", title}, {"selected", c.Query("parent") == id || form->parents.size() == 1}});
  j["start"]["has_parents"] = !form->parents.empty();
  // Collective documents (orders) this workflow issues, for whoever may issue them.
  json orders = json::array();
  for (const auto& d : def->documents)
    if (!d.collects_name.empty() && !d.issued_by.empty())
      orders.push_back({{"name", d.name}, {"title", d.title.empty() ? d.name : d.title}});
  if (j.value("office", false)) j["orders"] = orders;
  if (refused) j["error"] = web::ErrorText(c.ctx.templates, *refused);
  return Html(c, "workflow", j, refused ? HttpStatus(*refused) : 200);
}

Reply StartPost(Call& c) {
  const std::string workflow = c.Path(1);
  app::StartRequest r{workflow, PostedInput(c), c.Query("parent")};
  auto v = app::StartInstance(c.ctx, r);
  if (!v.ok()) return WorkflowPage(c, workflow, &v.status());
  return Redirect("/instances/" + Seg(v->record.id) + "?done=started");
}

Reply IssuePost(Call& c) {
  auto d = app::IssueOrder(c.ctx, c.Query("name"));
  if (!d.ok()) {
    const std::string back = c.Query("workflow");
    if (!back.empty() && back.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") == std::string::npos)
      return WorkflowPage(c, back, &d.status());
    return ErrorPage(c, d.status());
  }
  return Redirect("/documents/" + Seg(d->Id()) + "?done=issued");
}

Reply Static(Call& c) {
  Reply r;
  if (Status s = web::StaticFile(c.ctx.templates, c.Path(1), &r.raw, &r.content_type); !s.ok()) return ErrorPage(c, s);
  r.cache = true;
  return r;
}

std::vector<Route> MakePages() {
  using A = Access;
  // {doc}, {id}, {name} as for the API (PathPattern).
  return {
      {"GET", "/", A::kSession, "«Мои задачи»", {}, {}, TasksPage},
      {"GET", "/region", A::kSession, "the region's annual reports (a regional centre)", {}, {}, RegionPage},
      {"GET", "/login", A::kPublic, "log in", {}, {}, LoginPage},
      {"POST", "/login", A::kPublic, "log in", {}, {}, LoginPost},
      {"POST", "/logout", A::kSession, "log out", {}, {}, LogoutPost},
      {"GET", "/account/password", A::kPublic, "set a password from a link", {}, {}, SetPasswordPage},
      {"POST", "/account/password", A::kPublic, "set a password from a link", {}, {}, SetPasswordPost},
      {"GET", "/account/forgot", A::kPublic, "forgot the password", {}, {}, ForgotPage},
      {"POST", "/account/forgot", A::kPublic, "forgot the password", {}, {}, ForgotPost},
      {"GET", "/account", A::kSession, "one's account", {}, {}, AccountPage},
      {"POST", "/account/change-password", A::kSession, "change the password", {}, {}, ChangePasswordPost},
      {"GET", "/instances", A::kSession, "everything one may read", {}, {}, InstancesPage},
      {"GET", "/instances/{id}", A::kSession, "an instance", {}, {}, [](Call& c) { return InstancePage(c, c.Path(1)); }},
      {"POST", "/instances/{id}/send", A::kSession, "send an event", {}, {}, SendPost},
      {"GET", "/diagrams/{name}/{version}/{state}.svg", A::kSession, "a workflow's diagram", {}, {}, DiagramSvg},
      {"GET", "/documents/{doc}", A::kSession, "a document", {}, {}, [](Call& c) { return DocumentPage(c, c.Path(1)); }},
      {"POST", "/documents/{doc}/sign", A::kSession, "sign a document", {}, {}, SignPost},
      {"POST", "/orders", A::kSession, "issue an order", {}, {}, IssuePost},
      {"GET", "/people", A::kSession, "people", {}, {}, [](Call& c) { return PeoplePage(c); }},
      {"POST", "/people", A::kSession, "register a person", {}, {}, AddPersonPost},
      {"POST", "/people/search", A::kSession, "find people (a name stays out of the URL)", {}, {},
       [](Call& c) { return PeoplePage(c); }},
      {"GET", "/people/{id}", A::kSession, "a person", {}, {}, [](Call& c) { return PersonPage(c, c.Path(1)); }},
      {"GET", "/people/{id}/export.json", A::kSession, "a person's data", {}, {}, ExportDownload},
      {"POST", "/people/{id}/consent", A::kSession, "give or revoke consent", {}, {}, ConsentPost},
      {"POST", "/people/{id}/particulars", A::kSession, "record what a consent states", {}, {}, ParticularsPost},
      {"POST", "/people/{id}/invite", A::kSession, "invite", {}, {}, InvitePost},
      {"POST", "/people/{id}/requests", A::kSession, "request information", {}, {}, RequestPost},
      {"GET", "/workflows/{name}", A::kSession, "a workflow's instances", {}, {},
       [](Call& c) { return WorkflowPage(c, c.Path(1)); }},
      {"POST", "/workflows/{name}/start", A::kSession, "start an instance", {}, {}, StartPost},
      {"GET", "/static/{file}", A::kPublic, "the stylesheets and the script", {}, {}, Static},
  };
}

}  // namespace

const std::vector<Route>& PageRoutes() {
  static const std::vector<Route> pages = MakePages();
  return pages;
}

Reply PageError(Call& c, const Status& st) {
  if (st.rule() == "session") return Redirect("/login");
  if (st.rule() == "institution") return Redirect("/login?done=choose_institution");
  return ErrorPage(c, st);
}

}  // namespace mentorflow::server
