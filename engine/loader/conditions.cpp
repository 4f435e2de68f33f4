// Conditions: the `when:` of a transition, `start_when:`, `count:` and
// comparisons, with their depth bounded.
#include "engine/loader/loader.h"

namespace mentorflow::loading {

std::optional<Condition> Loader::ParseCondition(const YAML::Node& n, const std::vector<FieldDef>& scope, int depth) {
  if (!Spend(n)) return std::nullopt;
  if (depth > kMaxConditionDepth) {
    Error(M(n), msg::ConditionTooDeep(kMaxConditionDepth));
    return std::nullopt;
  }
  if (!IsMap(n, "a condition")) return std::nullopt;
  Condition c;
  c.mark = M(n);
  static const std::vector<std::string> kinds = {"field", "present", "all", "any", "not", "signed",
                                                 "consent", "children", "count", "every", "age"};
  std::vector<std::string> found;
  for (const auto& k : kinds)
    if (n[k]) found.push_back(k);
  if (found.size() != 1) {
    std::vector<std::string> keys;
    for (auto it = n.begin(); it != n.end(); ++it)
      if (it->first.IsScalar()) keys.push_back(it->first.Scalar());
    std::string hint = keys.empty() ? "" : Closest(keys.front(), kinds);
    Error(M(n), found.empty() ? msg::ConditionKindMissing(hint) : msg::ConditionKindMany(found));
    return std::nullopt;
  }
  const std::string& kind = found.front();
  if (kind == "field") return ParseCompare(n, scope, c);
  if (kind == "present") {
    CheckKeys(n, {"present"}, "a condition");
    c.kind = Condition::Kind::kPresent;
    auto f = Scalar(n["present"], "present");
    if (!f || !ResolveField(*f, M(n["present"]), scope, &c.field)) return std::nullopt;
    return c;
  }
  if (kind == "all" || kind == "any") {
    CheckKeys(n, {kind}, "a condition");
    c.kind = kind == "all" ? Condition::Kind::kAll : Condition::Kind::kAny;
    const YAML::Node l = n[kind];
    if (!l.IsSequence() || l.size() == 0) {
      Error(M(l), msg::Expected("a non-empty list of conditions", kind));
      return std::nullopt;
    }
    bool ok = true;
    for (const auto& e : l) {
      auto sub = ParseCondition(e, scope, depth + 1);
      if (!sub) ok = false;
      else c.children.push_back(std::move(*sub));
    }
    if (!ok) return std::nullopt;
    return c;
  }
  if (kind == "not") {
    CheckKeys(n, {"not"}, "a condition");
    c.kind = Condition::Kind::kNot;
    auto sub = ParseCondition(n["not"], scope, depth + 1);
    if (!sub) return std::nullopt;
    c.children.push_back(std::move(*sub));
    return c;
  }
  if (kind == "signed") {
    CheckKeys(n, {"signed"}, "a condition");
    c.kind = Condition::Kind::kSigned;
    auto d = Scalar(n["signed"], "signed");
    if (!d) return std::nullopt;
    c.document = ResolveDocument(*d, M(n["signed"]));
    if (c.document < 0) return std::nullopt;
    return c;
  }
  if (kind == "consent") {
    CheckKeys(n, {"consent", "purpose"}, "a condition");
    c.kind = Condition::Kind::kConsent;
    if (n["purpose"]) {  // {consent: [f], purpose: selection}: another purpose than the workflow's
      auto p = Name(n["purpose"], "purpose");
      if (!p) return std::nullopt;
      c.purpose = *p;
    }
    bool ok = true;
    for (auto& [f, m] : Names(n["consent"], "consent")) {
      int fi = -1;
      const FieldDef* fd = ResolveField(f, m, def_.fields, &fi);
      if (!fd) {
        ok = false;
      } else if (fd->type != FieldType::kPerson) {
        Error(m, msg::ConsentNeedsPerson(f, FieldTypeName(fd->type)));
        ok = false;
      } else {
        c.person_fields.push_back(fi);
      }
    }
    if (!ok || c.person_fields.empty()) return std::nullopt;
    return c;
  }
  if (kind == "age") {  // {age: PERSON_FIELD, ge: 14}
    static const std::vector<std::string> ops = {"eq", "lt", "le", "gt", "ge"};
    std::vector<std::string> allowed = ops;
    allowed.push_back("age");
    CheckKeys(n, allowed, "a condition");
    c.kind = Condition::Kind::kAge;
    auto f = Scalar(n["age"], "age");
    if (!f) return std::nullopt;
    const FieldDef* fd = ResolveField(*f, M(n["age"]), scope, &c.field);
    if (!fd) return std::nullopt;
    if (fd->type != FieldType::kPerson) {
      Error(M(n["age"]), msg::AgeNeedsPerson(*f, FieldTypeName(fd->type)));
      return std::nullopt;
    }
    int nops = 0;
    for (size_t i = 0; i < ops.size(); ++i) {
      if (!n[ops[i]]) continue;
      ++nops;
      c.op = i == 0 ? CompareOp::kEq : static_cast<CompareOp>(i + 1);
      auto years = Int(n[ops[i]], ops[i]);
      if (!years) return std::nullopt;
      if (*years < 0 || *years > 150) {
        Error(M(n[ops[i]]), msg::AgeRange(*years));
        return std::nullopt;
      }
      c.number = *years;
    }
    if (nops != 1) {
      Error(M(n), msg::AgeNeedsOneBound());
      return std::nullopt;
    }
    return c;
  }
  if (kind == "children") {
    CheckKeys(n, {"children", "all_in", "some_in", "min"}, "a condition");
    c.kind = Condition::Kind::kChildren;
    auto w = Name(n["children"], "children");
    if (!w) return std::nullopt;
    c.workflow = *w;
    if (!n["all_in"] == !n["some_in"]) {
      Error(M(n), msg::MissingKey("all_in (every child) or some_in (at least min)", "a children condition"));
      return std::nullopt;
    }
    c.some = static_cast<bool>(n["some_in"]);
    const char* key = c.some ? "some_in" : "all_in";
    for (auto& [s, m] : Names(n[key], key)) {
      c.states.push_back(s);
      cross_refs_.push_back({c.workflow, s, m, ""});
    }
    cross_refs_.push_back({c.workflow, "", M(n["children"]), ""});
    if (n["min"]) c.number = Int(n["min"], "min").value_or(0);
    return c;
  }
  if (kind == "count") {
    c.kind = Condition::Kind::kCount;
    const YAML::Node q = n["count"];
    if (!IsMap(q, "count")) return std::nullopt;
    CheckKeys(q, {"workflow", "where", "state_in"}, "a count");
    static const std::vector<std::string> ops = {"eq", "lt", "le", "gt", "ge"};
    std::vector<std::string> allowed = ops;
    allowed.push_back("count");
    CheckKeys(n, allowed, "a condition");
    auto w = Name(q["workflow"], "workflow");
    if (!w) return std::nullopt;
    c.workflow = *w;
    cross_refs_.push_back({c.workflow, "", M(q["workflow"]), ""});
    if (q["state_in"])
      for (auto& [s, m] : Names(q["state_in"], "state_in")) {
        c.states.push_back(s);
        cross_refs_.push_back({c.workflow, s, m, ""});
      }
    if (q["where"] && IsMap(q["where"], "where")) {
      for (auto it = q["where"].begin(); it != q["where"].end(); ++it) {
        auto k = Scalar(it->first, "where");
        if (!k) return std::nullopt;
        if (it->second.IsMap()) {  // {F: {field: G}}: equal to this instance's G
          CheckKeys(it->second, {"field"}, "a where");
          auto g = Scalar(it->second["field"], "field");
          int own = -1;
          if (!g || !ResolveField(*g, M(it->second["field"]), scope, &own)) return std::nullopt;
          c.where_fields.push_back({*k, own});
          CrossRef ref{c.workflow, "", M(it->first), ""};
          ref.field = *k;
          ref.own_type = scope[own].type;
          ref.own_values = scope[own].values;
          cross_refs_.push_back(std::move(ref));
          continue;
        }
        auto v = Scalar(it->second, "where");
        if (!v) return std::nullopt;
        c.where.push_back({*k, *v});
        cross_refs_.push_back({c.workflow, "", M(it->first), *k + "=" + *v});
      }
    }
    int nops = 0;
    for (size_t i = 0; i < ops.size(); ++i) {
      if (!n[ops[i]]) continue;
      ++nops;
      c.op = i == 0 ? CompareOp::kEq : static_cast<CompareOp>(i + 1);
      if (n[ops[i]].IsMap()) {  // {table: T, row: F, column: C}
        const YAML::Node b = n[ops[i]];
        CheckKeys(b, {"table", "row", "column"}, "a table bound");
        Condition::TableBound tb;
        for (const char* key : {"table", "row", "column"})
          if (!b[key]) {
            Error(M(b), msg::MissingKey(key, "a table bound"));
            return std::nullopt;
          }
        auto t = Name(b["table"], "table");
        auto row = Scalar(b["row"], "row");
        auto col = Name(b["column"], "column");
        if (!t || !row || !col) return std::nullopt;
        const FieldDef* rf = ResolveField(*row, M(b["row"]), scope, &tb.row_field);
        if (!rf) return std::nullopt;
        if (rf->type != FieldType::kString && rf->type != FieldType::kEnum && rf->type != FieldType::kInt) {
          Error(M(b["row"]), msg::TableRowType(*row, FieldTypeName(rf->type)));
          return std::nullopt;
        }
        tb.table = *t;
        tb.column = *col;
        table_refs_.push_back({*t, *col, M(b["table"]), M(b["column"])});
        c.bound = std::move(tb);
      } else {
        c.number = Int(n[ops[i]], ops[i]).value_or(0);
      }
    }
    if (nops != 1) {
      Error(M(n), msg::CountNeedsOneBound());
      return std::nullopt;
    }
    return c;
  }
  // every
  CheckKeys(n, {"every", "match"}, "a condition");
  c.kind = Condition::Kind::kEvery;
  auto l = Scalar(n["every"], "every");
  if (!l) return std::nullopt;
  const FieldDef* lf = ResolveField(*l, M(n["every"]), scope, &c.field);
  if (!lf) return std::nullopt;
  if (lf->type != FieldType::kList) {
    Error(M(n["every"]), msg::NotAList(*l, FieldTypeName(lf->type)));
    return std::nullopt;
  }
  if (!n["match"]) {
    Error(M(n), msg::MissingKey("match", "an every condition"));
    return std::nullopt;
  }
  auto sub = ParseCondition(n["match"], lf->item_fields, depth + 1);
  if (!sub) return std::nullopt;
  c.children.push_back(std::move(*sub));
  return c;
}

std::optional<Condition> Loader::ParseCompare(const YAML::Node& n, const std::vector<FieldDef>& scope, Condition& c) {
  c.kind = Condition::Kind::kCompare;
  std::vector<std::string> allowed = kCompareOps;
  allowed.push_back("field");
  CheckKeys(n, allowed, "a condition");
  auto name = Scalar(n["field"], "field");
  if (!name) return std::nullopt;
  const FieldDef* f = ResolveField(*name, M(n["field"]), scope, &c.field);
  if (!f) return std::nullopt;
  int nops = 0;
  std::string op;
  for (size_t i = 0; i < kCompareOps.size(); ++i)
    if (n[kCompareOps[i]]) {
      ++nops;
      op = kCompareOps[i];
      c.op = static_cast<CompareOp>(i);
    }
  if (nops != 1) {
    Error(M(n), msg::CompareNeedsOneOp());
    return std::nullopt;
  }
  if (f->type == FieldType::kList) {
    Error(M(n["field"]), msg::CompareList(*name));
    return std::nullopt;
  }
  bool ordered = f->type == FieldType::kInt || f->type == FieldType::kDate || f->type == FieldType::kDateTime;
  if (!ordered && c.op != CompareOp::kEq && c.op != CompareOp::kNe && c.op != CompareOp::kIn) {
    Error(M(n[op]), msg::CannotOrder(*name, FieldTypeName(f->type), op));
    return std::nullopt;
  }
  auto parse = [&](const YAML::Node& v) -> std::optional<Value> {
    auto text = Scalar(v, op);
    if (!text) return std::nullopt;
    std::string err;
    auto val = ParseValue(*f, *text, &err);
    if (!val) Error(M(v), msg::ConditionType(*name, FieldTypeName(f->type), err));
    return val;
  };
  if (c.op == CompareOp::kIn) {
    const YAML::Node l = n["in"];
    if (!l.IsSequence() || l.size() == 0) {
      Error(M(l), msg::Expected("a non-empty list of values", "in"));
      return std::nullopt;
    }
    bool ok = true;
    for (const auto& e : l) {
      auto v = parse(e);
      if (!v) ok = false;
      else c.constants.push_back(*v);
    }
    if (!ok) return std::nullopt;
  } else if (n[op].IsMap()) {  // {field: G}: another field of the same scope
    CheckKeys(n[op], {"field"}, "a compared field");
    auto other = Scalar(n[op]["field"], "field");
    if (!other) return std::nullopt;
    const FieldDef* g = ResolveField(*other, M(n[op]["field"]), scope, &c.operand_field);
    if (!g) return std::nullopt;
    const bool days = (f->type == FieldType::kDate || f->type == FieldType::kDateTime) &&
                      (g->type == FieldType::kDate || g->type == FieldType::kDateTime);
    if (!days && (g->type != f->type || (f->type == FieldType::kEnum && g->values != f->values))) {
      Error(M(n[op]["field"]), msg::CompareFieldTypes(*name, FieldTypeName(f->type), *other, FieldTypeName(g->type)));
      return std::nullopt;
    }
    c.operand = Condition::Operand::kField;
  } else if (n[op].IsScalar() && (n[op].Scalar() == "today" || n[op].Scalar() == "now") &&
             (f->type == FieldType::kDate || f->type == FieldType::kDateTime)) {
    if (n[op].Scalar() == "now" && f->type == FieldType::kDate) {
      Error(M(n[op]), msg::NowOnDate(*name));
      return std::nullopt;
    }
    c.operand = n[op].Scalar() == "today" ? Condition::Operand::kToday : Condition::Operand::kNow;
  } else {
    auto v = parse(n[op]);
    if (!v) return std::nullopt;
    c.constant = *v;
  }
  return c;
}

}  // namespace mentorflow::loading
