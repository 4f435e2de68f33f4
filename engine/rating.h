// A workflow's rating (`rating:` in its YAML): what each instance earns and
// how people rank by it. Pure: storage reads the instances and passes them in.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/model.h"

namespace mentorflow {

// One instance's part in a rating: whose, in which group, how many points.
struct RatingPoints {
  std::string person, group;
  std::int64_t points = 0;
};

// What an instance of `own` (its version) in `state` with `fields` earns
// under the rating of `latest` (the weights in force), read by field name; or
// nullopt when it does not count: not in a counted state, a field not set,
// or a value the latest version does not list.
std::optional<RatingPoints> PointsOf(const Definition& latest, const Definition& own, const std::string& state,
                                     const std::vector<Value>& fields);

struct RatingEntry {
  int rank = 0;
  std::string person;
  std::int64_t score = 0;
  int records = 0;
  double normalised = 0;  // 100 for the best score, the others in proportion
};

// People ranked by the sum of their points, best first. Equal scores share a
// rank and are listed by id (1, 2, 2, 4). Normalised to the best score: 100
// for it, 0 for all when it is 0.
std::vector<RatingEntry> Rank(const std::vector<RatingPoints>& points);

}  // namespace mentorflow
