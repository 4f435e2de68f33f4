#include "engine/calendar.h"

#include <sstream>

#include <date/tz.h>

#include <cctype>
#include <charconv>
#include <ctime>
#include <stdexcept>

namespace mentorflow {
namespace {

bool ReadInt(std::string_view& s, int& out) {
  size_t n = 0;
  while (n < s.size() && std::isdigit(static_cast<unsigned char>(s[n]))) ++n;
  if (n == 0 || n > 6) return false;
  std::from_chars(s.data(), s.data() + n, out);
  s.remove_prefix(n);
  return true;
}

void SkipSpaces(std::string_view& s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
}

bool AddUnit(Duration& d, int n, std::string_view unit) {
  if (unit == "day" || unit == "days") d.days += n;
  else if (unit == "week" || unit == "weeks") d.days += 7 * n;
  else if (unit == "month" || unit == "months") d.months += n;
  else if (unit == "year" || unit == "years") d.years += n;
  else return false;
  return true;
}

std::optional<Duration> ParseIso(std::string_view s) {
  s.remove_prefix(1);  // 'P'
  if (s.empty()) return std::nullopt;
  Duration d;
  char last = 0;
  const std::string_view order = "YMWD";
  while (!s.empty()) {
    int n = 0;
    if (!ReadInt(s, n) || s.empty()) return std::nullopt;
    char u = s.front();
    s.remove_prefix(1);
    auto pos = order.find(u);
    if (pos == std::string_view::npos) return std::nullopt;
    if (last != 0 && pos <= order.find(last)) return std::nullopt;
    last = u;
    if (u == 'Y') d.years = n;
    if (u == 'M') d.months = n;
    if (u == 'W') d.days += 7 * n;
    if (u == 'D') d.days += n;
  }
  return d;
}

}  // namespace

std::optional<Duration> ParseDuration(std::string_view s) {
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  SkipSpaces(s);
  if (s.empty()) return std::nullopt;
  if (s.front() == 'P') return ParseIso(s);
  Duration d;
  while (!s.empty()) {
    int n = 0;
    if (!ReadInt(s, n)) return std::nullopt;
    SkipSpaces(s);
    size_t k = 0;
    while (k < s.size() && std::isalpha(static_cast<unsigned char>(s[k]))) ++k;
    if (k == 0 || !AddUnit(d, n, s.substr(0, k))) return std::nullopt;
    s.remove_prefix(k);
    SkipSpaces(s);
  }
  return d;
}

std::string FormatDuration(const Duration& d) {
  std::string out;
  auto part = [&out](int n, const char* one, const char* many) {
    if (n == 0) return;
    if (!out.empty()) out += ' ';
    out += std::to_string(n) + ' ' + (n == 1 ? one : many);
  };
  part(d.years, "year", "years");
  part(d.months, "month", "months");
  part(d.days, "day", "days");
  return out.empty() ? "0 days" : out;
}

namespace {
Date AddMonthsClamped(Date from, int months) {
  if (months == 0) return from;
  date::year_month_day ymd{from};
  auto ym = date::year_month{ymd.year(), ymd.month()} + date::months{months};
  auto last = date::year_month_day_last{ym.year(), date::month_day_last{ym.month()}}.day();
  auto day = ymd.day() > last ? last : ymd.day();
  return date::sys_days{ym.year() / ym.month() / day};
}
}  // namespace

Date AddDuration(Date from, const Duration& d) {
  return AddMonthsClamped(from, d.years * 12 + d.months) + date::days{d.days};
}

int AgeOn(Date birth, Date day) {
  if (day < birth) return 0;
  int n = static_cast<int>(date::year_month_day{day}.year()) - static_cast<int>(date::year_month_day{birth}.year());
  while (n > 0 && AddDuration(birth, Duration{n, 0, 0}) > day) --n;
  return n;
}

Date SubtractDuration(Date from, const Duration& d) {
  return AddMonthsClamped(from - date::days{d.days}, -(d.years * 12 + d.months));
}

std::optional<MonthDay> ParseMonthDay(std::string_view s) {
  if (s.size() != 5 || s[2] != '-') return std::nullopt;
  int m = 0, d = 0;
  std::string_view ms = s.substr(0, 2), ds = s.substr(3, 2);
  if (!ReadInt(ms, m) || !ms.empty() || !ReadInt(ds, d) || !ds.empty()) return std::nullopt;
  if (m < 1 || m > 12 || d < 1) return std::nullopt;
  // Any non-leap year tells whether the day exists every year.
  if (!date::year_month_day{date::year{2027}, date::month(m), date::day(d)}.ok()) return std::nullopt;
  return MonthDay{static_cast<unsigned>(m), static_cast<unsigned>(d)};
}

Date NextYearly(Date from, const std::vector<MonthDay>& days) {
  date::year_month_day ymd{from};
  std::optional<Date> best;
  for (int dy = 0; dy <= 1; ++dy) {
    auto y = ymd.year() + date::years{dy};
    for (const auto& md : days) {
      Date c = date::sys_days{y / date::month(md.month) / date::day(md.day)};
      if (c >= from && (!best || c < *best)) best = c;
    }
  }
  return best.value_or(from);
}

std::optional<Date> ParseDate(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  int y = 0, m = 0, d = 0;
  std::string_view ys = s.substr(0, 4), ms = s.substr(5, 2), ds = s.substr(8, 2);
  if (!ReadInt(ys, y) || !ys.empty() || !ReadInt(ms, m) || !ms.empty() || !ReadInt(ds, d) ||
      !ds.empty())
    return std::nullopt;
  date::year_month_day ymd{date::year{y}, date::month(static_cast<unsigned>(m)),
                           date::day(static_cast<unsigned>(d))};
  if (!ymd.ok() || y < kMinYear || y > kMaxYear) return std::nullopt;
  return date::sys_days{ymd};
}

std::string FormatDate(Date d) { return date::format("%F", d); }

std::optional<Instant> ParseLocalTime(std::string_view s, const std::string& zone) {
  auto day = ParseDate(s.substr(0, std::min<size_t>(10, s.size())));
  if (!day) return std::nullopt;
  int hh = 0, mm = 0;
  if (s.size() > 10) {
    std::string_view rest = s.substr(10);
    if (rest.size() != 6 || (rest[0] != 'T' && rest[0] != ' ') || rest[3] != ':') return std::nullopt;
    std::string_view hs = rest.substr(1, 2), ns = rest.substr(4, 2);
    if (!ReadInt(hs, hh) || !hs.empty() || !ReadInt(ns, mm) || !ns.empty() || hh > 23 || mm > 59)
      return std::nullopt;
  }
  date::local_seconds local{date::local_days{day->time_since_epoch()}.time_since_epoch() +
                            std::chrono::hours{hh} + std::chrono::minutes{mm}};
  if (zone.empty() || zone == "UTC") return Instant{local.time_since_epoch()};
  const date::time_zone* tz = date::locate_zone(zone);
  // A wall time repeated by a clock change (autumn) is the earlier of its two
  // instants; one skipped (the spring gap) is read with the offset in force
  // before the gap, i.e. as late as the gap is long (02:30 in a gap from
  // 02:00 to 03:00 is 03:30) — never before the moment the clock meant.
  const date::local_info info = tz->get_info(local);
  if (info.result == date::local_info::nonexistent) return Instant{local.time_since_epoch() - info.first.offset};
  return date::zoned_time<std::chrono::seconds>{tz, local, date::choose::earliest}.get_sys_time();
}

std::optional<std::string> ParseDateTime(std::string_view s) {
  if (s.size() != 16 || !ParseLocalTime(s, "")) return std::nullopt;
  std::string out(s);
  out[10] = 'T';
  return out;
}

std::string LocalDateTime(Instant t, const std::string& zone) {
  if (zone.empty() || zone == "UTC") return date::format("%FT%H:%M", date::floor<std::chrono::minutes>(t));
  const date::time_zone* tz = date::locate_zone(zone);
  return date::format("%FT%H:%M", date::floor<std::chrono::minutes>(tz->to_local(t)));
}

Date LocalDate(Instant t, const std::string& zone) {
  if (zone.empty() || zone == "UTC") return date::floor<date::days>(t);
  const date::time_zone* tz = date::locate_zone(zone);
  auto local = tz->to_local(t);
  return Date{date::floor<date::days>(local).time_since_epoch()};
}

bool IsKnownZone(const std::string& zone) {
  if (zone.empty() || zone == "UTC") return true;
  try {
    date::locate_zone(zone);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

std::optional<Instant> ParseInstant(const std::string& text) {
  std::tm tm{};
  const char* end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (!end || *end != '\0') return std::nullopt;
  return Instant{std::chrono::seconds{timegm(&tm)}};
}

std::string FormatInstant(Instant t) { return date::format("%FT%TZ", t); }

std::string LocalDay(const std::string& instant, const std::string& zone) {
  const auto t = ParseInstant(instant);
  return t ? FormatDate(LocalDate(*t, zone)) : instant.substr(0, 10);
}

bool WorkCalendar::Working(Date d) const {
  if (auto it = overrides.find(d); it != overrides.end()) return it->second;
  const date::weekday wd{d};
  return wd != date::Saturday && wd != date::Sunday;
}

std::optional<WorkCalendar> ParseWorkCalendar(const std::string& text, std::string* error) {
  WorkCalendar cal;
  std::istringstream in(text);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    std::istringstream words(line);
    std::string day, kind, extra;
    if (!(words >> day)) continue;  // blank or a comment
    words >> kind >> extra;
    auto d = ParseDate(day);
    if (!d || (kind != "off" && kind != "work") || !extra.empty()) {
      *error = "line " + std::to_string(n) + ": expected 'YYYY-MM-DD off' or 'YYYY-MM-DD work'";
      return std::nullopt;
    }
    if (!cal.overrides.emplace(*d, kind == "work").second) {
      *error = "line " + std::to_string(n) + ": " + day + " is listed twice";
      return std::nullopt;
    }
  }
  return cal;
}

Date AddWorkingDays(Date from, int n, const WorkCalendar& calendar) {
  Date d = from;
  for (int counted = 0; counted < n;) {
    d += date::days{1};
    if (calendar.Working(d)) ++counted;
  }
  return d;
}

std::string AddMinutes(const std::string& minute, int minutes) {
  const auto day = ParseDate(minute.substr(0, 10));
  if (!day || minute.size() < 16) return minute;
  const int h = std::stoi(minute.substr(11, 2)), m = std::stoi(minute.substr(14, 2));
  const auto t = date::local_days{date::year_month_day{*day}} + std::chrono::minutes{h * 60 + m + minutes};
  return date::format("%Y-%m-%dT%H:%M", date::floor<std::chrono::minutes>(t));
}

}  // namespace mentorflow
