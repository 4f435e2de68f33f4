#include "engine/ics.h"

namespace mentorflow {

std::string IcsEscapeText(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case ';': out += "\\;"; break;
      case ',': out += "\\,"; break;
      case '\n': out += "\\n"; break;
      case '\r': break;
      default: out += c;
    }
  }
  return out;
}

std::string IcsFold(const std::string& line) {
  std::string out;
  size_t pos = 0, limit = 75;  // octets on the first line; continuation lines carry a leading space
  while (line.size() - pos > limit) {
    size_t cut = pos + limit;
    // Never split a UTF-8 character: back up to the start of one.
    while (cut > pos && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;
    out.append(line, pos, cut - pos);
    out += "\r\n ";
    pos = cut;
    limit = 74;
  }
  out.append(line, pos, std::string::npos);
  out += "\r\n";
  return out;
}

namespace {

std::string Compact(Date d) {
  std::string s = FormatDate(d);
  return s.substr(0, 4) + s.substr(5, 2) + s.substr(8, 2);
}

std::string IsoDuration(const Duration& d) {
  std::string out = "P";
  if (d.years) out += std::to_string(d.years) + "Y";
  if (d.months) out += std::to_string(d.months) + "M";
  if (d.days || out == "P") out += std::to_string(d.days) + "D";
  return out;
}

}  // namespace

std::string WriteIcs(const std::vector<IcsEvent>& events, const std::string& calendar_name, Instant stamp) {
  std::string stamp_text = date::format("%Y%m%dT%H%M%SZ", stamp);
  std::string out;
  auto line = [&out](const std::string& l) { out += IcsFold(l); };
  line("BEGIN:VCALENDAR");
  line("VERSION:2.0");
  line("PRODID:-//mentorflow//agenda//RU");
  line("CALSCALE:GREGORIAN");
  line("METHOD:PUBLISH");
  if (!calendar_name.empty()) line("X-WR-CALNAME:" + IcsEscapeText(calendar_name));
  for (const auto& e : events) {
    line("BEGIN:VEVENT");
    line("UID:" + e.uid);
    line("DTSTAMP:" + stamp_text);
    if (e.at) {
      line("DTSTART:" + date::format("%Y%m%dT%H%M%SZ", *e.at));
    } else {
      line("DTSTART;VALUE=DATE:" + Compact(e.day));
      line("DTEND;VALUE=DATE:" + Compact(e.day + date::days{1}));
    }
    line("SUMMARY:" + IcsEscapeText(e.summary));
    if (!e.description.empty()) line("DESCRIPTION:" + IcsEscapeText(e.description));
    line("TRANSP:TRANSPARENT");
    for (const auto& a : e.alarms) {
      line("BEGIN:VALARM");
      line("ACTION:DISPLAY");
      line("TRIGGER;RELATED=START:-" + IsoDuration(a.before));
      line("DESCRIPTION:" + IcsEscapeText(a.description));
      line("END:VALARM");
    }
    line("END:VEVENT");
  }
  line("END:VCALENDAR");
  return out;
}

}  // namespace mentorflow
