// `stats monitoring` on the real store (both backends): a cycle's results as
// entered, on time or late, and the change from the cycle before, read from
// history; refusals for a malformed or uncovered period change nothing.
#include <gtest/gtest.h>

#include "tests/store_fixture.h"

namespace mentorflow {
namespace {

class StatsMonitoring : public testing::CliDatabase {};

TEST_P(StatsMonitoring, ACycleHasItsResultsTimelinessAndTheChangeSinceTheOneBefore) {
  auto m = Db("start monitoring --as c1", "2026-12-01");
  ASSERT_EQ(m.code, 0) << m.err;
  const std::string id = m.out.substr(0, m.out.find('\n'));
  // December on time.
  auto dec = Db("send " + id + " submit --as c1 --set report_url=https://example.org/m/12 --set respondents=16"
                " --set quality_score=3 --set pairs_total=6 --set pairs_met_plan=4 --set 'remarks=Мало встреч'",
                "2026-12-15");
  ASSERT_EQ(dec.code, 0) << dec.err;
  ASSERT_EQ(Db("tick", "2026-12-21").code, 0);  // the period closes, May opens
  // May late: overdue on the 21st, in on the 25th.
  ASSERT_EQ(Db("tick", "2027-05-21").code, 0);
  EXPECT_EQ(Json("show " + id, "2027-05-21")["state"], "overdue");
  auto may = Db("send " + id + " submit --as c1 --set report_url=https://example.org/m/05 --set respondents=18"
                " --set quality_score=4 --set pairs_total=6 --set pairs_met_plan=5",
                "2027-05-25");
  ASSERT_EQ(may.code, 0) << may.err;

  auto h1 = Json("stats monitoring --period 2027-H1", "2027-05-26");
  EXPECT_EQ(h1["period"], "2027-H1");
  EXPECT_EQ(h1["due"], "2027-05-20");
  EXPECT_FALSE(h1["on_time"].get<bool>());
  EXPECT_EQ(h1["results"]["respondents"], 18);
  EXPECT_EQ(h1["results"]["quality_score"], 4);
  EXPECT_EQ(h1["results"]["pairs_met_plan"], 5);
  EXPECT_EQ(h1["results"]["remarks"], "Мало встреч") << "unchanged since December, still the period's remark";
  EXPECT_EQ(h1["previous"]["period"], "2026-H2");
  EXPECT_EQ(h1["delta"]["respondents"], 2);
  EXPECT_EQ(h1["delta"]["quality_score"], 1);
  EXPECT_EQ(h1["delta"]["pairs_total"], 0);
  EXPECT_EQ(h1["delta"]["pairs_met_plan"], 1);
  EXPECT_FALSE(h1["delta"].contains("remarks"));

  auto h2 = Json("stats monitoring --period 2026-H2", "2027-05-26");
  EXPECT_EQ(h2["due"], "2026-12-20");
  EXPECT_TRUE(h2["on_time"].get<bool>());
  EXPECT_EQ(h2["results"]["quality_score"], 3);
  EXPECT_TRUE(h2["previous"].is_null());
  EXPECT_TRUE(h2["delta"].empty());

  // A later change does not alter a past cycle.
  ASSERT_EQ(Db("tick", "2027-12-21").code, 0);
  ASSERT_EQ(Db("send " + id + " submit --as c1 --set report_url=x --set respondents=1 --set quality_score=1"
               " --set pairs_total=1 --set pairs_met_plan=0",
               "2027-12-28")
                .code,
            0);
  EXPECT_EQ(Json("stats monitoring --period 2027-H1", "2027-12-29"), h1);

  // The text form says the same in lines.
  auto text = Db("stats monitoring --period 2027-H1", "2027-12-29");
  EXPECT_EQ(text.code, 0);
  EXPECT_NE(text.out.find("monitoring 2027-H1 (due 2027-05-20): submitted"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("late"), std::string::npos);
  EXPECT_NE(text.out.find("respondents: 18  (+2 since 2026-H2)"), std::string::npos) << text.out;

  // Refusals.
  auto bad = Db("stats monitoring --period 2027-H3", "2027-12-29");
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("expected YEAR-H1"), std::string::npos) << bad.err;
  auto none = Db("stats monitoring --period 2025-H1", "2027-12-29");
  EXPECT_EQ(none.code, 2);
  EXPECT_NE(none.err.find("no monitoring report covers 2025-H1"), std::string::npos) << none.err;
  EXPECT_EQ(Db("stats monitoring", "2027-12-29").code, 1);  // --period is required
}

INSTANTIATE_TEST_SUITE_P(Backends, StatsMonitoring, ::testing::Values("sqlite", "postgresql"));

}  // namespace
}  // namespace mentorflow
