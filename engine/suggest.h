// "Did you mean": the closest of some names to a word that is none of them,
// for the loader's unknown keys and names and dispatch's unknown events.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mentorflow {

size_t EditDistance(std::string_view a, std::string_view b);

// The closest candidate, if close enough to be a likely typo; "" if none.
std::string Closest(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace mentorflow
