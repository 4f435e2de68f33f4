// `tick`: firing the deadlines that have passed, one transaction each, in
// due order, and bringing reminders whose day has come into the outbox.
#include <spdlog/spdlog.h>

#include "storage/statements.h"

namespace mentorflow::storage {

Status SociStore::FireTimer(const std::string& instance, const std::string& key, const std::string& state,
                            const std::string& event, const std::string& due, TickReport* report, bool* skipped) {
  *skipped = false;
  const std::string zone = Zone();
  const bool at_minute = due.size() > 10;
  const auto due_date = at_minute ? (ParseDateTime(due) ? ParseDate(due.substr(0, 10)) : std::nullopt) : ParseDate(due);
  InstanceRecord rec;
  const Definition* def = nullptr;
  Actor system;
  std::optional<Snapshot> snap;
  if (due_date && LoadInstance(instance, &rec, &def, "system", &system).ok()) {
    try {
      snap = SnapshotOf(*def, rec);
    } catch (const StoredStateError& e) {
      spdlog::error("tick [{}]: {}; its deadline '{}' (due {}) waits until it is repaired", institution_, e.what(), event, due);
      report->unreadable.push_back(instance);
      *skipped = true;
      return Status::Ok();
    }
  }
  if (!due_date) {
    spdlog::error("tick [{}]: timer {} of instance {} has no valid due date; left as it is", institution_, key, instance);
    report->unreadable.push_back(instance);
    *skipped = true;
    return Status::Ok();
  }
  const Date due_day = *due_date;
  // Reminders of this instance that came due before this deadline passed go
  // out first: leaving the state would otherwise cancel them unsent. (The
  // institution's others come due once, at the end of the tick or turn.)
  report->reminders_due += PromoteDueReminders(due_day, instance);
  auto& del = q_.Get(q_.delete_timer);
  del.instance = instance;
  del.key = key;
  del.Run();
  const Now at = at_minute ? Now::At(*ParseLocalTime(due, zone), zone) : FiringMoment(due_day, zone);
  if (!def) {
    spdlog::warn("tick [{}]: timer {} of instance {} has no instance; dropped", institution_, key, instance);
    return Status::Ok();
  }
  TickReport::Fired fired{instance, rec.workflow, event, due, FormatInstant(at.instant), rec.state, rec.state,
                          false, ""};
  if (rec.state != state) {  // left without the timer being cancelled (should not happen): nothing to fire
    spdlog::warn("tick [{}]: timer {} of instance {} belongs to state {}, the instance is in {}; dropped", institution_, key, instance,
                 state, rec.state);
    return Status::Ok();
  }
  DbWorld world(*this);
  Outcome o = Dispatch(*def, *snap, event, {}, system, at, world);
  if (o.ok()) {
    if (Status s = ApplyDecision(*def, rec, *o.decision, at, nullptr); !s.ok()) return s;
    fired.to = def->states[o.decision->to].name;
    spdlog::info("tick [{}]: {} #{} {} (due {}) -> {}", institution_, rec.workflow, instance, event, due, fired.to);
  } else {
    // Not fatal: the refusal is written down and the tick goes on.
    fired.refused = true;
    fired.reason = o.refusal.message;
    if (Status s = AppendNote(*def, rec, "system", "system", event, "refused: " + o.refusal.message, at); !s.ok())
      return s;
    spdlog::warn("tick [{}]: {} #{} {} (due {}) refused: {}", institution_, rec.workflow, instance, event, due, o.refusal.message);
  }
  report->fired.push_back(std::move(fired));
  return Status::Ok();
}

Status SociStore::FireOverdue(const std::string& instance, const Now& now) {
  const std::string today = FormatDate(now.today), minute = now.Minute();
  TickReport report;
  // Each firing may set new timers (a weekly escalation): bounded, as a
  // deadline always moves the instance on or is dropped.
  for (int round = 0; round < 1000; ++round) {
    std::string key, state, event, due;
    soci::indicator ind = soci::i_null;
    *sql_ << "SELECT timer_key, state, event, due FROM timers WHERE institution = " + I() + " AND instance = :i"
             " AND (due < :today OR (LENGTH(due) > 10 AND due <= :minute)) ORDER BY due, timer_key LIMIT 1",
        soci::into(key, ind), soci::into(state), soci::into(event), soci::into(due), soci::use(instance, "i"),
        soci::use(today, "today"), soci::use(minute, "minute");
    if (ind != soci::i_ok) return Status::Ok();
    bool skipped = false;
    if (Status s = FireTimer(instance, key, state, event, due, &report, &skipped); !s.ok()) return s;
    if (skipped) return Status::Ok();  // an unreadable instance: the event will say so
  }
  return Status::Ok();
}

Status SociStore::FireOverdueFirst(const std::string& id, const Now& now) {
  Tx fire(*this);
  InstanceRecord held;
  const Definition* held_def = nullptr;
  if (!LoadInstance(id, &held, &held_def, "", nullptr).ok()) return Status::Ok();  // the command says what is wrong
  if (Status s = FireOverdue(id, now); !s.ok()) return s;
  fire.Commit();
  return Status::Ok();
}

Status SociStore::Tick(const Now& now, TickReport* report) { return TickSome(now, 0, report); }

Status SociStore::TickSome(const Now& now, int limit, TickReport* report) {
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    const std::string today = FormatDate(now.today), minute = now.Minute();
    // On PostgreSQL each process claims the earliest timer nobody else holds:
    // two ticks at once fire different timers, each exactly once. A day's
    // timer ("YYYY-MM-DD") fires once the day has passed; a datetime's
    // ("YYYY-MM-DDTHH:MM", local) at its minute.
    const std::string next_timer = std::string(
        "SELECT instance, timer_key, state, event, due FROM timers WHERE institution = " + I() +
        " AND (due < :today OR (LENGTH(due) > 10 AND due <= :minute))"
        " ORDER BY due, instance, timer_key LIMIT 1 OFFSET :skip") + (sqlite_ ? "" : " FOR UPDATE SKIP LOCKED");
    // Timers of instances that cannot be read stay (they fire once the
    // instance is repaired) and are stepped over, so that one hand-edited
    // instance does not stop every deadline of the institution.
    long long skip = 0;
    for (int fired = 0;; ++fired) {
      if (limit > 0 && fired >= limit) {
        // A turn ends with deadlines left: the institution's reminders come
        // due up to the last day fired (no deadline left is earlier, so none
        // of them is one a firing still to come would cancel).
        report->more = true;
        const auto last = report->fired.empty() ? std::nullopt : ParseDate(report->fired.back().due.substr(0, 10));
        if (last) {
          Tx tx(*this);
          report->reminders_due += PromoteDueReminders(*last);
          tx.Commit();
        }
        return Status::Ok();
      }
      Tx tx(*this);
      std::string instance, key, state, event, due;
      soci::indicator ind = soci::i_null;
      *sql_ << next_timer, soci::into(instance, ind), soci::into(key), soci::into(state), soci::into(event),
          soci::into(due), soci::use(today, "today"), soci::use(minute, "minute"), soci::use(skip, "skip");
      if (ind != soci::i_ok) {
        report->reminders_due += PromoteDueReminders(now.today);
        tx.Commit();
        return Status::Ok();
      }
      if (!sqlite_) {
        // The instance next, without waiting: a command holding it fires
        // this deadline itself before its own change (FireOverdue), and
        // waiting here while it waits for this timer's row would deadlock.
        int free = 0, exists = 0;
        *sql_ << "SELECT COUNT(*) FROM (SELECT id FROM instances WHERE institution = " + I() +
                     " AND id = :i FOR UPDATE SKIP LOCKED) t",
            soci::into(free), soci::use(instance);
        if (!free)
          *sql_ << "SELECT COUNT(*) FROM instances WHERE institution = " + I() + " AND id = :i", soci::into(exists),
              soci::use(instance);
        if (!free && exists) {
          ++skip;
          continue;
        }
      }
      bool skipped = false;
      if (Status s = FireTimer(instance, key, state, event, due, report, &skipped); !s.ok()) return s;
      if (skipped) {
        ++skip;
        continue;  // the transaction rolls back: nothing of this timer changed
      }
      tx.Commit();
    }
  });
}

}  // namespace mentorflow::storage
