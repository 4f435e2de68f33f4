// Calendar dates, durations and deadlines.
//
// All deadline arithmetic happens on calendar dates in the institution's time
// zone; instants (UTC seconds) are converted to a local date once, by
// LocalDate(). Month arithmetic clamps to the last day of the month
// (31 January + 1 month = 28 or 29 February), as people expect of
// "a month later". Nothing here reads the system clock.
#pragma once

#include <date/date.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mentorflow {

using Date = date::sys_days;
using Instant = date::sys_seconds;

// A calendar duration: years and months are applied first (clamped), then days.
struct Duration {
  int years = 0;
  int months = 0;
  int days = 0;

  bool operator==(const Duration& o) const {
    return years == o.years && months == o.months && days == o.days;
  }
  bool zero() const { return years == 0 && months == 0 && days == 0; }
};

// Parses "14 days", "1 day", "2 weeks", "9 months", "1 year", "1 year 2 months",
// or ISO 8601 "P14D", "P1Y2M10D", "P2W". Returns nullopt when malformed.
std::optional<Duration> ParseDuration(std::string_view text);

// Human form of a duration, e.g. "14 days" or "1 year 2 months".
std::string FormatDuration(const Duration& d);

Date AddDuration(Date from, const Duration& d);
Date SubtractDuration(Date from, const Duration& d);
// Whole years from `birth` to `day` (0 before the first birthday; someone
// born on 29 February comes of each age on 28 February, as AddDuration has it).
int AgeOn(Date birth, Date day);

// Working days (Russian labour law): Monday to Friday, except the days a
// production calendar marks off (holidays, days off moved by decree), plus
// the weekend days it marks working. The calendar is data (calendar/ru.txt,
// stored in the database by `init`): "YYYY-MM-DD off|work  # note" per line.
struct WorkCalendar {
  std::map<Date, bool> overrides;  // day -> working?
  bool Working(Date d) const;
};
// Parses a calendar file; an error names the line ("line 7: ...").
std::optional<WorkCalendar> ParseWorkCalendar(const std::string& text, std::string* error);
// The `n`th working day after `from` (`from` itself not counted): the last
// day of "within n working days of receipt".
Date AddWorkingDays(Date from, int n, const WorkCalendar& calendar);

// A month and day that recur every year ("12-20").
struct MonthDay {
  unsigned month = 1;
  unsigned day = 1;
};

// Parses "MM-DD"; 02-29 is refused because it does not recur every year.
std::optional<MonthDay> ParseMonthDay(std::string_view text);

// The first date on or after `from` that falls on one of `days`.
// On 20 December itself the answer for {12-20} is that same day.
Date NextYearly(Date from, const std::vector<MonthDay>& days);

// "2026-09-01" -> Date. Rejects impossible dates (2026-02-30).
// Dates outside these years are refused wherever they come in (--now, a
// birth date, a date field, a stored value): nothing this program keeps is
// that old, and a date that far ahead is a typo.
constexpr int kMinYear = 1900, kMaxYear = 2200;
std::optional<Date> ParseDate(std::string_view text);
std::string FormatDate(Date d);

// "2026-09-01" or "2026-09-01T10:30" (local wall time in `zone`) -> instant.
std::optional<Instant> ParseLocalTime(std::string_view text, const std::string& zone);

// A local wall time "YYYY-MM-DDTHH:MM" (a space instead of the T is
// accepted): the same text with the T, or nullopt when malformed. It names a
// minute in the institution's zone; its text order is its time order.
std::optional<std::string> ParseDateTime(std::string_view text);
// The local wall time of `t` in `zone`, as ParseDateTime writes it.
std::string LocalDateTime(Instant t, const std::string& zone);
// "YYYY-MM-DDTHH:MM" a number of minutes later, on the wall clock (no zone:
// a grace period after an appointed local minute).
std::string AddMinutes(const std::string& minute, int minutes);

// The calendar date of `t` in the IANA time zone `zone` ("Europe/Saratov").
// An empty zone means UTC. Throws std::runtime_error on an unknown zone.
Date LocalDate(Instant t, const std::string& zone);

// Whether `zone` names a time zone this machine knows.
bool IsKnownZone(const std::string& zone);

std::string FormatInstant(Instant t);  // ISO 8601 UTC, "2026-09-01T10:30:00Z"
// The inverse of FormatInstant, for instants as stored; nullopt if malformed.
std::optional<Instant> ParseInstant(const std::string& text);
// The calendar date ("YYYY-MM-DD") in `zone` of an instant as stored (what
// people are told: the day it was on where they are); a text that is not
// one comes back as its first ten characters.
std::string LocalDay(const std::string& instant, const std::string& zone);

}  // namespace mentorflow
