#include "engine/dispatch.h"

#include <algorithm>

#include "engine/conditions.h"
#include "engine/messages.h"
#include "engine/suggest.h"
#include "engine/text.h"

namespace mentorflow {

bool Actor::Holds(std::string_view role) const {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

std::string_view ReminderKindName(ReminderKind k) {
  switch (k) {
    case ReminderKind::kUpcoming: return "upcoming";
    case ReminderKind::kDue: return "due";
    case ReminderKind::kOverdue: return "overdue";
    case ReminderKind::kNotice: return "notice";
  }
  return "notice";
}

namespace {

// Whether the actor, acting as `role`, is the person the instance names for
// that role. Roles no person field is bound to (curator, director) act on all.
bool BoundOk(const Definition& def, const std::vector<Value>& fields, const Actor& actor, std::string_view role) {
  bool bound = false;
  for (size_t i = 0; i < def.fields.size(); ++i) {
    const FieldDef& f = def.fields[i];
    if (f.type != FieldType::kPerson || f.role != role) continue;
    bound = true;
    if (auto* s = std::get_if<std::string>(&fields[i]); s && *s == actor.id) return true;
  }
  return !bound;
}

bool MinorOn(const World& world, std::string_view person, Date today) {
  auto birth = world.BirthOf(person);
  return birth && AddDuration(*birth, Duration{18, 0, 0}) > today;
}

}  // namespace

Capacity CapacityOn(const std::optional<Date>& birth, Date today) {
  if (!birth || AddDuration(*birth, Duration{18, 0, 0}) <= today) return Capacity::kFull;
  return AddDuration(*birth, Duration{14, 0, 0}) <= today ? Capacity::kWithConsent : Capacity::kRepresented;
}

namespace {

// How the actor may take `role` on an instance: as the person a field bound
// to it names (from 14: CapacityOn), as the registered guardian of that
// person while a minor, or not at all. `minor` gets the id of a child under
// 14 who tried to act themself.
enum class Acting { kNo, kSelf, kGuardian };
Acting ActsAs(const Definition& def, const std::vector<Value>& fields, const Actor& actor, const std::string& role,
              const World& world, Date today, bool as_guardian, std::string* minor, std::string* for_whom) {
  bool bound = false;
  for (size_t i = 0; i < def.fields.size(); ++i) {
    const FieldDef& f = def.fields[i];
    if (f.type != FieldType::kPerson || f.role != role) continue;
    bound = true;
    const auto* p = std::get_if<std::string>(&fields[i]);
    if (!p || p->empty()) continue;
    if (*p == actor.id && !as_guardian) {
      if (!actor.Holds(role)) continue;
      if (CapacityOn(world.BirthOf(*p), today) == Capacity::kRepresented) {
        *minor = *p;
        continue;
      }
      return Acting::kSelf;
    }
    if (as_guardian && *p != actor.id && !actor.id.empty() && world.GuardianOf(*p) == actor.id &&
        MinorOn(world, *p, today)) {
      *for_whom = *p;
      return Acting::kGuardian;
    }
  }
  if (bound || as_guardian) return Acting::kNo;
  return actor.Holds(role) ? Acting::kSelf : Acting::kNo;
}

// The role the actor takes for `t`, or nullptr. `held` tells whether the
// actor holds one of the roles at all (to tell "wrong role" from "not yours");
// `minor` names a minor who tried to act in their own place; `for_whom` the
// minor a guardian acts for.
const std::string* ChooseRole(const Definition& def, const TransitionDef& t, const std::vector<Value>& fields,
                              const Actor& actor, const World& world, Date today, bool* held, std::string* minor,
                              std::string* for_whom) {
  *held = false;
  for (const auto& r : t.by) {  // in their own right first (no lookup for people of age)...
    if (!actor.Holds(r)) continue;
    *held = true;
    if (ActsAs(def, fields, actor, r, world, today, false, minor, for_whom) != Acting::kNo) return &r;
  }
  for (const auto& r : t.by)  // ...then as a minor's legal representative
    if (ActsAs(def, fields, actor, r, world, today, true, minor, for_whom) != Acting::kNo) return &r;
  return nullptr;
}

}  // namespace

int FindTransition(const Definition& def, const Snapshot& snap, int event_id, const Actor& actor,
                   const World& world, const Now& now) {
  const Date today = now.today;
  if (event_id < 0 || snap.state < 0) return -1;
  auto [b, e] = def.Candidates(snap.state, event_id);
  std::string minor, for_whom;
  for (const int* i = b; i != e; ++i) {
    const TransitionDef& t = def.transitions[*i];
    bool held = false;
    if (!ChooseRole(def, t, snap.fields, actor, world, today, &held, &minor, &for_whom)) continue;
    if (t.not_by >= 0) {
      const auto* who = std::get_if<std::string>(&snap.fields[t.not_by]);
      if (who && !who->empty() && (*who == actor.id || world.GuardianOf(*who) == actor.id)) continue;
    }
    if (t.when && !Evaluate(def, *t.when, snap, snap.fields, world, now)) continue;
    return *i;
  }
  return -1;
}

namespace {

Refusal Refuse(Code code, std::string rule, std::string message) { return {code, std::move(rule), std::move(message)}; }
// A refusal of one input, naming its field (a form marks it).
Refusal RefuseInput(std::string field, std::string message) {
  Refusal r{Code::kBadInput, "input", std::move(message)};
  r.field = std::move(field);
  return r;
}

std::string NextItemId(const List& list) {
  long max = 0;
  for (const auto& it : list) {
    char* end = nullptr;
    long n = std::strtol(it.id.c_str(), &end, 10);
    if (end && *end == '\0' && n > max) max = n;
  }
  return std::to_string(max + 1);
}

// A key given twice (--set k=a --set k=b) is refused, not silently resolved.
std::optional<Refusal> DuplicateKey(const Input& input) {
  for (size_t i = 0; i < input.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (input[i].first == input[j].first)
        return Refuse(Code::kBadInput, "input", "--set " + input[i].first + " is given twice");
  return std::nullopt;
}

// Parses one input value, checking person references against the world.
std::optional<Value> ParseInput(const FieldDef& f, const std::string& key, const std::string& text,
                                const World& world, Refusal* r) {
  // Hostile text stops here, before it is parsed, echoed or stored.
  Status ok = f.type == FieldType::kPerson ? CheckId("--set " + key, text)
                                           : CheckText("--set " + key, text, kMaxValueBytes, f.type == FieldType::kString);
  if (!ok.ok()) {
    *r = RefuseInput(key, ok.message());
    return std::nullopt;
  }
  std::string err;
  auto v = ParseValue(f, text, &err);
  if (!v) {
    *r = RefuseInput(key, msg::BadInputValue(key, err));
    return std::nullopt;
  }
  if (f.type == FieldType::kPerson && !world.PersonHasRole(text, f.role)) {
    *r = RefuseInput(key, msg::PersonLacksRole(key, text, f.role));
    return std::nullopt;
  }
  return v;
}

// Runs the entry of `state`: its documents, notifications, deadline and
// reminders. `overdue`: the state is entered because a deadline passed.
void Enter(const Definition& def, int state, const Now& now, Decision& d, bool overdue = false) {
  const StateDef& s = def.states[state];
  d.reentered = true;
  int n = 0;
  for (const auto& a : s.on_enter) {
    if (a.kind == Action::Kind::kIssue) {
      d.documents.push_back(a.document);
    } else if (a.kind == Action::Kind::kStart) {
      d.starts.emplace_back(a.workflow, a.set);
    } else {
      ReminderSpec r;
      r.key = "notify:" + s.name + ":" + std::to_string(n++);
      r.on = AddDuration(now.today, a.after);
      r.notify = a.notify;
      r.template_name = a.template_name;
      r.state = state;
      r.kind = overdue ? ReminderKind::kOverdue : ReminderKind::kNotice;
      d.reminders.push_back(std::move(r));
    }
  }
  ArmDeadline(def, state, now, d);
}

// A list's records remind of their dates: a decision that starts the
// instance, changes the list or finishes the instance replaces the reminders
// not yet due with those the records now call for (none once finished);
// other decisions leave them as they are.
void PlanItemReminders(const Definition& def, const Now& now, const World& world, Decision& d) {
  if (def.item_reminders.empty()) return;
  const bool finished = def.states[d.to].final;
  Snapshot none;
  for (const auto& r : def.item_reminders) {
    // `in: [STATES]`: whether the instance is in one of them.
    auto within = [&](int state) {
      return r.in_states.empty() || std::find(r.in_states.begin(), r.in_states.end(), state) != r.in_states.end();
    };
    const bool touched = d.from < 0 || finished || within(d.from) != within(d.to) ||
                         std::any_of(d.changes.begin(), d.changes.end(),
                                     [&](const FieldChange& c) { return c.field == r.list_field; });
    if (!touched) continue;
    const std::string key = "item:" + def.fields[r.list_field].name;
    d.cancel_notices.push_back(key);
    if (finished || !within(d.to)) continue;
    const auto* list = std::get_if<List>(&d.fields[r.list_field]);
    if (!list) continue;
    for (const auto& item : *list) {
      const auto* due = std::get_if<Date>(&item.values[r.at]);
      if (!due) continue;
      if (r.while_ && !Evaluate(def, *r.while_, none, item.values, world, now)) continue;
      for (size_t k = 0; k < r.before.size(); ++k) {
        const Date on = SubtractDuration(*due, r.before[k]);
        if (on < now.today) continue;
        ReminderSpec spec;
        spec.key = key + ":" + item.id + ":" + std::to_string(k);
        spec.on = on;
        spec.notify = r.notify;
        spec.template_name = r.template_name;
        spec.state = d.to;
        spec.kind = on < *due ? ReminderKind::kUpcoming : ReminderKind::kDue;
        spec.due = *due;
        spec.list_field = r.list_field;
        spec.item_id = item.id;
        d.reminders.push_back(std::move(spec));
      }
    }
  }
}

}  // namespace

void ArmDeadline(const Definition& def, int state, const Now& now, Decision& d) {
  const StateDef& s = def.states[state];
  if (!s.deadline) return;
  const DeadlineDef& dl = *s.deadline;
  Date due;
  std::string at;
  switch (dl.kind) {
    case DeadlineDef::Kind::kAfter: due = AddDuration(now.today, dl.after); break;
    case DeadlineDef::Kind::kYearly: {
      if (dl.period_field < 0) {
        due = NextYearly(now.today, dl.yearly);
        break;
      }
      Value& period = d.fields[dl.period_field];
      const auto* last = std::get_if<Date>(&period);
      due = last ? NextYearly(*last + date::days{1}, dl.yearly) : NextYearly(now.today, dl.yearly);
      auto change = std::find_if(d.changes.begin(), d.changes.end(),
                                 [&](const FieldChange& c) { return c.field == dl.period_field; });
      if (change != d.changes.end()) change->after = due;
      else d.changes.push_back({dl.period_field, period, Value{due}});
      period = due;
      d.history.changes = d.changes;
      break;
    }
    case DeadlineDef::Kind::kAtField: {
      const Value& v = d.fields[dl.at_field];
      if (const auto* day = std::get_if<Date>(&v)) {
        due = *day;
      } else if (const auto* minute = std::get_if<std::string>(&v)) {  // a datetime
        due = *ParseDate(minute->substr(0, 10));
        at = *minute;
      } else {
        return;  // no date, no deadline
      }
      break;
    }
  }
  std::string key = "deadline:" + s.name;
  if (dl.grace_minutes && !at.empty()) {  // fires after the grace; reminded of the minute itself
    const std::string late = AddMinutes(at, dl.grace_minutes);
    d.timers.push_back({key, state, dl.event, *ParseDate(late.substr(0, 10)), late});
  } else {
    d.timers.push_back({key, state, dl.event, due, at});
  }
  // Reminders whose day has already passed collapse into one, sent today.
  bool late_sent = false;
  std::vector<Duration> remind = dl.remind;
  std::sort(remind.begin(), remind.end(), [&](const Duration& a, const Duration& b) {
    return SubtractDuration(due, a) > SubtractDuration(due, b);
  });
  for (size_t i = 0; i < remind.size(); ++i) {
    Date on = SubtractDuration(due, remind[i]);
    if (on < now.today) {
      if (late_sent || due < now.today) continue;
      on = now.today;
      late_sent = true;
    }
    if (on == now.today) late_sent = true;
    ReminderSpec r;
    r.key = key + ":" + std::to_string(i);
    r.on = on;
    r.notify = dl.notify;
    r.template_name = dl.template_name;
    r.state = state;
    r.kind = on < due ? ReminderKind::kUpcoming : ReminderKind::kDue;
    r.event = dl.event;
    r.due = due;
    r.due_at = at;
    d.reminders.push_back(std::move(r));
  }
}

namespace {

void Leave(const Definition& def, int state, Decision& d) {
  const StateDef& s = def.states[state];
  if (s.deadline) d.cancel_timers.push_back("deadline:" + s.name);
  bool delayed = std::any_of(s.on_enter.begin(), s.on_enter.end(),
                             [](const Action& a) { return a.kind == Action::Kind::kNotify && !a.after.zero(); });
  if (delayed) d.cancel_notices.push_back("notify:" + s.name);
}

void Diff(const Definition& def, const std::vector<Value>& before, Decision& d) {
  for (size_t i = 0; i < def.fields.size(); ++i)
    if (!(before[i] == d.fields[i])) d.changes.push_back({static_cast<int>(i), before[i], d.fields[i]});
  d.history.changes = d.changes;
}

std::string RolesOf(const std::vector<std::string>& roles) { return Join(roles, " or "); }

}  // namespace

// The people an instance names, checked whenever its fields change: the
// fields `distinct` lists name different people, and a `guardian_of` field
// names the registered guardian of the person in the other field.
std::optional<Refusal> CheckPeople(const Definition& def, const std::vector<Value>& fields, const World& world) {
  auto person = [&](int i) -> const std::string* {
    auto* s = std::get_if<std::string>(&fields[i]);
    return s && !s->empty() ? s : nullptr;
  };
  for (size_t a = 0; a < def.distinct.size(); ++a)
    for (size_t b = a + 1; b < def.distinct.size(); ++b) {
      const std::string *pa = person(def.distinct[a]), *pb = person(def.distinct[b]);
      if (pa && pb && *pa == *pb)
        return Refuse(Code::kRefused, "person",
                      msg::SamePerson(*pa, def.fields[def.distinct[a]].name, def.fields[def.distinct[b]].name));
    }
  for (size_t i = 0; i < def.fields.size(); ++i) {
    const FieldDef& f = def.fields[i];
    if (f.guardian_of < 0) continue;
    const std::string *g = person(static_cast<int>(i)), *child = person(f.guardian_of);
    if (!g || !child) continue;
    std::string registered = world.GuardianOf(*child);
    if (registered != *g)
      return Refuse(Code::kRefused, "person",
                    msg::NotTheGuardian(f.name, *g, def.fields[f.guardian_of].name, *child, registered));
  }
  return std::nullopt;
}

Outcome Start(const Definition& def, const Input& input, const std::string& parent, const Actor& actor,
              const Now& now, const World& world) {
  Outcome out;
  const auto& allowed = def.started_by.empty() ? def.roles : def.started_by;
  if (std::none_of(allowed.begin(), allowed.end(), [&](const std::string& r) { return actor.Holds(r); })) {
    out.refusal = Refuse(Code::kRefused, "role", msg::StartRole(def.name, RolesOf(allowed)));
    return out;
  }
  if (auto r = DuplicateKey(input)) {
    out.refusal = std::move(*r);
    return out;
  }
  Decision d;
  d.to = def.initial_state;
  d.fields.resize(def.fields.size());
  for (size_t i = 0; i < def.fields.size(); ++i) {
    d.fields[i] = def.fields[i].default_value;
    if (def.fields[i].type == FieldType::kList) d.fields[i] = List{};
  }
  // Fields taken from the parent (a group member's mentor, form and kind).
  std::optional<World::ParentView> parent_view;
  if (!parent.empty()) parent_view = world.Parent(parent);
  if (parent_view)
    for (size_t i = 0; i < def.fields.size(); ++i) {
      const FieldDef& f = def.fields[i];
      if (f.from_parent.empty()) continue;
      auto pv = std::find_if(parent_view->fields.begin(), parent_view->fields.end(),
                             [&](const auto& kv) { return kv.first == f.from_parent; });
      if (pv == parent_view->fields.end()) continue;
      auto given = std::find_if(input.begin(), input.end(), [&](const auto& kv) { return kv.first == f.name; });
      if (given != input.end() && given->second != pv->second) {
        out.refusal = Refuse(Code::kRefused, "parent", msg::FromParentDiffers(f.name, given->second, parent, pv->second));
        return out;
      }
      auto val = ParseInput(f, f.name, pv->second, world, &out.refusal);
      if (!val) return out;
      d.fields[i] = *val;
    }
  for (const auto& [k, v] : input) {
    int fi = def.FieldIndex(k);
    if (fi < 0) {
      out.refusal = Refuse(Code::kBadInput, "input", msg::UnknownField(k, def.name));
      return out;
    }
    if (def.fields[fi].type == FieldType::kList) {
      out.refusal = Refuse(Code::kBadInput, "input", msg::ListInput(k));
      return out;
    }
    auto val = ParseInput(def.fields[fi], k, v, world, &out.refusal);
    if (!val) return out;
    d.fields[fi] = *val;
  }
  for (size_t i = 0; i < def.fields.size(); ++i)
    if (def.fields[i].required && !IsSet(d.fields[i])) {
      out.refusal = RefuseInput(def.fields[i].name, msg::MissingField(def.fields[i].name));
      return out;
    }
  // The role the starter takes: one whose person field, if the workflow
  // binds it, names them (a mentor starts a plan only as its mentor).
  std::string role;
  for (const auto& r : allowed)
    if (actor.Holds(r) && BoundOk(def, d.fields, actor, r)) {
      role = r;
      break;
    }
  if (role.empty()) {
    std::vector<std::string> held, names;
    for (const auto& r : allowed)
      if (actor.Holds(r)) held.push_back(r);
    for (const auto& f : def.fields)
      if (f.type == FieldType::kPerson && std::find(held.begin(), held.end(), f.role) != held.end())
        names.push_back(f.name);
    out.refusal = Refuse(Code::kRefused, "person", msg::NotThatPerson(actor.id, RolesOf(held), Join(names, " or ")));
    return out;
  }
  if (auto r = CheckPeople(def, d.fields, world)) {
    out.refusal = std::move(*r);
    return out;
  }
  if (def.start_when) {
    Snapshot snap;
    snap.parent = parent;
    snap.fields = d.fields;
    if (!Evaluate(def, *def.start_when, snap, snap.fields, world, now)) {
      out.refusal = Refuse(Code::kRefused, "condition",
                           msg::StartCondition(def.name, ExplainFailure(def, *def.start_when, snap, snap.fields, world,
                                                                        def.fields, now)));
      return out;
    }
  }
  // Under a parent: it exists, runs, and, for a role bound to a person, is
  // the starter's own (a mentor's plan goes under that mentor's pair).
  if (!parent.empty()) {
    auto& p = parent_view;
    if (!p) {
      out.refusal = Refuse(Code::kNotFound, "not_found", msg::NoParent(parent));
      return out;
    }
    if (p->finished) {
      out.refusal = Refuse(Code::kRefused, "parent", msg::ParentFinished(parent, p->state));
      return out;
    }
    bool bound_here = std::any_of(def.fields.begin(), def.fields.end(),
                                  [&](const FieldDef& f) { return f.type == FieldType::kPerson && f.role == role; });
    bool bound_there = false, theirs = false;
    for (const auto& [r, person] : p->people)
      if (r == role) {
        bound_there = true;
        theirs = theirs || person == actor.id;
      }
    if (bound_here && bound_there && !theirs) {
      out.refusal = Refuse(Code::kRefused, "role", msg::NotTheirParent(actor.id, role, parent));
      return out;
    }
  }
  std::vector<Value> empty(def.fields.size());
  for (size_t i = 0; i < def.fields.size(); ++i)
    if (def.fields[i].type == FieldType::kList) empty[i] = List{};
  Diff(def, empty, d);
  d.history.at = now.instant;
  d.history.actor = actor.id;
  d.history.role = role;
  d.history.event = "start";
  d.history.to = def.states[d.to].name;
  Enter(def, d.to, now, d);
  PlanItemReminders(def, now, world, d);
  out.decision = std::move(d);
  return out;
}

Outcome Dispatch(const Definition& def, const Snapshot& snap, std::string_view event, const Input& input,
                 const Actor& actor, const Now& now, const World& world) {
  Outcome out;
  int ev = def.EventId(event);
  const StateDef& here = def.states[snap.state];
  if (ev < 0) {
    const std::string hint = Closest(event, def.events);
    out.refusal = Refuse(Code::kBadInput, "unknown_event", msg::UnknownEvent(std::string(event), def.name, hint));
    return out;
  }
  if (here.final) {
    out.refusal = Refuse(Code::kRefused, "final", msg::FinalState(here.name));
    return out;
  }
  if (auto r = DuplicateKey(input)) {
    out.refusal = std::move(*r);
    return out;
  }
  auto [b, e] = def.Candidates(snap.state, ev);
  if (b == e) {
    out.refusal = Refuse(Code::kRefused, "state", msg::NotInState(std::string(event), here.name));
    return out;
  }
  const TransitionDef* chosen = nullptr;
  const std::string* role = nullptr;
  std::optional<Refusal> first_refusal;
  std::string minor, for_whom;
  for (const int* i = b; i != e && !chosen; ++i) {
    const TransitionDef& t = def.transitions[*i];
    bool held = false;
    for_whom.clear();
    const std::string* r = ChooseRole(def, t, snap.fields, actor, world, now.today, &held, &minor, &for_whom);
    if (!r) {
      if (!minor.empty() && (!first_refusal || first_refusal->rule != "minor")) {
        const std::string g = world.GuardianOf(minor);
        first_refusal = Refuse(Code::kRefused, "minor", msg::MinorActs(minor, FormatDate(now.today), g, std::string(event)));
      } else if (!first_refusal) {
        if (held) {
          std::vector<std::string> names;
          for (const auto& f : def.fields)
            if (f.type == FieldType::kPerson && actor.Holds(f.role) &&
                std::find(t.by.begin(), t.by.end(), f.role) != t.by.end())
              names.push_back(f.name);
          first_refusal = Refuse(Code::kRefused, "person", msg::NotThatPerson(actor.id, RolesOf(t.by), Join(names, " or ")));
        } else {
          first_refusal = Refuse(Code::kRefused, "role", msg::WrongRole(std::string(event), RolesOf(t.by)));
        }
      }
      continue;
    }
    if (t.not_by >= 0) {  // not on oneself (nor on one's ward)
      const auto* who = std::get_if<std::string>(&snap.fields[t.not_by]);
      if (who && !who->empty() && (*who == actor.id || world.GuardianOf(*who) == actor.id)) {
        if (!first_refusal || first_refusal->rule == "role")
          first_refusal =
              Refuse(Code::kRefused, "not_by", msg::NotByThem(actor.id, std::string(event), def.fields[t.not_by].name, *who));
        continue;
      }
    }
    if (t.when && !Evaluate(def, *t.when, snap, snap.fields, world, now)) {
      if (!first_refusal || first_refusal->rule != "condition")
        first_refusal = Refuse(Code::kRefused, "condition",
                               msg::ConditionFailed(std::string(event),
                                                    ExplainFailure(def, *t.when, snap, snap.fields, world, def.fields, now)));
      continue;
    }
    chosen = &t;
    role = r;
    out.decision.emplace();
    out.decision->transition = *i;
  }
  if (!chosen) {
    out.refusal = *first_refusal;
    return out;
  }
  Decision& d = *out.decision;
  d.from = snap.state;
  d.to = chosen->to < 0 ? snap.state : chosen->to;
  d.fields = snap.fields;

  // Input: either the transition's inputs, or a list item.
  auto fail = [&](Refusal r) {
    out.decision.reset();
    out.refusal = std::move(r);
    return out;
  };
  if (chosen->append_list >= 0 || chosen->update_list >= 0) {
    bool append = chosen->append_list >= 0;
    int li = append ? chosen->append_list : chosen->update_list;
    const FieldDef& lf = def.fields[li];
    List list = std::get_if<List>(&d.fields[li]) ? std::get<List>(d.fields[li]) : List{};
    Item item;
    Item* target = &item;
    const std::string* id = nullptr;
    for (const auto& kv : input)
      if (kv.first == "id") id = &kv.second;
    if (append) {
      if (id) return fail(Refuse(Code::kBadInput, "input", msg::NotAnInput("id", std::string(event), "")));
      item.id = NextItemId(list);
      item.values.resize(lf.item_fields.size());
      for (size_t k = 0; k < lf.item_fields.size(); ++k) item.values[k] = lf.item_fields[k].default_value;
    } else {
      if (!id) return fail(Refuse(Code::kBadInput, "input", msg::MissingInput("id", std::string(event))));
      auto it = std::find_if(list.begin(), list.end(), [&](const Item& x) { return x.id == *id; });
      if (it == list.end()) return fail(Refuse(Code::kNotFound, "not_found", msg::UnknownItem(*id, lf.name)));
      target = &*it;
    }
    const std::vector<Value> before = target->values;  // what flag_changes compares with
    for (const auto& [k, v] : input) {
      if (k == "id") continue;
      int fi = lf.ItemFieldIndex(k);
      if (std::any_of(chosen->item_set.begin(), chosen->item_set.end(), [&](const auto& s) { return s.first == fi; }))
        return fail(Refuse(Code::kBadInput, "input", msg::ItemFixed(k, std::string(event))));
      if (fi < 0) {
        std::vector<std::string> names;
        for (const auto& f : lf.item_fields) names.push_back(f.name);
        return fail(Refuse(Code::kBadInput, "input", msg::NotAnInput(k, std::string(event), Join(names, ", "))));
      }
      Refusal r;
      auto val = ParseInput(lf.item_fields[fi], k, v, world, &r);
      if (!val) return fail(r);
      target->values[fi] = *val;
    }
    for (const auto& [k, v] : chosen->item_set) target->values[k] = v;
    for (const auto& [f, g] : chosen->flag_changes)
      if (!(target->values[f] == before[f])) target->values[g] = Value{true};
    if (append) {
      for (size_t k = 0; k < lf.item_fields.size(); ++k)
        if (lf.item_fields[k].required && !IsSet(item.values[k]))
          return fail(RefuseInput(lf.item_fields[k].name, msg::MissingInput(lf.item_fields[k].name, std::string(event))));
      list.push_back(std::move(item));
    }
    d.fields[li] = std::move(list);
  } else {
    for (const auto& kv : input) {
      const std::string& k = kv.first;
      const std::string& v = kv.second;
      auto in = std::find_if(chosen->input.begin(), chosen->input.end(),
                             [&](const InputDef& x) { return def.fields[x.field].name == k; });
      if (in == chosen->input.end()) {
        std::vector<std::string> names;
        for (const auto& x : chosen->input) names.push_back(def.fields[x.field].name);
        return fail(Refuse(Code::kBadInput, "input", msg::NotAnInput(k, std::string(event), Join(names, ", "))));
      }
      Refusal r;
      auto val = ParseInput(def.fields[in->field], k, v, world, &r);
      if (!val) return fail(r);
      d.fields[in->field] = *val;
    }
    for (const auto& in : chosen->input) {
      const std::string& name = def.fields[in.field].name;
      bool given = std::any_of(input.begin(), input.end(), [&](const auto& kv) { return kv.first == name; });
      if (in.required && !given) return fail(RefuseInput(name, msg::MissingInput(name, std::string(event))));
    }
  }
  for (const auto& a : chosen->set) {
    if (a.from_field >= 0) {
      if (IsSet(d.fields[a.from_field])) d.fields[a.field] = d.fields[a.from_field];
    } else if (a.today_plus_months >= 0) {
      if (const auto* n = std::get_if<std::int64_t>(&d.fields[a.today_plus_months]))
        d.fields[a.field] = AddDuration(now.today, Duration{0, static_cast<int>(*n), 0});
    } else if (a.year_of >= 0) {
      if (const auto* day = std::get_if<Date>(&d.fields[a.year_of]))
        d.fields[a.field] = static_cast<std::int64_t>(static_cast<int>(date::year_month_day{*day}.year()));
    } else {
      d.fields[a.field] = a.constant;
    }
  }
  for (size_t i = 0; i < def.fields.size(); ++i)
    if (def.fields[i].type == FieldType::kPerson && !(d.fields[i] == snap.fields[i])) {
      if (auto r = CheckPeople(def, d.fields, world)) return fail(std::move(*r));
      break;
    }
  if (chosen->check) {
    Snapshot after = snap;
    after.fields = d.fields;
    if (!Evaluate(def, *chosen->check, after, after.fields, world, now))
      return fail(Refuse(Code::kRefused, "condition",
                         msg::CheckFailed(std::string(event),
                                          ExplainFailure(def, *chosen->check, after, after.fields, world, def.fields, now))));
  }
  Diff(def, snap.fields, d);
  d.history.at = now.instant;
  d.history.actor = actor.id;
  d.history.role = *role;
  if (!for_whom.empty()) d.history.note = "as guardian of " + for_whom;
  d.history.event = std::string(event);
  d.history.from = here.name;
  d.history.to = def.states[d.to].name;
  if (chosen->to >= 0) {  // an external transition: leave, then enter (even the same state)
    const bool overdue = here.deadline && here.deadline->event == event && *role == "system";
    Leave(def, snap.state, d);
    Enter(def, d.to, now, d, overdue);
  }
  PlanItemReminders(def, now, world, d);
  return out;
}

void Apply(const Decision& d, Snapshot& snap) {
  snap.state = d.to;
  snap.fields = d.fields;
}

}  // namespace mentorflow
