#include "app/agenda.h"

#include <algorithm>

#include "engine/ics.h"

namespace mentorflow {

bool ReminderBelongsTo(const ReminderRecord& r, const DeadlineRecord& d) {
  return r.instance == d.instance && r.deadline == d.due.substr(0, 10) && r.reminder_key.rfind(d.timer_key + ":", 0) == 0;
}

Status AgendaIcs(Store& store, const std::string& person, Date from, Date to, Instant stamp, std::string* out) {
  std::vector<DeadlineRecord> deadlines;
  std::vector<ReminderRecord> reminders;
  if (Status st = store.Agenda(person, from, to, &deadlines, &reminders); !st.ok()) return st;
  std::string zone;
  if (Status st = store.GetSetting("zone", &zone); !st.ok()) return st;
  std::vector<IcsEvent> events;
  for (const auto& d : deadlines) {
    IcsEvent e;
    // A plan's item keeps its UID when its date moves: the calendar moves it.
    e.uid = (d.item_id.empty() ? "deadline-" + d.instance + "-" + d.timer_key + "-" + d.due
                               : "item-" + d.instance + "-" + d.timer_key) +
            "@mentorflow";
    std::replace(e.uid.begin(), e.uid.end(), ':', '-');
    e.day = *ParseDate(d.due.substr(0, 10));
    if (d.due.size() > 10) e.at = ParseLocalTime(d.due, zone);  // a datetime deadline: at its minute
    e.summary = d.item_id.empty() ? d.workflow_title + " — " + d.state_title +
                                        (d.due.size() > 10 ? ", " + d.due.substr(11) : "") + " (№ " + d.instance + ")"
                                  : "«" + d.item_title + "» — " + d.workflow_title + " (№ " + d.instance + ")";
    e.description = d.event;
    // One alarm per reminder offset, whoever it goes to.
    std::vector<std::string> seen;
    for (const auto& r : reminders) {
      if (!ReminderBelongsTo(r, d) || std::find(seen.begin(), seen.end(), r.on) != seen.end()) continue;
      seen.push_back(r.on);
      const int days = static_cast<int>((e.day - *ParseDate(r.on)).count());
      e.alarms.push_back({Duration{0, 0, days}, r.subject});
    }
    events.push_back(std::move(e));
  }
  for (const auto& r : reminders) {  // notices not tied to a deadline
    if (!r.deadline.empty()) continue;
    IcsEvent e;
    e.uid = "reminder-" + std::to_string(r.id) + "@mentorflow";
    e.day = *ParseDate(r.on);
    e.summary = r.subject;
    e.description = r.text;
    events.push_back(std::move(e));
  }
  std::string name;
  store.GetSetting("institution", &name);
  *out = WriteIcs(events, name, stamp);
  return Status::Ok();
}

}  // namespace mentorflow
