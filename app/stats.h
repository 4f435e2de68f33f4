// `mentorflow stats monitoring --period YYYY-H1|H2`: one monitoring cycle's
// results as the curator entered them with the report, whether it came on
// time, and the change from the cycle before. Read from history, so a past
// cycle reads the same after later changes.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <yaml-cpp/yaml.h>

#include "app/context.h"
#include "storage/store.h"

namespace mentorflow::app {

// TEMPLATES/stats/titles.yaml: the titles of the figures (`annual:`), of
// the charts and of the region's roll-up (`region:`).
Status LoadFigureTitles(const std::string& templates_dir, YAML::Node* out);
// "Пар в форме «{}»" with {} replaced by `title` (appended when absent).
std::string FillTitle(const std::string& pattern, const std::string& title);

// "2027-H1" is the cycle due on a date in January–June 2027 (20 May), "H2"
// the one due in July–December (20 December). Fills `out` with {period,
// due, submitted, on_time, instance, results, previous, delta}; refused with
// BadInput for a malformed period, NotFound when no report covers it.
Status MonitoringSummary(Store& store, const std::string& period, nlohmann::json* out);

// `mentorflow stats annual --year Y --format json|csv|html|text`: the year's
// figures (Store::AnnualStatistics) as JSON, as CSV (a header row, then one
// figure per row: key, Russian title, value), as a print-ready HTML page
// with inline SVG bar charts (templates/stats/annual.mustache), or as text.
// Titles come from TEMPLATES/stats/titles.yaml and the workflow's YAML.
Status AnnualReport(Store& store, const std::string& templates_dir, int year, const Now& now,
                    const std::string& format, std::string* out);

// `stats annual --year Y --by ATTRIBUTE --format json|csv|text`: every
// figure of AnnualReport per value of a person attribute (a pair under its
// mentee's value), with the total, and each target the attribute declares:
// the value's share of the year's mentees, or its coverage (mentees in pairs
// of those registered as mentees with the value), and whether it is met.
Status AnnualBreakdownReport(Store& store, const std::string& templates_dir, int year, const std::string& attribute,
                             const Now& now, const std::string& format, std::string* out);

// `stats rating --direction D`: the ranking of a workflow's rating; names
// for a curator or moderator (their read recorded), ids for anyone else.
Result<Store::RatingReport> Ranking(Context& ctx, const std::string& workflow, const std::string& group);

}  // namespace mentorflow::app
