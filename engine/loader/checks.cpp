// The definition as a whole, once every part is read: reachability, dead
// ends, titles for everything a person reads, deadline events, and
// determinism (two transitions on one event from one state need guards
// that exclude each other: the guard algebra below).
#include "engine/loader/loader.h"

namespace mentorflow::loading {

void Loader::CheckMachine() {
  std::vector<int> initial;
  for (size_t i = 0; i < def_.states.size(); ++i)
    if (def_.states[i].initial) initial.push_back(static_cast<int>(i));
  if (initial.empty()) {
    Error(def_.states.empty() ? Mark{1, 1} : def_.states.front().mark, msg::NoInitial());
    return;
  }
  if (initial.size() > 1) {
    for (size_t k = 1; k < initial.size(); ++k)
      Error(def_.states[initial[k]].mark,
            msg::SeveralInitial(def_.states[initial[k]].name, def_.states[initial[0]].name));
    return;
  }
  def_.initial_state = initial.front();

  // Reachability from the initial state.
  std::vector<bool> reached(def_.states.size(), false);
  reached[def_.initial_state] = true;
  for (bool changed = true; changed;) {
    changed = false;
    for (const auto& t : def_.transitions)
      for (int f : t.from)
        if (reached[f] && t.to >= 0 && !reached[t.to]) reached[t.to] = changed = true;
  }
  for (size_t i = 0; i < def_.states.size(); ++i)
    if (!reached[i]) Error(def_.states[i].mark, msg::Unreachable(def_.states[i].name));

  for (size_t i = 0; i < def_.states.size(); ++i) {
    const StateDef& s = def_.states[i];
    bool way_out = false;
    for (const auto& t : def_.transitions) {
      bool from_here = std::find(t.from.begin(), t.from.end(), static_cast<int>(i)) != t.from.end();
      if (!from_here) continue;
      if (s.final) Error(t.mark, msg::FinalLeft(s.name, t.event));
      if (t.to >= 0 && t.to != static_cast<int>(i)) way_out = true;
    }
    if (!s.final && !way_out) Error(s.mark, msg::NoWayOut(s.name));
    if (s.final && s.deadline) Error(s.deadline->mark, msg::FinalDeadline(s.name));
    if (s.deadline) CheckDeadlineEvent(static_cast<int>(i));
  }

  // Two transitions on one event from one state must not both be able to fire.
  const int ne = static_cast<int>(def_.events.size());
  for (size_t s = 0; s < def_.states.size(); ++s)
    for (int e = 0; e < ne; ++e) {
      auto [b, en] = def_.Candidates(static_cast<int>(s), e);
      for (const int* i = b; i != en; ++i)
        for (const int* j = i + 1; j != en; ++j) {
          const auto& ti = def_.transitions[*i];
          const auto& tj = def_.transitions[*j];
          if (!Exclusive(ti.when, tj.when))
            Error(tj.mark, msg::Ambiguous(def_.events[e], def_.states[s].name, ti.mark.line));
        }
    }
}

void Loader::CheckStartCondition(const Condition& c) {
  if (c.kind == Condition::Kind::kSigned) Error(c.mark, msg::StartWhenCannot("signed"));
  if (c.kind == Condition::Kind::kChildren) Error(c.mark, msg::StartWhenCannot("children"));
  if (c.kind == Condition::Kind::kEvery) return;  // its children read item fields
  for (const auto& ch : c.children) CheckStartCondition(ch);
}

void Loader::CheckTitles(Mark root) {
  if (def_.title.empty()) Untitled(root, msg::NoTitle("workflow", def_.name));
  for (size_t i = 0; i < def_.roles.size(); ++i)
    if (def_.role_titles[i].empty()) Untitled(role_marks_[i], msg::NoTitle("role", def_.roles[i]));
  for (const auto& s : def_.states)
    if (s.title.empty()) Untitled(s.mark, msg::NoTitle("state", s.name));
  for (const auto& t : def_.transitions)
    if (t.title.empty()) Untitled(t.mark, msg::NoTitle("transition", t.event));
  for (const auto& d : def_.documents)
    if (d.title.empty()) Untitled(d.mark, msg::NoTitle("document", d.name));
  std::function<void(const FieldDef&)> field = [&](const FieldDef& f) {
    if (f.title.empty()) Untitled(f.mark, msg::NoTitle("field", f.name));
    for (size_t k = 0; k < f.values.size(); ++k)
      if (k >= f.value_titles.size() || f.value_titles[k].empty())
        Untitled(f.mark, msg::NoValueTitle(f.name, f.values[k]));
    for (const auto& item : f.item_fields) field(item);
  };
  for (const auto& f : def_.fields) field(f);
  for (const auto& a : def_.attributes) field(a.field);
}

void Loader::CheckDeadlineEvent(int state) {
  const StateDef& s = def_.states[state];
  const DeadlineDef& d = *s.deadline;
  Mark m = deadline_event_marks_.count(s.name) ? deadline_event_marks_[s.name] : d.mark;
  if (d.event_id < 0) {
    Error(m, msg::Unknown("event", d.event, Closest(d.event, def_.events)) + msg::NoTransitionHandles());
    return;
  }
  auto [b, e] = def_.Candidates(state, d.event_id);
  for (const int* i = b; i != e; ++i) {
    const auto& by = def_.transitions[*i].by;
    if (std::find(by.begin(), by.end(), "system") != by.end()) return;
  }
  Error(m, msg::DeadlineEventNotFromState(d.event, s.name));
}

void Loader::Conjuncts(const Condition& c, std::vector<const Condition*>& out) {
  if (c.kind == Condition::Kind::kAll)
    for (const auto& ch : c.children) Conjuncts(ch, out);
  else
    out.push_back(&c);
}

bool Loader::Same(const Condition& a, const Condition& b) {
  if (a.kind != b.kind || a.op != b.op || a.field != b.field || a.constant != b.constant ||
      a.constants != b.constants || a.document != b.document || a.person_fields != b.person_fields ||
      a.workflow != b.workflow || a.states != b.states || a.number != b.number || a.where != b.where ||
      a.where_fields != b.where_fields || a.operand != b.operand || a.operand_field != b.operand_field ||
      a.bound.has_value() != b.bound.has_value() ||
      (a.bound && (a.bound->table != b.bound->table || a.bound->column != b.bound->column ||
                   a.bound->row_field != b.bound->row_field)) ||
      a.children.size() != b.children.size())
    return false;
  for (size_t i = 0; i < a.children.size(); ++i)
    if (!Same(a.children[i], b.children[i])) return false;
  return true;
}

Loader::Admits Loader::AdmitsOf(const Condition& c) {
  Admits a;
  switch (c.op) {
    case CompareOp::kEq: a.set = std::vector<Value>{c.constant}; break;
    case CompareOp::kIn: a.set = c.constants; break;
    case CompareOp::kNe: a.except = c.constant; break;
    case CompareOp::kLt: a.hi = c.constant; a.hi_open = true; break;
    case CompareOp::kLe: a.hi = c.constant; break;
    case CompareOp::kGt: a.lo = c.constant; a.lo_open = true; break;
    case CompareOp::kGe: a.lo = c.constant; break;
  }
  return a;
}

bool Loader::Admitted(const Admits& a, const Value& v) {
  if (a.set) return std::find(a.set->begin(), a.set->end(), v) != a.set->end();
  if (a.except) return v != *a.except;
  if (a.lo && (v < *a.lo || (a.lo_open && v == *a.lo))) return false;
  if (a.hi && (*a.hi < v || (a.hi_open && v == *a.hi))) return false;
  return true;
}

bool Loader::Contradict(const Condition& x, const Condition& y) {
  if (x.kind == Condition::Kind::kNot && Same(x.children[0], y)) return true;
  if (y.kind == Condition::Kind::kNot && Same(y.children[0], x)) return true;
  if (x.kind != Condition::Kind::kCompare || y.kind != Condition::Kind::kCompare || x.field != y.field)
    return false;
  // Against another field or the clock, the values are not known here.
  if (x.operand != Condition::Operand::kConstant || y.operand != Condition::Operand::kConstant) return false;
  Admits ax = AdmitsOf(x), ay = AdmitsOf(y);
  if (ay.set) std::swap(ax, ay);
  if (ax.set) {  // a finite set: exclusive when the other admits none of it
    for (const auto& v : *ax.set)
      if (Admitted(ay, v)) return false;
    return true;
  }
  if (ax.except || ay.except) return false;
  // Two intervals: disjoint when one ends before the other begins.
  auto before = [](const Admits& a, const Admits& b) {
    if (!a.hi || !b.lo) return false;
    if (*a.hi < *b.lo) return true;
    return *a.hi == *b.lo && (a.hi_open || b.lo_open);
  };
  return before(ax, ay) || before(ay, ax);
}

bool Loader::Exclusive(const std::optional<Condition>& a, const std::optional<Condition>& b) {
  if (!a || !b) return false;
  std::vector<const Condition*> ca, cb;
  Conjuncts(*a, ca);
  Conjuncts(*b, cb);
  for (const auto* x : ca)
    for (const auto* y : cb)
      if (Contradict(*x, *y)) return true;
  return false;
}

}  // namespace mentorflow::loading
