// Fields: their types, bounds, values and titles; list items and the
// reminders an item's own date gives; `distinct`.
#include "engine/loader/loader.h"

namespace mentorflow::loading {

void Loader::ParseItemReminders(const YAML::Node& fields) {
  if (!fields || !fields.IsMap()) return;
  for (auto it = fields.begin(); it != fields.end(); ++it) {
    if (!it->first.IsScalar() || !it->second.IsMap() || !it->second["remind"]) continue;
    const int li = def_.FieldIndex(it->first.Scalar());
    if (li < 0 || def_.fields[li].type != FieldType::kList) continue;  // reported by ParseField
    const YAML::Node n = it->second["remind"];
    if (!IsMap(n, "remind")) continue;
    CheckKeys(n, {"at", "before", "notify", "while", "template", "in"}, "a list's remind");
    ItemReminderDef r;
    r.list_field = li;
    r.mark = M(n);
    const FieldDef& lf = def_.fields[li];
    bool ok = true;
    if (!n["at"]) {
      Error(M(n), msg::MissingKey("at", "a list's remind"));
      ok = false;
    } else if (auto a = Scalar(n["at"], "at")) {
      const FieldDef* f = ResolveField(*a, M(n["at"]), lf.item_fields, &r.at);
      if (!f) ok = false;
      else if (f->type != FieldType::kDate) {
        Error(M(n["at"]), msg::DeadlineFieldNotDate(*a, FieldTypeName(f->type)));
        ok = false;
      }
    }
    if (n["before"]) {
      for (auto& [b, m] : Names(n["before"], "before")) {
        if (auto d = ParseDuration(b)) {
          r.before.push_back(*d);
        } else {
          Error(m, msg::BadDuration(b));
          ok = false;
        }
      }
    }
    if (r.before.empty()) r.before.push_back(Duration{});  // on the day itself
    if (!n["notify"]) {
      Error(M(n), msg::MissingKey("notify", "a list's remind"));
      ok = false;
    }
    if (n["notify"])
      for (auto& [who, m] : Names(n["notify"], "notify"))
        if (CheckRecipient(who, m)) r.notify.push_back(who);
    if (n["while"]) {
      r.while_ = ParseCondition(n["while"], lf.item_fields, 0);
      if (!r.while_) ok = false;
    }
    if (n["template"]) {
      if (auto t = Scalar(n["template"], "template")) r.template_name = *t;
    }
    CheckReminderTemplate(r.template_name, n["template"] ? M(n["template"]) : M(n));
    if (n["in"])  // resolved once the states are read (ResolveItemReminderStates)
      for (auto& [s, m] : Names(n["in"], "in")) {
        r.in_state_names.push_back(s);
        item_reminder_state_marks_.push_back(m);
      }
    if (ok) def_.item_reminders.push_back(std::move(r));
  }
}

void Loader::ResolveItemReminderStates() {
  std::size_t k = 0;
  for (auto& r : def_.item_reminders)
    for (const auto& name : r.in_state_names) {
      const Mark m = k < item_reminder_state_marks_.size() ? item_reminder_state_marks_[k] : r.mark;
      ++k;
      const int s = ResolveState(name, m);
      if (s >= 0) r.in_states.push_back(s);
    }
}

std::optional<FieldDef> Loader::ParseField(const std::string& name, const YAML::Node& key, const YAML::Node& n,
                                   bool in_list, bool for_input) {
  FieldDef f;
  f.name = name;
  f.mark = M(key);
  if (!IsMap(n, "a field")) return std::nullopt;
  CheckKeys(n, kFieldKeys, "a field");
  if (!n["type"]) {
    Error(M(n), msg::MissingKey("type", "field '" + name + "'"));
    return std::nullopt;
  }
  auto t = Scalar(n["type"], "type");
  if (!t) return std::nullopt;
  auto ti = std::find(kTypes.begin(), kTypes.end(), *t);
  if (ti == kTypes.end()) {
    Error(M(n["type"]), msg::Unknown("type", *t, Closest(*t, kTypes)));
    return std::nullopt;
  }
  f.type = static_cast<FieldType>(ti - kTypes.begin());
  if (in_list && (f.type == FieldType::kList || f.type == FieldType::kPerson)) {
    Error(M(n["type"]), msg::BadItemType(*t));
    return std::nullopt;
  }
  if (n["title"]) f.title = Scalar(n["title"], "title").value_or("");
  if (n["required"] && !for_input) f.required = Bool(n["required"], "required").value_or(false);
  if (n["from_parent"]) {
    // from_parent: true (the parent's field of the same name) or FIELD.
    if (in_list || for_input) {
      Error(KeyMark(n, "from_parent"), msg::FromParentPlace());
    } else if (auto v = Scalar(n["from_parent"], "from_parent")) {
      if (*v == "false" || *v == "no") {
      } else if (*v == "true" || *v == "yes") {
        f.from_parent = name;
      } else if (IsIdentifier(*v)) {
        f.from_parent = *v;
      } else {
        Error(M(n["from_parent"]), msg::BadIdentifier(*v, "field"));
      }
    }
  }
  auto only_for = [&](const char* key, FieldType type) {
    if (n[key] && f.type != type) Error(KeyMark(n, key), msg::KeyOnlyFor(key, FieldTypeName(type)));
  };
  only_for("role", FieldType::kPerson);
  only_for("guardian_of", FieldType::kPerson);
  only_for("values", FieldType::kEnum);
  only_for("min", FieldType::kInt);
  only_for("max", FieldType::kInt);
  only_for("item", FieldType::kList);
  only_for("remind", FieldType::kList);
  if (n["targets"] && !parsing_attribute_) Error(KeyMark(n, "targets"), msg::TargetsOnlyOnAttributes());
  if (f.type == FieldType::kPerson) {
    if (!n["role"]) Error(M(n), msg::MissingKey("role", "person field '" + name + "'"));
    // `role: any`: any registered person, whatever their roles (the
    // subject of the operator's duties is anyone whose data is kept).
    else if (auto r = Scalar(n["role"], "role"); r && (*r == "any" || CheckRole(*r, M(n["role"])))) f.role = *r;
  }
  if (f.type == FieldType::kEnum) {
    // values: [a, b] or, with titles people see, values: {a: Title, b: Title}
    const YAML::Node vs = n["values"];
    auto add = [&](const std::string& v, Mark m, std::string title) {
      if (!IsIdentifier(v)) Error(m, msg::BadIdentifier(v, "enum value"));
      else if (std::find(f.values.begin(), f.values.end(), v) != f.values.end())
        Error(m, msg::Duplicate("enum value", v));
      else {
        f.values.push_back(v);
        f.value_titles.push_back(std::move(title));
      }
    };
    if (!vs || (!vs.IsSequence() && !vs.IsMap()) || vs.size() == 0) {
      Error(M(vs, M(n)), msg::EnumNeedsValues(name));
    } else if (vs.IsMap()) {
      for (auto it = vs.begin(); it != vs.end(); ++it) {
        auto v = Scalar(it->first, "values");
        auto t = Scalar(it->second, "value title");
        if (v && t) add(*v, M(it->first), *t);
      }
    } else {
      for (auto& [v, m] : Names(vs, "values")) add(v, m, "");
    }
  }
  if (f.type == FieldType::kInt) {
    if (n["min"]) f.min = Int(n["min"], "min");
    if (n["max"]) f.max = Int(n["max"], "max");
    if (f.min && f.max && *f.min > *f.max) Error(KeyMark(n, "max"), msg::MinAboveMax());
  }
  if (f.type == FieldType::kList) {
    const YAML::Node item = n["item"];
    if (!item) {
      Error(M(n), msg::MissingKey("item", "list field '" + name + "'"));
    } else if (IsMap(item, "item")) {
      for (auto it = item.begin(); it != item.end(); ++it) {
        auto in = Name(it->first, "item field");
        if (!in) continue;
        if (*in == "id") {
          Error(M(it->first), msg::ItemIdReserved());
          continue;
        }
        if (f.ItemFieldIndex(*in) >= 0) {
          Error(M(it->first), msg::Duplicate("item field", *in));
          continue;
        }
        if (auto sub = ParseField(*in, it->first, it->second, true)) f.item_fields.push_back(*sub);
      }
    }
  }
  if (n["default"]) {
    if (f.type == FieldType::kList) {
      Error(KeyMark(n, "default"), msg::ListNoDefault());
    } else if (auto s = Scalar(n["default"], "default")) {
      std::string err;
      auto v = ParseValue(f, *s, &err);
      if (!v) Error(M(n["default"]), msg::BadValue("default of '" + name + "'", err));
      else f.default_value = *v;
    }
  }
  return f;
}

void Loader::ParseFields(const YAML::Node& n) {
  if (!n) return;
  if (!IsMap(n, "fields")) return;
  for (auto it = n.begin(); it != n.end(); ++it) {
    auto name = Name(it->first, "field");
    if (!name) continue;
    if (def_.FieldIndex(*name) >= 0) {
      Error(M(it->first), msg::Duplicate("field", *name));
      continue;
    }
    if (auto f = ParseField(*name, it->first, it->second, false)) def_.fields.push_back(std::move(*f));
  }
  // guardian_of: FIELD names another person field of this workflow.
  for (auto it = n.begin(); it != n.end(); ++it) {
    if (!it->second.IsMap() || !it->second["guardian_of"]) continue;
    auto name = Scalar(it->first, "field");
    auto other = Scalar(it->second["guardian_of"], "guardian_of");
    int self = name ? def_.FieldIndex(*name) : -1;
    if (!other || self < 0 || def_.fields[self].type != FieldType::kPerson) continue;
    int target = PersonField(*other, M(it->second["guardian_of"]));
    if (target == self) Error(M(it->second["guardian_of"]), msg::GuardianOfItself(*name));
    else if (target >= 0) def_.fields[self].guardian_of = target;
  }
}

int Loader::PersonField(const std::string& name, Mark m) {
  int i = def_.FieldIndex(name);
  if (i >= 0 && def_.fields[i].type == FieldType::kPerson) return i;
  if (i >= 0) {
    Error(m, "field '" + name + "' is not a person field (only person fields can be named here)");
    return -1;
  }
  std::vector<std::string> people;
  for (const auto& f : def_.fields)
    if (f.type == FieldType::kPerson) people.push_back(f.name);
  Error(m, msg::Unknown("person field", name, Closest(name, people)));
  return -1;
}

void Loader::ParseDistinct(const YAML::Node& n) {
  if (!n) return;
  auto names = Names(n, "distinct");
  for (auto& [name, m] : names) {
    int i = PersonField(name, m);
    if (i < 0) continue;
    if (std::find(def_.distinct.begin(), def_.distinct.end(), i) != def_.distinct.end())
      Error(m, msg::Duplicate("field in distinct", name));
    else def_.distinct.push_back(i);
  }
  if (names.size() < 2) Error(M(n), msg::DistinctNeedsTwo());
}

}  // namespace mentorflow::loading
