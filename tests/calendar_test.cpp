#include "engine/calendar.h"

#include <gtest/gtest.h>

namespace mentorflow {
namespace {

Date D(const char* s) { return *ParseDate(s); }

TEST(Calendar_Duration, ParsesWordsAndIso) {
  EXPECT_EQ(*ParseDuration("14 days"), (Duration{0, 0, 14}));
  EXPECT_EQ(*ParseDuration("1 day"), (Duration{0, 0, 1}));
  EXPECT_EQ(*ParseDuration("2 weeks"), (Duration{0, 0, 14}));
  EXPECT_EQ(*ParseDuration("9 months"), (Duration{0, 9, 0}));
  EXPECT_EQ(*ParseDuration("1 year"), (Duration{1, 0, 0}));
  EXPECT_EQ(*ParseDuration("1 year 2 months"), (Duration{1, 2, 0}));
  EXPECT_EQ(*ParseDuration("P14D"), (Duration{0, 0, 14}));
  EXPECT_EQ(*ParseDuration("P1Y2M10D"), (Duration{1, 2, 10}));
  EXPECT_EQ(*ParseDuration("P2W"), (Duration{0, 0, 14}));
}

TEST(Calendar_Duration, RefusesMalformed) {
  for (const char* bad : {"", "14", "days", "14 dayz", "-3 days", "P", "P1X", "PT5H", "P1D2M", "1.5 days", "14days x"})
    EXPECT_FALSE(ParseDuration(bad).has_value()) << bad;
}

TEST(Calendar_AddMonths, ClampsToTheLastDayOfTheMonth) {
  EXPECT_EQ(AddDuration(D("2026-01-31"), {0, 1, 0}), D("2026-02-28"));
  EXPECT_EQ(AddDuration(D("2028-01-31"), {0, 1, 0}), D("2028-02-29"));  // leap year
  EXPECT_EQ(AddDuration(D("2026-03-31"), {0, 1, 0}), D("2026-04-30"));
  EXPECT_EQ(AddDuration(D("2026-09-01"), {0, 9, 0}), D("2027-06-01"));
  EXPECT_EQ(AddDuration(D("2028-02-29"), {1, 0, 0}), D("2029-02-28"));
  EXPECT_EQ(AddDuration(D("2026-12-25"), {0, 0, 14}), D("2027-01-08"));
  EXPECT_EQ(SubtractDuration(D("2026-03-31"), {0, 1, 0}), D("2026-02-28"));
  EXPECT_EQ(SubtractDuration(D("2026-12-20"), {0, 0, 14}), D("2026-12-06"));
}

TEST(Calendar_Age, WholeYearsFromTheBirthday) {
  auto age = [](const char* birth, const char* day) { return AgeOn(*ParseDate(birth), *ParseDate(day)); };
  EXPECT_EQ(age("2013-07-20", "2027-07-19"), 13);
  EXPECT_EQ(age("2013-07-20", "2027-07-20"), 14);  // the birthday itself
  EXPECT_EQ(age("2013-07-20", "2013-07-20"), 0);
  EXPECT_EQ(age("2013-07-20", "2010-01-01"), 0);  // not born yet
  EXPECT_EQ(age("2008-02-29", "2026-02-27"), 17);
  EXPECT_EQ(age("2008-02-29", "2026-02-28"), 18);  // 29 February comes of age on the 28th
  EXPECT_EQ(age("2008-02-29", "2028-02-29"), 20);
  EXPECT_EQ(age("1900-01-01", "2199-12-31"), 299);
}

TEST(Calendar_Yearly, NextTwentiethOfDecemberCountsTheDayItself) {
  std::vector<MonthDay> monitoring = {*ParseMonthDay("12-20"), *ParseMonthDay("05-20")};
  EXPECT_EQ(NextYearly(D("2026-12-20"), monitoring), D("2026-12-20"));
  EXPECT_EQ(NextYearly(D("2026-12-21"), monitoring), D("2027-05-20"));
  EXPECT_EQ(NextYearly(D("2026-09-01"), monitoring), D("2026-12-20"));
  EXPECT_EQ(NextYearly(D("2027-05-21"), monitoring), D("2027-12-20"));
  std::vector<MonthDay> report = {*ParseMonthDay("12-30")};
  EXPECT_EQ(NextYearly(D("2026-12-31"), report), D("2027-12-30"));
}

TEST(Calendar_MonthDay, RefusesDaysThatDoNotRecur) {
  EXPECT_FALSE(ParseMonthDay("02-29").has_value());
  EXPECT_FALSE(ParseMonthDay("13-01").has_value());
  EXPECT_FALSE(ParseMonthDay("04-31").has_value());
  EXPECT_FALSE(ParseMonthDay("1-20").has_value());
  EXPECT_TRUE(ParseMonthDay("02-28").has_value());
}

TEST(Calendar_Date, ParsesOnlyRealDates) {
  EXPECT_TRUE(ParseDate("2028-02-29").has_value());
  EXPECT_FALSE(ParseDate("2026-02-29").has_value());
  EXPECT_FALSE(ParseDate("2026-2-1").has_value());
  EXPECT_FALSE(ParseDate("20260201xx").has_value());
  EXPECT_EQ(FormatDate(D("2026-09-01")), "2026-09-01");
}

TEST(Calendar_Zone, DatesAreCalendarDatesInTheInstitutionsZone) {
  // 22:30 UTC on 19 December is already 20 December in Saratov (UTC+4).
  auto t = *ParseLocalTime("2026-12-19T22:30", "UTC");
  EXPECT_EQ(LocalDate(t, "UTC"), D("2026-12-19"));
  EXPECT_EQ(LocalDate(t, "Europe/Saratov"), D("2026-12-20"));
  EXPECT_EQ(LocalDate(t, "America/New_York"), D("2026-12-19"));
  // A local wall time converts back to the same local date.
  auto local = *ParseLocalTime("2026-12-20T01:00", "Europe/Saratov");
  EXPECT_EQ(FormatInstant(local), "2026-12-19T21:00:00Z");
  EXPECT_EQ(LocalDate(local, "Europe/Saratov"), D("2026-12-20"));
  EXPECT_FALSE(IsKnownZone("Europe/Atlantis"));
  EXPECT_TRUE(IsKnownZone("Europe/Moscow"));
}

// Issue 23, finding 13: in a zone with daylight saving, a wall time in the
// spring gap (02:30 on 28 March 2027 in Berlin, where 02:00 became 03:00) is
// 03:30 CEST, 01:30 UTC — not the gap's start (01:00 UTC), half an hour
// early. A repeated autumn time is its first occurrence.
TEST(Calendar_LocalTime, ATimeInTheSpringGapIsNeverEarly) {
  EXPECT_EQ(FormatInstant(*ParseLocalTime("2027-03-28T02:30", "Europe/Berlin")), "2027-03-28T01:30:00Z");
  EXPECT_EQ(FormatInstant(*ParseLocalTime("2027-03-28T01:59", "Europe/Berlin")), "2027-03-28T00:59:00Z");
  EXPECT_EQ(FormatInstant(*ParseLocalTime("2027-03-28T03:00", "Europe/Berlin")), "2027-03-28T01:00:00Z");
  EXPECT_EQ(FormatInstant(*ParseLocalTime("2027-10-31T02:30", "Europe/Berlin")), "2027-10-31T00:30:00Z");
  EXPECT_EQ(LocalDateTime(*ParseLocalTime("2027-03-28T02:30", "Europe/Berlin"), "Europe/Berlin"), "2027-03-28T03:30");
}

TEST(Calendar_LocalTime, RefusesMalformedTimes) {
  EXPECT_FALSE(ParseLocalTime("2026-12-19T25:00", "UTC").has_value());
  EXPECT_FALSE(ParseLocalTime("2026-12-19T10", "UTC").has_value());
  EXPECT_TRUE(ParseLocalTime("2026-12-19 10:15", "UTC").has_value());
}

}  // namespace
}  // namespace mentorflow
