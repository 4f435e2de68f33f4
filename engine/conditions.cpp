// Evaluation and description of conditions (engine/conditions.h).
#include "engine/conditions.h"

#include <algorithm>

#include "engine/suggest.h"
#include "engine/text.h"

namespace mentorflow {

const char* OpName(CompareOp op) {
  switch (op) {
    case CompareOp::kEq: return "=";
    case CompareOp::kNe: return "!=";
    case CompareOp::kLt: return "<";
    case CompareOp::kLe: return "<=";
    case CompareOp::kGt: return ">";
    case CompareOp::kGe: return ">=";
    case CompareOp::kIn: return "in";
  }
  return "?";
}

namespace {

template <typename T>
bool Compare(CompareOp op, const T& a, const T& b) {
  switch (op) {
    case CompareOp::kEq: return a == b;
    case CompareOp::kNe: return !(a == b);
    case CompareOp::kLt: return a < b;
    case CompareOp::kLe: return !(b < a);
    case CompareOp::kGt: return b < a;
    case CompareOp::kGe: return !(a < b);
    case CompareOp::kIn: return false;
  }
  return false;
}

// The value a compare's field is compared with.
Value OperandOf(const Condition& c, const std::vector<Value>& values, const Now& now) {
  switch (c.operand) {
    case Condition::Operand::kConstant: return c.constant;
    case Condition::Operand::kField: return values[c.operand_field];
    case Condition::Operand::kToday: return Value{now.today};
    case Condition::Operand::kNow: return Value{now.Minute()};
  }
  return {};
}

// As Compare, but a date and a datetime ("YYYY-MM-DDTHH:MM") compare by day.
bool CompareValues(CompareOp op, const Value& a, const Value& b) {
  const auto* ad = std::get_if<Date>(&a);
  const auto* bd = std::get_if<Date>(&b);
  const auto* as = std::get_if<std::string>(&a);
  const auto* bs = std::get_if<std::string>(&b);
  if (ad && bs) {
    auto day = ParseDate(bs->substr(0, 10));
    return day && Compare(op, *ad, *day);
  }
  if (as && bd) {
    auto day = ParseDate(as->substr(0, 10));
    return day && Compare(op, *day, *bd);
  }
  return Compare(op, a, b);
}

std::string OperandName(const Condition& c, const std::vector<FieldDef>& scope) {
  switch (c.operand) {
    case Condition::Operand::kConstant: return ValueToString(c.constant);
    case Condition::Operand::kField: return scope[c.operand_field].name;
    case Condition::Operand::kToday: return "today";
    case Condition::Operand::kNow: return "now";
  }
  return "?";
}

// A count with this instance's values put in: `where` completed with the
// fields it names, the bound read from its table. nullopt, with `why`, when
// such a field is not set or the table has no number for it.
std::optional<Condition> ResolveCount(const Condition& c, const std::vector<Value>& values, const World& world,
                                      const std::vector<FieldDef>* scope, std::string* why) {
  auto name = [&](int f) { return scope ? (*scope)[f].name : std::string("a field"); };
  Condition r = c;
  r.where_fields.clear();
  for (const auto& [counted, own] : c.where_fields) {
    if (!IsSet(values[own])) {
      if (why) *why = name(own) + " is not set";
      return std::nullopt;
    }
    r.where.push_back({counted, ValueToString(values[own])});
  }
  if (c.bound) {
    const Condition::TableBound& b = *c.bound;
    if (!IsSet(values[b.row_field])) {
      if (why) *why = name(b.row_field) + " is not set";
      return std::nullopt;
    }
    const std::string key = ValueToString(values[b.row_field]);
    const DataTable* t = world.Table(b.table);
    if (!t) {
      if (why) *why = "table '" + b.table + "' is not in the database (put tables/" + b.table + ".csv beside the "
                      "workflows and run mentorflow init)";
      return std::nullopt;
    }
    if (!t->Row(key)) {
      if (why) {
        *why = "table " + b.table + " has no row '" + EscapeControls(key) + "'";
        std::string near = Closest(key, t->Keys());
        if (!near.empty()) *why += " (did you mean '" + near + "'?)";
      }
      return std::nullopt;
    }
    auto n = TableNumber(t->Cell(key, b.column).value_or(""));
    if (!n) {
      if (why) *why = "table " + b.table + ", row '" + key + "', column " + b.column + " is not a whole number";
      return std::nullopt;
    }
    r.number = *n;
    r.bound.reset();
  }
  return r;
}

}  // namespace

std::string Describe(const Definition& def, const Condition& c, const std::vector<FieldDef>& scope) {
  switch (c.kind) {
    case Condition::Kind::kCompare: {
      std::string rhs;
      if (c.op == CompareOp::kIn) {
        std::vector<std::string> vs;
        for (const auto& v : c.constants) vs.push_back(ValueToString(v));
        rhs = "[" + Join(vs, ", ") + "]";
      } else {
        rhs = OperandName(c, scope);
      }
      return scope[c.field].name + " " + OpName(c.op) + " " + rhs;
    }
    case Condition::Kind::kPresent: return scope[c.field].name + " set";
    case Condition::Kind::kAll:
    case Condition::Kind::kAny: {
      std::vector<std::string> parts;
      for (const auto& ch : c.children) parts.push_back(Describe(def, ch, scope));
      return (c.kind == Condition::Kind::kAll ? "all of (" : "one of (") + Join(parts, "; ") + ")";
    }
    case Condition::Kind::kNot: return "not (" + Describe(def, c.children[0], scope) + ")";
    case Condition::Kind::kSigned: return "document '" + def.documents[c.document].name + "' signed";
    case Condition::Kind::kConsent: {
      std::vector<std::string> names;
      for (int f : c.person_fields) names.push_back(def.fields[f].name);
      return "consent of " + Join(names, " and ") + " for " + (c.purpose.empty() ? def.purpose : c.purpose);
    }
    case Condition::Kind::kChildren:
      if (c.some)
        return "at least " + std::to_string(std::max<std::int64_t>(c.number, 1)) + " " + c.workflow +
               " of this instance in [" + Join(c.states, ", ") + "]";
      return "every " + c.workflow + " of this instance in [" + Join(c.states, ", ") + "]" +
             (c.number > 0 ? " (at least " + std::to_string(c.number) + ")" : "");
    case Condition::Kind::kCount: {
      std::string where;
      for (const auto& [f, v] : c.where) where += (where.empty() ? " where " : ", ") + f + "=" + v;
      for (const auto& [f, own] : c.where_fields)
        where += (where.empty() ? " where " : ", ") + f + "=its " + scope[own].name;
      const std::string bound = c.bound ? "the " + c.bound->column + " of its " + scope[c.bound->row_field].name +
                                              " in table " + c.bound->table
                                        : std::to_string(c.number);
      return "count of " + c.workflow + (c.states.empty() ? "" : " in [" + Join(c.states, ", ") + "]") + where + " " +
             OpName(c.op) + " " + bound;
    }
    case Condition::Kind::kAge:
      return "age of " + scope[c.field].name + " " + OpName(c.op) + " " + std::to_string(c.number);
    case Condition::Kind::kEvery:
      return "every item of '" + scope[c.field].name + "' to match " +
             Describe(def, c.children[0], scope[c.field].item_fields);
  }
  return "?";
}


bool Evaluate(const Definition& def, const Condition& c, const Snapshot& snap, const std::vector<Value>& values,
              const World& world, const Now& now) {
  switch (c.kind) {
    case Condition::Kind::kCompare: {
      const Value& v = values[c.field];
      if (!IsSet(v)) return c.op == CompareOp::kNe;
      if (c.op == CompareOp::kIn) return std::find(c.constants.begin(), c.constants.end(), v) != c.constants.end();
      if (c.operand == Condition::Operand::kConstant) return Compare(c.op, v, c.constant);
      const Value rhs = OperandOf(c, values, now);
      return IsSet(rhs) && CompareValues(c.op, v, rhs);
    }
    case Condition::Kind::kPresent: return IsSet(values[c.field]);
    case Condition::Kind::kAll:
      for (const auto& ch : c.children)
        if (!Evaluate(def, ch, snap, values, world, now)) return false;
      return true;
    case Condition::Kind::kAny:
      for (const auto& ch : c.children)
        if (Evaluate(def, ch, snap, values, world, now)) return true;
      return false;
    case Condition::Kind::kNot: return !Evaluate(def, c.children[0], snap, values, world, now);
    case Condition::Kind::kSigned:
      return static_cast<size_t>(c.document) < snap.signed_documents.size() && snap.signed_documents[c.document];
    case Condition::Kind::kConsent:
      for (int f : c.person_fields) {
        const auto* id = std::get_if<std::string>(&snap.fields[f]);
        if (!id || !world.HasConsent(*id, c.purpose.empty() ? def.purpose : c.purpose)) return false;
      }
      return true;
    case Condition::Kind::kChildren: {
      auto n = world.CountChildren(snap.id, c.workflow, c.states);
      if (c.some) return n.in_states >= std::max<std::int64_t>(c.number, 1);
      return n.total >= c.number && n.in_states == n.total;
    }
    case Condition::Kind::kCount: {
      if (c.where_fields.empty() && !c.bound) return Compare(c.op, world.CountInstances(c), c.number);
      auto r = ResolveCount(c, values, world, nullptr, nullptr);
      return r && Compare(r->op, world.CountInstances(*r), r->number);
    }
    case Condition::Kind::kAge: {
      const auto* id = std::get_if<std::string>(&values[c.field]);
      const auto birth = id ? world.BirthOf(*id) : std::nullopt;
      return birth && Compare(c.op, std::int64_t{AgeOn(*birth, now.today)}, c.number);
    }
    case Condition::Kind::kEvery: {
      const auto* list = std::get_if<List>(&values[c.field]);
      if (!list || list->empty()) return false;
      for (const auto& item : *list)
        if (!Evaluate(def, c.children[0], snap, item.values, world, now)) return false;
      return true;
    }
  }
  return false;
}

std::string ExplainFailure(const Definition& def, const Condition& c, const Snapshot& snap,
                           const std::vector<Value>& values, const World& world,
                           const std::vector<FieldDef>& scope, const Now& now) {
  switch (c.kind) {
    case Condition::Kind::kAll:
      for (const auto& ch : c.children)
        if (!Evaluate(def, ch, snap, values, world, now)) return ExplainFailure(def, ch, snap, values, world, scope, now);
      break;
    case Condition::Kind::kAny: {  // none holds: say why of each
      std::string parts;
      for (const auto& ch : c.children)
        parts += (parts.empty() ? "" : "; ") + ExplainFailure(def, ch, snap, values, world, scope, now);
      return "one of (" + parts + ")";
    }
    case Condition::Kind::kCompare: {
      const Value& v = values[c.field];
      std::string text = Describe(def, c, scope) + " (it is " + (IsSet(v) ? ValueToString(v) : std::string("not set"));
      if (c.operand != Condition::Operand::kConstant) {
        const Value rhs = OperandOf(c, values, now);
        text += "; " + OperandName(c, scope) + " is " + (IsSet(rhs) ? ValueToString(rhs) : std::string("not set"));
      }
      return text + ")";
    }
    case Condition::Kind::kConsent: {
      std::vector<std::string> missing;
      for (int f : c.person_fields) {
        const auto* id = std::get_if<std::string>(&snap.fields[f]);
        if (!id || !world.HasConsent(*id, c.purpose.empty() ? def.purpose : c.purpose))
          missing.push_back(def.fields[f].name + (id ? " (" + *id + ")" : ""));
      }
      return "signed consent of " + Join(missing, " and ") + " for " + (c.purpose.empty() ? def.purpose : c.purpose);
    }
    case Condition::Kind::kChildren: {
      auto n = world.CountChildren(snap.id, c.workflow, c.states);
      return Describe(def, c, scope) + " (" + std::to_string(n.in_states) + " of " + std::to_string(n.total) +
             " are)";
    }
    case Condition::Kind::kCount: {
      std::string why;
      auto r = ResolveCount(c, values, world, &scope, &why);
      if (!r) return Describe(def, c, scope) + " (" + why + ")";
      std::string text = Describe(def, *r, scope);
      if (c.bound) {  // which row and column the bound came from, by its title when the table has one
        const std::string key = ValueToString(values[c.bound->row_field]);
        const DataTable* t = world.Table(c.bound->table);
        auto title = t ? t->Cell(key, "title") : std::nullopt;
        text += " (" + c.bound->column + " of " + key + (title ? " «" + *title + "»" : "") + " in table " +
                c.bound->table + ")";
      }
      return text + " (it is " + std::to_string(world.CountInstances(*r)) + ")";
    }
    case Condition::Kind::kAge: {
      const auto* id = std::get_if<std::string>(&values[c.field]);
      if (!id) return Describe(def, c, scope) + " (" + scope[c.field].name + " is not set)";
      const auto birth = world.BirthOf(*id);
      if (!birth)
        return Describe(def, c, scope) + " (" + *id + " has no date of birth recorded: person update " + *id +
               " --birth YYYY-MM-DD)";
      return Describe(def, c, scope) + " (" + *id + " is " + std::to_string(AgeOn(*birth, now.today)) + ")";
    }
    default: break;
  }
  return Describe(def, c, scope);
}

}  // namespace mentorflow
