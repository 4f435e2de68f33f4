// An RFC 5545 calendar (iCalendar) of all-day and timed events with alarms, for
// `agenda --format ics`: CRLF line ends, lines folded at 75 octets without
// splitting a UTF-8 character, TEXT values escaped. Pure: the caller gives
// the stamp, and derives each UID from database keys so that it is the same
// in every export.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/calendar.h"

namespace mentorflow {

struct IcsAlarm {
  Duration before;  // how long before the event's day (TRIGGER;RELATED=START:-P...)
  std::string description;
};

struct IcsEvent {
  std::string uid;
  Date day;  // DTSTART;VALUE=DATE, DTEND the next day
  // A moment instead (an interview's appointed minute): DTSTART in UTC,
  // which every calendar shows in its own zone; no DTEND (RFC 5545: it ends
  // when it starts). Alarms count back from it.
  std::optional<Instant> at;
  std::string summary;
  std::string description;
  std::vector<IcsAlarm> alarms;
};

std::string WriteIcs(const std::vector<IcsEvent>& events, const std::string& calendar_name, Instant stamp);

// Exposed for tests.
std::string IcsEscapeText(const std::string& s);
std::string IcsFold(const std::string& line);  // one content line -> folded, CRLF-terminated

}  // namespace mentorflow
