// `mentorflow region rollup --year Y`: the regional centre's view of the
// region for a year (issue 27). Which institutions have sent their annual
// report (signed by their director: the document of annual_report), which
// are late (none signed after 30 December of the year), and the sum of the
// signed reports, by institution and in total.
//
// No published count is below 5: such a cell reads «менее 5» (the words
// come from templates/stats/titles.yaml), and so does at least one more
// cell of every line it could be recovered from (secondary suppression): a
// column and its total over the institutions, and within a row a breakdown
// and the figure it adds up to (pairs by form, by kind, terminations by
// ground, monitoring by timeliness).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "app/context.h"

namespace mentorflow::app {

// A line of cells whose last one is the sum of the others.
using SuppressionLine = std::vector<std::pair<std::size_t, std::size_t>>;  // (row, column)

// Which cells of `cells` to withhold: those below `threshold`, then, until
// none is left, one more (the smallest published, a part before the total)
// in each line with exactly one withheld cell.
std::vector<std::vector<bool>> Suppress(const std::vector<std::vector<long long>>& cells,
                                        const std::vector<SuppressionLine>& lines, long long threshold = 5);

struct Rollup {
  int year = 0;
  std::string today;  // YYYY-MM-DD: late means no signed report after 30 December of `year`
  struct Column {
    std::string key, title;  // "pairs.formed", "by_form.virtual", ...
  };
  std::vector<Column> columns;
  struct Line {
    std::string id, name;     // id empty: the region's total
    bool submitted = false, late = false;
    std::string signed_on;    // YYYY-MM-DD in the centre's zone
    std::vector<long long> values;  // per column; empty when not submitted
    std::vector<bool> hidden;       // per column: published as «менее 5»
  };
  std::vector<Line> institutions;  // every institution of the region, by id
  Line total;                      // the sum of the submitted
  int submitted = 0, late = 0, pending = 0;
  nlohmann::json titles;  // titles.yaml's `region:` (status words, headings)
};

// Refused unless the context is a regional centre and its actor holds the
// role regional or director there.
Result<Rollup> RegionRollup(Context& ctx, int year);

// What a person reads of a line: a count, or «менее 5» when withheld ("" for
// an institution that has not sent); and its status («подписаны 11.12.2026»,
// late, not yet due). The words come from titles.yaml's `region:`.
std::string Cell(const Rollup& r, const Rollup::Line& line, std::size_t column);
std::string StatusText(const Rollup& r, const Rollup::Line& line);

// The roll-up as files: csv (one row per institution, then the total),
// xlsx (the same table, numbers as numbers), html (the document for the
// regional centre's director: the region's totals and who has sent), odt
// and pdf (that document). `out` is the text for csv and html; for the
// others the file is written at `path`.
Status RollupFile(const Context& ctx, const Rollup& r, const std::string& format, const std::string& path,
                  std::string* out);

// The same as bytes to send: content type and a file name ("region-2026.csv").
struct RollupDownload {
  std::string bytes, content_type, filename;
};
Result<RollupDownload> RollupBytes(const Context& ctx, const Rollup& r, const std::string& format);

}  // namespace mentorflow::app
