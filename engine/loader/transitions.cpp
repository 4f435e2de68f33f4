// Transitions: event, from, to, by, input, and what they set, append or
// update.
#include "engine/loader/loader.h"

namespace mentorflow::loading {

void Loader::PreParseInputs(const YAML::Node& n) {
  if (!n.IsSequence()) return;
  for (const auto& t : n) {
    if (!t.IsMap() || !t["input"] || !t["input"].IsMap()) continue;
    const YAML::Node in = t["input"];
    for (auto it = in.begin(); it != in.end(); ++it) {
      if (!it->first.IsScalar() || !IsIdentifier(it->first.Scalar())) continue;
      const std::string& name = it->first.Scalar();
      if (def_.FieldIndex(name) >= 0) continue;
      if (!it->second.IsMap() || !it->second["type"]) continue;  // reported later
      declared_by_input_.insert(it->second.Mark().pos);
      if (auto f = ParseField(name, it->first, it->second, false, true)) def_.fields.push_back(std::move(*f));
    }
  }
}

void Loader::ParseTransitions(const YAML::Node& n) {
  if (!n.IsSequence()) {
    Error(M(n), msg::Expected("a list of transitions", "transitions"));
    return;
  }
  for (const auto& t : n) {
    if (!Spend(t) || !IsMap(t, "a transition")) continue;
    ParseTransition(t);
  }
}

void Loader::ParseTransition(const YAML::Node& t) {
  CheckKeys(t, kTransitionKeys, "a transition");
  TransitionDef tr;
  tr.mark = M(t);
  bool ok = true;
  if (!t["on"]) {
    Error(M(t), msg::MissingKey("on", "a transition"));
    ok = false;
  } else if (auto e = Name(t["on"], "event")) {
    tr.event = *e;
  } else {
    ok = false;
  }
  if (!t["from"]) {
    Error(M(t), msg::MissingKey("from", "a transition"));
    ok = false;
  } else {
    for (auto& [s, m] : Names(t["from"], "from")) {
      int si = ResolveState(s, m);
      if (si < 0) ok = false;
      else tr.from.push_back(si);
    }
  }
  if (t["to"]) {
    if (auto s = Scalar(t["to"], "to")) {
      tr.to = ResolveState(*s, M(t["to"]));
      if (tr.to < 0) ok = false;
    }
  }
  if (!t["by"]) {
    Error(M(t), msg::MissingKey("by", "a transition"));
    ok = false;
  } else {
    for (auto& [r, m] : Names(t["by"], "by")) {
      if (CheckRole(r, m, true)) tr.by.push_back(r);
      else ok = false;
    }
  }
  if (t["not_by"]) {  // the actor must be someone other than this field's person
    if (auto name = Scalar(t["not_by"], "not_by")) {
      int fi = -1;
      const FieldDef* f = ResolveField(*name, M(t["not_by"]), def_.fields, &fi);
      if (!f) {
        ok = false;
      } else if (f->type != FieldType::kPerson) {
        Error(M(t["not_by"]), msg::NotByPerson(*name, FieldTypeName(f->type)));
        ok = false;
      } else {
        tr.not_by = fi;
      }
    }
  }
  if (t["title"]) tr.title = Scalar(t["title"], "title").value_or("");
  if (t["when"]) {
    auto c = ParseCondition(t["when"], def_.fields, 0);
    if (!c) ok = false;
    else tr.when = std::move(*c);
  }
  if (t["check"]) {  // on the fields as the transition leaves them
    auto c = ParseCondition(t["check"], def_.fields, 0);
    if (!c) ok = false;
    else tr.check = std::move(*c);
  }
  if (t["append"] && t["update"]) {
    Error(M(t), msg::AppendAndUpdate());
    ok = false;
  }
  for (const char* key : {"append", "update"}) {
    if (!t[key]) continue;
    if (t["input"]) {
      Error(KeyMark(t, "input"), msg::InputWithListOp(key));
      ok = false;
    }
    auto name = Scalar(t[key], key);
    if (!name) continue;
    int fi = -1;
    const FieldDef* f = ResolveField(*name, M(t[key]), def_.fields, &fi);
    if (!f) {
      ok = false;
    } else if (f->type != FieldType::kList) {
      Error(M(t[key]), msg::NotAList(*name, FieldTypeName(f->type)));
      ok = false;
    } else {
      (std::string_view(key) == "append" ? tr.append_list : tr.update_list) = fi;
    }
  }
  if (t["item"]) {
    // item: {F: VALUE}: what an appended or updated record gets, whatever
    // the input says (a mentee's proposal is always 'proposed').
    const int li = tr.append_list >= 0 ? tr.append_list : tr.update_list;
    if (li < 0) {
      Error(KeyMark(t, "item"), msg::ItemWithoutListOp());
      ok = false;
    } else if (IsMap(t["item"], "item")) {
      const FieldDef& lf = def_.fields[li];
      for (auto it = t["item"].begin(); it != t["item"].end(); ++it) {
        auto name = Scalar(it->first, "item");
        auto text = Scalar(it->second, "item");
        if (!name || !text) {
          ok = false;
          continue;
        }
        int k = -1;
        const FieldDef* f = ResolveField(*name, M(it->first), lf.item_fields, &k);
        if (!f) {
          ok = false;
          continue;
        }
        std::string err;
        auto v = ParseValue(*f, *text, &err);
        if (!v) {
          Error(M(it->second), msg::BadInputValue(*name, err));
          ok = false;
          continue;
        }
        tr.item_set.push_back({k, *v});
      }
    }
  }
  if (t["flag_changes"]) {
    // flag_changes: {F: G}: an update changing the record's F sets its bool G.
    if (tr.update_list < 0) {
      Error(KeyMark(t, "flag_changes"), msg::FlagChangesWithoutUpdate());
      ok = false;
    } else if (IsMap(t["flag_changes"], "flag_changes")) {
      const FieldDef& lf = def_.fields[tr.update_list];
      for (auto it = t["flag_changes"].begin(); it != t["flag_changes"].end(); ++it) {
        auto watched = Scalar(it->first, "flag_changes");
        auto flag = Scalar(it->second, "flag_changes");
        if (!watched || !flag) {
          ok = false;
          continue;
        }
        int f = -1, g = -1;
        const FieldDef* wf = ResolveField(*watched, M(it->first), lf.item_fields, &f);
        const FieldDef* gf = ResolveField(*flag, M(it->second), lf.item_fields, &g);
        if (!wf || !gf) {
          ok = false;
          continue;
        }
        if (gf->type != FieldType::kBool) {
          Error(M(it->second), msg::FlagNotBool(*flag, std::string(FieldTypeName(gf->type))));
          ok = false;
          continue;
        }
        tr.flag_changes.push_back({f, g});
      }
    } else {
      ok = false;
    }
  }
  if (t["input"]) ok = ParseInput(t["input"], tr) && ok;
  if (t["set"]) ok = ParseSet(t["set"], tr) && ok;
  if (ok) def_.transitions.push_back(std::move(tr));
}

bool Loader::ParseInput(const YAML::Node& n, TransitionDef& tr) {
  if (!IsMap(n, "input")) return false;
  bool ok = true;
  for (auto it = n.begin(); it != n.end(); ++it) {
    auto name = Name(it->first, "input");
    if (!name) {
      ok = false;
      continue;
    }
    const YAML::Node b = it->second;
    InputDef in;
    in.field = def_.FieldIndex(*name);
    if (in.field < 0) {
      Error(M(it->first), msg::InputNeedsType(*name));
      ok = false;
      continue;
    }
    const FieldDef& f = def_.fields[in.field];
    if (f.type == FieldType::kList) {
      Error(M(it->first), msg::ListInput(*name));
      ok = false;
      continue;
    }
    if (b && !b.IsNull()) {
      if (!IsMap(b, "an input")) {
        ok = false;
        continue;
      }
      if (!declared_by_input_.count(b.Mark().pos)) CheckKeys(b, kFieldKeys, "an input");
      if (b["type"]) {
        auto ty = Scalar(b["type"], "type");
        if (ty && *ty != FieldTypeName(f.type)) {
          Error(M(b["type"]), msg::InputTypeMismatch(*name, *ty, FieldTypeName(f.type)));
          ok = false;
        }
      }
      if (b["required"]) in.required = Bool(b["required"], "required").value_or(false);
    }
    tr.input.push_back(in);
  }
  return ok;
}

bool Loader::ParseSet(const YAML::Node& n, TransitionDef& tr) {
  if (!IsMap(n, "set")) return false;
  bool ok = true;
  for (auto it = n.begin(); it != n.end(); ++it) {
    auto name = Scalar(it->first, "set");
    if (!name) continue;
    Assignment a;
    const FieldDef* f = ResolveField(*name, M(it->first), def_.fields, &a.field);
    if (!f) {
      ok = false;
      continue;
    }
    if (f->type == FieldType::kList) {
      Error(M(it->first), msg::ListInput(*name));
      ok = false;
      continue;
    }
    const YAML::Node v = it->second;
    // A computed value: {KEY: SOURCE_FIELD}, the source and the target of set types.
    struct Computed {
      const char* key;
      const char* what;
      int Assignment::*source;
      FieldType from, to;
      std::string (*message)(const std::string&, const std::string&);
    };
    static const Computed kComputed[] = {
        {"today_plus_months", "a computed date", &Assignment::today_plus_months, FieldType::kInt, FieldType::kDate,
         msg::TodayPlusMonths},
        {"year_of", "a computed year", &Assignment::year_of, FieldType::kDate, FieldType::kInt, msg::YearOf}};
    const Computed* computed = nullptr;
    for (const auto& c : kComputed)
      if (v.IsMap() && v[c.key]) computed = &c;
    if (computed) {
      CheckKeys(v, {computed->key}, computed->what);
      auto src = Scalar(v[computed->key], computed->key);
      if (!src) {
        ok = false;
        continue;
      }
      const FieldDef* sf = ResolveField(*src, M(v[computed->key]), def_.fields, &(a.*(computed->source)));
      if (!sf) {
        ok = false;
      } else if (sf->type != computed->from || f->type != computed->to) {
        Error(M(v[computed->key]), computed->message(*src, *name));
        ok = false;
      }
    } else if (v.IsMap()) {
      CheckKeys(v, {"field"}, "a copied value");
      auto src = Scalar(v["field"], "field");
      if (!src) {
        ok = false;
        continue;
      }
      const FieldDef* sf = ResolveField(*src, M(v["field"]), def_.fields, &a.from_field);
      if (!sf) {
        ok = false;
      } else if (sf->type != f->type || (f->type == FieldType::kEnum && sf->values != f->values)) {
        Error(M(v["field"]), msg::CopyTypeMismatch(*src, *name));
        ok = false;
      }
    } else if (auto text = Scalar(v, "set")) {
      std::string err;
      auto val = ParseValue(*f, *text, &err);
      if (!val) {
        Error(M(v), msg::BadValue("'" + *name + "'", err));
        ok = false;
      } else {
        a.constant = *val;
      }
    }
    tr.set.push_back(std::move(a));
  }
  return ok;
}

}  // namespace mentorflow::loading
