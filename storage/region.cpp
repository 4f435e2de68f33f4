// The regional centre's reading of the region: the list of institutions and
// their signed annual reports, through the views migration 17 made
// (region_institutions, region_reports), which show them only to a
// transaction within a regional centre.
#include <nlohmann/json.hpp>

#include "storage/internal.h"

namespace mentorflow::storage {

using nlohmann::json;

Status SociStore::IsRegionalCentre(bool* out) {
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    int n = 0;
    *sql_ << "SELECT COUNT(*) FROM regional_centres WHERE institution = " + I(), soci::into(n);
    *out = n > 0;
    return Status::Ok();
  });
}

Status SociStore::ReadRegion(int year, const std::string& actor_id, RegionView* out) {
  if (year < 2000 || year > 2100) return Status::BadInput("--year: a year from 2000 to 2100");
  bool regional = false;
  if (Status s = IsRegionalCentre(&regional); !s.ok()) return s;
  if (!regional)
    return Status(Code::kRefused,
                  "only a regional centre reads the region (init --institution-id ID --regional makes one)", "role");
  return Guard([&]() -> Status {
    if (Status s = CheckActor(actor_id); !s.ok()) return s;
    const Actor actor = LoadActor(actor_id);
    if (!actor.Holds("regional") && !actor.Holds("director"))
      return Status(Code::kRefused, "the region's figures are read by the regional centre's staff (role regional)"
                                    " or its director", "role");
    *out = RegionView{};
    {
      soci::rowset<soci::row> rs =
          (sql_->prepare << "SELECT institution, name FROM region_institutions ORDER BY institution");
      for (const auto& r : rs) out->institutions.push_back({RowText(r, 0), RowText(r, 1)});
    }
    long long y = year;
    soci::rowset<soci::row> rs = (sql_->prepare << "SELECT institution, figures, signed_at FROM region_reports"
                                                   " WHERE year = :y ORDER BY institution",
                                  soci::use(y));
    for (const auto& r : rs) {
      json figures = json::parse(RowText(r, 1), nullptr, false);
      if (figures.is_discarded() || !figures.is_object())
        throw StoredStateError("the annual report of institution " + RowText(r, 0) + " for " + std::to_string(year) +
                               " is not a JSON object");
      out->reports.push_back({RowText(r, 0), RowText(r, 2), std::move(figures)});
    }
    return Status::Ok();
  });
}

}  // namespace mentorflow::storage
