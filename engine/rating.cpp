#include "engine/rating.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace mentorflow {

namespace {

// The index of the value `own`'s field `name` holds among `latest_field`'s
// values, or -1.
int ValueIndex(const Definition& own, const std::vector<Value>& fields, const FieldDef& latest_field) {
  int fi = own.FieldIndex(latest_field.name);
  if (fi < 0) return -1;
  const auto* v = std::get_if<std::string>(&fields[static_cast<size_t>(fi)]);
  if (!v) return -1;
  auto it = std::find(latest_field.values.begin(), latest_field.values.end(), *v);
  return it == latest_field.values.end() ? -1 : static_cast<int>(it - latest_field.values.begin());
}

}  // namespace

std::optional<RatingPoints> PointsOf(const Definition& latest, const Definition& own, const std::string& state,
                                     const std::vector<Value>& fields) {
  if (!latest.rating) return std::nullopt;
  const RatingDef& r = *latest.rating;
  if (std::find(r.states.begin(), r.states.end(), state) == r.states.end()) return std::nullopt;
  int person = own.FieldIndex(latest.fields[r.person].name);
  const auto* who = person < 0 ? nullptr : std::get_if<std::string>(&fields[static_cast<size_t>(person)]);
  const int group = ValueIndex(own, fields, latest.fields[r.per]);
  const int kind = ValueIndex(own, fields, latest.fields[r.weight_by]);
  if (!who || group < 0 || kind < 0) return std::nullopt;
  std::int64_t points = r.weights[static_cast<size_t>(kind)];
  if (r.factor_by >= 0) {
    const int result = ValueIndex(own, fields, latest.fields[r.factor_by]);
    if (result < 0) return std::nullopt;
    points *= r.factors[static_cast<size_t>(result)];
  }
  return RatingPoints{*who, latest.fields[r.per].values[static_cast<size_t>(group)], points};
}

std::vector<RatingEntry> Rank(const std::vector<RatingPoints>& points) {
  std::map<std::string, RatingEntry> by_person;
  for (const auto& p : points) {
    RatingEntry& e = by_person[p.person];
    e.person = p.person;
    e.score += p.points;
    ++e.records;
  }
  std::vector<RatingEntry> out;
  for (auto& [id, e] : by_person) out.push_back(std::move(e));
  std::stable_sort(out.begin(), out.end(), [](const RatingEntry& a, const RatingEntry& b) { return a.score > b.score; });
  const std::int64_t best = out.empty() ? 0 : out.front().score;
  for (size_t i = 0; i < out.size(); ++i) {
    out[i].rank = i > 0 && out[i].score == out[i - 1].score ? out[i - 1].rank : static_cast<int>(i) + 1;
    out[i].normalised = best > 0 ? std::round(1000.0 * static_cast<double>(out[i].score) / static_cast<double>(best)) / 10.0 : 0;
  }
  return out;
}

}  // namespace mentorflow
