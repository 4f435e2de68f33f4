// `rating:` — the ranking of a workflow's instances per value of an enum
// field, with a weight per kind (and a factor per result) declared here:
//
//   rating:
//     counts: [verified]
//     person: participant
//     per: direction
//     weight: {by: kind, values: {olympiad: 10, hackathon: 6}}
//     factor: {by: result, values: {winner: 3, prize: 2, participant: 1}}
#include <map>

#include "engine/loader/loader.h"

namespace mentorflow::loading {

void Loader::ParseRating(const YAML::Node& n) {
  if (!n || !IsMap(n, "rating")) return;
  CheckKeys(n, {"counts", "person", "per", "weight", "factor"}, "a rating");
  RatingDef r;
  r.mark = M(n);
  bool ok = true;
  for (const char* key : {"counts", "person", "per", "weight"})
    if (!n[key]) {
      Error(M(n), msg::MissingKey(key, "a rating"));
      ok = false;
    }
  if (!ok) return;
  for (auto& [s, m] : Names(n["counts"], "counts")) {
    if (def_.StateIndex(s) < 0) {
      std::vector<std::string> names;
      for (const auto& st : def_.states) names.push_back(st.name);
      Error(m, msg::Unknown("state", s, Closest(s, names)));
      ok = false;
    }
    r.states.push_back(s);
  }
  // A field of the workflow, of type `want`.
  auto field = [&](const YAML::Node& v, std::string_view key, FieldType want, int* index) {
    auto name = Scalar(v, key);
    if (!name) return false;
    const FieldDef* f = ResolveField(*name, M(v), def_.fields, index);
    if (!f) return false;
    if (f->type != want) {
      Error(M(v), msg::RatingFieldType(std::string(key), *name, FieldTypeName(f->type), FieldTypeName(want)));
      return false;
    }
    return true;
  };
  ok = field(n["person"], "person", FieldType::kPerson, &r.person) && ok;
  ok = field(n["per"], "per", FieldType::kEnum, &r.per) && ok;
  // {by: ENUM_FIELD, values: {VALUE: N, ...}}: a whole number from 0 for every value.
  auto table = [&](const YAML::Node& t, std::string_view key, int* by, std::vector<std::int64_t>* out) {
    if (!IsMap(t, key)) return false;
    CheckKeys(t, {"by", "values"}, key == "weight" ? "a rating's weight" : "a rating's factor");
    for (const char* k : {"by", "values"})
      if (!t[k]) {
        Error(M(t), msg::MissingKey(k, std::string("a rating's ") + std::string(key)));
        return false;
      }
    if (!field(t["by"], "by", FieldType::kEnum, by) || !IsMap(t["values"], "values")) return false;
    const FieldDef& f = def_.fields[*by];
    out->assign(f.values.size(), -1);
    bool good = true;
    for (auto it = t["values"].begin(); it != t["values"].end(); ++it) {
      auto v = Scalar(it->first, "values");
      if (!v) return false;
      auto pos = std::find(f.values.begin(), f.values.end(), *v);
      if (pos == f.values.end()) {
        Error(M(it->first), msg::Unknown("value of " + f.name, *v, Closest(*v, f.values)));
        good = false;
        continue;
      }
      auto w = Int(it->second, *v);
      if (!w) {
        good = false;
      } else if (*w < 0 || *w > 1000000) {
        Error(M(it->second), msg::RatingNumber(*v));
        good = false;
      } else {
        (*out)[static_cast<size_t>(pos - f.values.begin())] = *w;
      }
    }
    for (size_t i = 0; i < f.values.size() && good; ++i)
      if ((*out)[i] < 0) {
        Error(M(t["values"]), msg::RatingMissingValue(std::string(key), f.name, f.values[i]));
        good = false;
      }
    return good;
  };
  ok = table(n["weight"], "weight", &r.weight_by, &r.weights) && ok;
  if (n["factor"]) ok = table(n["factor"], "factor", &r.factor_by, &r.factors) && ok;
  if (ok) def_.rating = std::move(r);
}

// attributes:
//   school_type:
//     type: enum
//     values: {rural: Сельская школа, urban: Городская школа, special: Специальная школа}
//     targets:
//       rural: {share: 70, among: [rural, urban]}                  # at least 70% of those
//       urban: {share: 30, compare: at_most, among: [rural, urban]}
//       special: {coverage: 100, counting: school}                 # every school of the kind
//   school: {type: string}
void Loader::ParseAttributes(const YAML::Node& n) {
  if (!n || !IsMap(n, "attributes")) return;
  std::vector<std::pair<std::string, Mark>> counting_marks;
  for (auto it = n.begin(); it != n.end(); ++it) {
    auto name = Name(it->first, "attribute");
    if (!name) continue;
    if (std::any_of(def_.attributes.begin(), def_.attributes.end(),
                    [&](const AttributeDef& a) { return a.field.name == *name; })) {
      Error(M(it->first), msg::Duplicate("attribute", *name));
      continue;
    }
    const YAML::Node a = it->second;  // a copy: the iterator's proxy dies with the expression
    if (!IsMap(a, "an attribute")) continue;
    for (const char* key : {"required", "from_parent", "default", "role", "guardian_of", "item", "remind"})
      if (a[key]) Error(KeyMark(a, key), msg::AttributeKey(key));
    parsing_attribute_ = true;
    auto f = ParseField(*name, it->first, a, false);
    parsing_attribute_ = false;
    if (!f) continue;
    if (f->type == FieldType::kPerson || f->type == FieldType::kList) {
      Error(M(a["type"]), msg::AttributeType(FieldTypeName(f->type)));
      continue;
    }
    AttributeDef attr;
    attr.mark = M(it->first);
    attr.share.assign(f->values.size(), std::nullopt);
    attr.coverage.assign(f->values.size(), std::nullopt);
    bool ok = true;
    if (a["targets"]) {
      const YAML::Node t = a["targets"];
      if (f->type != FieldType::kEnum) {
        Error(KeyMark(a, "targets"), msg::TargetsNeedEnum());
        ok = false;
      } else if (IsMap(t, "targets")) {
        std::map<std::vector<std::string>, std::int64_t> shares;  // by the values they are shares of
        for (auto v = t.begin(); v != t.end(); ++v) {
          auto value = Scalar(v->first, "targets");
          if (!value) continue;
          auto pos = std::find(f->values.begin(), f->values.end(), *value);
          if (pos == f->values.end()) {
            Error(M(v->first), msg::Unknown("value of " + *name, *value, Closest(*value, f->values)));
            ok = false;
            continue;
          }
          const size_t i = static_cast<size_t>(pos - f->values.begin());
          if (!IsMap(v->second, "a target")) continue;
          const YAML::Node tv = v->second;
          CheckKeys(tv, {"share", "coverage", "compare", "among", "counting"}, "a target");
          AttributeTarget base;
          if (tv["compare"]) {
            const auto c = Scalar(tv["compare"], "compare");
            if (c == std::string("at_least")) base.compare = AttributeTarget::Compare::kAtLeast;
            else if (c == std::string("at_most")) base.compare = AttributeTarget::Compare::kAtMost;
            else if (c == std::string("exactly")) base.compare = AttributeTarget::Compare::kExactly;
            else if (c) {
              Error(M(tv["compare"]), msg::Unknown("compare", *c, Closest(*c, {"at_least", "at_most", "exactly"})));
              ok = false;
            }
          }
          if (tv["among"]) {
            if (!tv["share"]) {
              Error(KeyMark(tv, "among"), msg::TargetKeyNeeds("among", "share"));
              ok = false;
            }
            for (auto& [other, m] : Names(tv["among"], "among")) {
              if (std::find(f->values.begin(), f->values.end(), other) == f->values.end()) {
                Error(m, msg::Unknown("value of " + *name, other, Closest(other, f->values)));
                ok = false;
              } else {
                base.among.push_back(other);
              }
            }
            if (!base.among.empty() && std::find(base.among.begin(), base.among.end(), *value) == base.among.end()) {
              Error(KeyMark(tv, "among"), msg::AmongWithoutItself(*value));
              ok = false;
            }
          }
          if (tv["counting"]) {
            if (!tv["coverage"]) {
              Error(KeyMark(tv, "counting"), msg::TargetKeyNeeds("counting", "coverage"));
              ok = false;
            }
            if (auto c = Name(tv["counting"], "counting")) {
              base.counting = *c;
              if (*c == *name) {
                Error(M(tv["counting"]), msg::CountsItself(*name));
                ok = false;
              } else {
                counting_marks.push_back({*c, M(tv["counting"])});
              }
            }
          }
          for (const char* key : {"share", "coverage"}) {
            if (!tv[key]) continue;
            auto pct = Int(tv[key], key);
            if (pct && (*pct < 0 || *pct > 100)) {
              Error(M(tv[key]), msg::TargetPercent(*value));
              ok = false;
            } else if (pct) {
              AttributeTarget target = base;
              target.percent = *pct;
              if (std::string(key) == "share") {
                target.counting.clear();
                // What must be reached at least, out of the same whole, cannot pass 100%.
                if (target.compare != AttributeTarget::Compare::kAtMost) {
                  std::vector<std::string> whole = target.among;
                  std::sort(whole.begin(), whole.end());
                  shares[whole] += *pct;
                }
                attr.share[i] = target;
              } else {
                target.among.clear();
                attr.coverage[i] = target;
              }
            }
          }
        }
        for (const auto& [whole, sum] : shares)
          if (sum > 100) {
            Error(M(t), msg::SharesOver100(sum));
            ok = false;
          }
      }
    }
    attr.field = std::move(*f);
    if (ok) def_.attributes.push_back(std::move(attr));
  }
  // `counting:` names another attribute of this workflow.
  for (const auto& mark : counting_marks) {
    const std::string& counted = mark.first;  // a plain name: C++17 lambdas do not capture bindings
    const Mark m = mark.second;
    std::vector<std::string> names;
    for (const auto& a : def_.attributes) names.push_back(a.field.name);
    const auto a = std::find_if(def_.attributes.begin(), def_.attributes.end(),
                                [&](const AttributeDef& d) { return d.field.name == counted; });
    if (a == def_.attributes.end()) Error(m, msg::Unknown("attribute", counted, Closest(counted, names)));
  }
}

}  // namespace mentorflow::loading
