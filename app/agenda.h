// The agenda as an iCalendar file: every deadline from `from` to `to` as an
// all-day event with one alarm per reminder offset, and each notice not tied
// to a deadline as an event of its own (engine/ics.h writes RFC 5545).
#pragma once

#include <string>

#include "storage/store.h"

namespace mentorflow {

// Whether reminder `r` is one of deadline `d`'s (rather than a notice).
bool ReminderBelongsTo(const ReminderRecord& r, const DeadlineRecord& d);

// For `person` (empty: everyone's), named after the institution.
Status AgendaIcs(Store& store, const std::string& person, Date from, Date to, Instant stamp, std::string* out);

}  // namespace mentorflow
