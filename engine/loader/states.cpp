// States: initial and final, what entering one does (`on_enter`), and its
// deadline (after, at, period, remind, notify).
#include <regex>

#include "engine/loader/loader.h"

namespace mentorflow::loading {

void Loader::PreParseStates(const YAML::Node& n) {
  if (!IsMap(n, "states")) return;
  for (auto it = n.begin(); it != n.end(); ++it) {
    auto name = Name(it->first, "state");
    if (!name) continue;
    if (def_.StateIndex(*name) >= 0) {
      Error(M(it->first), msg::Duplicate("state", *name));
      continue;
    }
    StateDef s;
    s.name = *name;
    s.mark = M(it->first);
    def_.states.push_back(std::move(s));
  }
}

int Loader::ResolveState(const std::string& s, Mark m) {
  int i = def_.StateIndex(s);
  if (i < 0) {
    std::vector<std::string> all;
    for (const auto& st : def_.states) all.push_back(st.name);
    Error(m, msg::Unknown("state", s, Closest(s, all)));
  }
  return i;
}

int Loader::ResolveDocument(const std::string& d, Mark m) {
  int i = def_.DocumentIndex(d);
  if (i < 0) {
    std::vector<std::string> all;
    for (const auto& doc : def_.documents) all.push_back(doc.name);
    Error(m, msg::Unknown("document", d, Closest(d, all)));
  }
  return i;
}

const FieldDef* Loader::ResolveField(const std::string& name, Mark m, const std::vector<FieldDef>& scope, int* index) {
  for (size_t i = 0; i < scope.size(); ++i)
    if (scope[i].name == name) {
      *index = static_cast<int>(i);
      return &scope[i];
    }
  std::vector<std::string> all;
  for (const auto& f : scope) all.push_back(f.name);
  Error(m, msg::Unknown("field", name, Closest(name, all)));
  return nullptr;
}

void Loader::ParseStates(const YAML::Node& n) {
  if (!n.IsMap()) return;
  for (auto it = n.begin(); it != n.end(); ++it) {
    if (!it->first.IsScalar()) continue;
    int si = def_.StateIndex(it->first.Scalar());
    if (si < 0) continue;
    StateDef& s = def_.states[si];
    const YAML::Node b = it->second;
    if (!b || b.IsNull()) continue;  // "state:" with no body
    if (!IsMap(b, "a state")) continue;
    CheckKeys(b, kStateKeys, "a state");
    if (b["initial"]) s.initial = Bool(b["initial"], "initial").value_or(false);
    if (b["final"]) s.final = Bool(b["final"], "final").value_or(false);
    if (b["title"]) s.title = Scalar(b["title"], "title").value_or("");
    if (s.initial && s.final) Error(s.mark, msg::InitialAndFinal(s.name));
    if (b["on_enter"]) ParseActions(b["on_enter"], s);
    if (b["deadline"]) ParseDeadline(b["deadline"], s);
  }
}

void Loader::ParseActions(const YAML::Node& n, StateDef& s) {
  if (!n.IsSequence()) {
    Error(M(n), msg::Expected("a list of actions", "on_enter"));
    return;
  }
  for (const auto& a : n) {
    if (!Spend(a) || !IsMap(a, "an action")) continue;
    CheckKeys(a, kActionKeys, "an action");
    Action act;
    act.mark = M(a);
    if ((a["issue"] ? 1 : 0) + (a["notify"] ? 1 : 0) + (a["start"] ? 1 : 0) > 1) {
      Error(M(a), msg::ActionKind());
    } else if (a["start"]) {
      act.kind = Action::Kind::kStart;
      if (a["template"]) Error(KeyMark(a, "template"), msg::KeyOnlyFor("template", "notify"));
      if (a["after"]) Error(KeyMark(a, "after"), msg::KeyOnlyFor("after", "notify"));
      if (auto w = Name(a["start"], "start")) {
        act.workflow = *w;
        cross_refs_.push_back({*w, "", M(a["start"]), ""});
        if (a["set"] && IsMap(a["set"], "set"))
          for (auto it = a["set"].begin(); it != a["set"].end(); ++it) {
            auto k = Scalar(it->first, "set"), v = Scalar(it->second, "set");
            if (!k || !v) continue;
            act.set.emplace_back(*k, *v);
            cross_refs_.push_back({*w, "", M(it->second), *k + "=" + *v});
          }
        s.on_enter.push_back(act);
      }
    } else if (a["issue"]) {
      if (a["set"]) Error(KeyMark(a, "set"), msg::KeyOnlyFor("set", "start"));
      act.kind = Action::Kind::kIssue;
      if (auto d = Scalar(a["issue"], "issue")) act.document = ResolveDocument(*d, M(a["issue"]));
      if (act.document >= 0 && def_.documents[act.document].Collective()) {
        Error(M(a["issue"]), msg::CollectiveIssuedOnEnter(def_.documents[act.document].name));
        act.document = -1;
      }
      if (a["template"]) Error(KeyMark(a, "template"), msg::KeyOnlyFor("template", "notify"));
      if (a["after"]) Error(KeyMark(a, "after"), msg::KeyOnlyFor("after", "notify"));
      if (act.document >= 0) s.on_enter.push_back(act);
    } else if (a["notify"]) {
      if (a["set"]) Error(KeyMark(a, "set"), msg::KeyOnlyFor("set", "start"));
      act.kind = Action::Kind::kNotify;
      for (auto& [r, m] : Names(a["notify"], "notify"))
        if (CheckRecipient(r, m)) act.notify.push_back(r);
      act.template_name = "notice";
      if (a["template"]) {
        if (auto t = Scalar(a["template"], "template")) {
          act.template_name = *t;
          CheckReminderTemplate(*t, M(a["template"]));
        }
      } else {
        CheckReminderTemplate(act.template_name, M(a));
      }
      if (a["after"]) {
        if (auto t = Scalar(a["after"], "after")) {
          if (auto dur = ParseDuration(*t)) act.after = *dur;
          else Error(M(a["after"]), msg::BadDuration(*t));
        }
      }
      s.on_enter.push_back(act);
    } else {
      Error(M(a), msg::ActionKind());
    }
  }
}

void Loader::ParseDeadline(const YAML::Node& n, StateDef& s) {
  if (!IsMap(n, "a deadline")) return;
  CheckKeys(n, kDeadlineKeys, "a deadline");
  DeadlineDef d;
  d.mark = M(n);
  bool ok = true;
  if (n["after"] && n["at"]) {
    Error(M(n), msg::DeadlineBoth());
    ok = false;
  } else if (n["after"]) {
    d.kind = DeadlineDef::Kind::kAfter;
    if (auto text = Scalar(n["after"], "after")) {
      auto dur = ParseDuration(*text);
      if (!dur) {
        Error(M(n["after"]), msg::BadDuration(*text));
        ok = false;
      } else {
        d.after = *dur;
      }
    }
  } else if (n["at"]) {
    const YAML::Node at = n["at"];
    if (at.IsMap()) {
      CheckKeys(at, {"yearly"}, "'at'");
      if (!at["yearly"]) {
        Error(M(at), msg::MissingKey("yearly", "'at'"));
        ok = false;
      } else {
        d.kind = DeadlineDef::Kind::kYearly;
        for (auto& [md, m] : Names(at["yearly"], "yearly")) {
          auto v = ParseMonthDay(md);
          if (!v) {
            Error(m, msg::BadMonthDay(md));
            ok = false;
          } else {
            d.yearly.push_back(*v);
          }
        }
        if (d.yearly.empty()) ok = false;
      }
    } else if (auto f = Scalar(at, "at")) {
      d.kind = DeadlineDef::Kind::kAtField;
      const FieldDef* fd = ResolveField(*f, M(at), def_.fields, &d.at_field);
      if (!fd) ok = false;
      else if (fd->type != FieldType::kDate && fd->type != FieldType::kDateTime) {
        Error(M(at), msg::DeadlineFieldNotDate(*f, FieldTypeName(fd->type)));
        ok = false;
      }
    }
  } else {
    Error(M(n), msg::DeadlineNeither());
    ok = false;
  }
  if (!n["event"]) {
    Error(M(n), msg::MissingKey("event", "a deadline"));
    ok = false;
  } else if (auto e = Name(n["event"], "event")) {
    d.event = *e;
    deadline_event_marks_[s.name] = M(n["event"]);
  }
  if (n["period"]) {
    if (auto f = Scalar(n["period"], "period")) {
      const FieldDef* fd = ResolveField(*f, M(n["period"]), def_.fields, &d.period_field);
      if (!fd) ok = false;
      else if (fd->type != FieldType::kDate) {
        Error(M(n["period"]), msg::PeriodFieldNotDate(*f, FieldTypeName(fd->type)));
        ok = false;
      } else if (d.kind != DeadlineDef::Kind::kYearly) {
        Error(M(n["period"]), msg::PeriodNeedsYearly());
        ok = false;
      }
    }
  }
  if (n["grace"]) {
    if (auto text = Scalar(n["grace"], "grace")) {
      static const std::regex span(R"(\s*([0-9]{1,4})\s+(minute|minutes|hour|hours)\s*)");
      std::smatch m;
      const int minutes = std::regex_match(*text, m, span)
                              ? std::stoi(m[1].str()) * (m[2].str().rfind("hour", 0) == 0 ? 60 : 1)
                              : 0;
      if (minutes <= 0 || minutes > 24 * 60) {
        Error(M(n["grace"]), msg::BadGrace(*text));
        ok = false;
      } else if (d.kind != DeadlineDef::Kind::kAtField || d.at_field < 0 ||
                 def_.fields[d.at_field].type != FieldType::kDateTime) {
        Error(M(n["grace"]), msg::GraceNeedsDateTime());
        ok = false;
      } else {
        d.grace_minutes = minutes;
      }
    }
  }
  if (n["remind"]) {
    for (auto& [r, m] : Names(n["remind"], "remind")) {
      auto dur = ParseDuration(r);
      if (!dur) Error(m, msg::BadDuration(r));
      else d.remind.push_back(*dur);
    }
  }
  if (n["notify"]) {
    for (auto& [r, m] : Names(n["notify"], "notify"))
      if (CheckRecipient(r, m)) d.notify.push_back(r);
  }
  if (n["template"]) {
    if (auto t = Scalar(n["template"], "template")) {
      d.template_name = *t;
      CheckReminderTemplate(*t, M(n["template"]));
    }
  } else if (!d.remind.empty() || !d.notify.empty()) {
    CheckReminderTemplate(d.template_name, M(n));
  }
  if (ok) s.deadline = d;
}

}  // namespace mentorflow::loading
