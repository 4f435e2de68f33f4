// `rating:` — the ranking of a workflow's instances per value of an enum
// field, with a weight per kind (and a factor per result) declared here:
//
//   rating:
//     counts: [verified]
//     person: participant
//     per: direction
//     weight: {by: kind, values: {olympiad: 10, hackathon: 6}}
//     factor: {by: result, values: {winner: 3, prize: 2, participant: 1}}
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

}  // namespace mentorflow::loading
