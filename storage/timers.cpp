// `tick`: firing the deadlines that have passed, in due order, in batches of
// one transaction each, and bringing reminders whose day has come into the
// outbox.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <iterator>
#include <map>
#include <set>

#include "engine/text.h"
#include "storage/statements.h"

namespace mentorflow::storage {

Status SociStore::FireTimer(const DueTimer& t, TickReport* report, Firing* result) {
  const std::string &instance = t.instance, &key = t.key, &state = t.state, &event = t.event, &due = t.due;
  *result = Firing::kSkipped;
  const std::string zone = Zone();
  const bool at_minute = due.size() > 10;
  const auto due_date = at_minute ? (ParseDateTime(due) ? ParseDate(due.substr(0, 10)) : std::nullopt) : ParseDate(due);
  InstanceRecord rec;
  const Definition* def = nullptr;
  Actor system = Actor::System();
  std::optional<Snapshot> snap;
  // The instance as the batch locked it, unless a firing of the batch has
  // changed it since.
  const bool preloaded = t.rec && !(lookups_ && lookups_->touched.count(instance));
  if (preloaded) {
    rec = *t.rec;
    Status st;
    def = DefinitionFor(rec.workflow, rec.workflow_version, &st);
  } else if (due_date) {
    LoadInstance(instance, &rec, &def, "system", &system);
  }
  if (due_date && def) {
    try {
      snap = SnapshotOf(*def, rec);
    } catch (const StoredStateError& e) {
      spdlog::error("tick [{}]: {}; its deadline '{}' (due {}) waits until it is repaired", institution_, e.what(), event, due);
      report->unreadable.push_back(instance);
      return Status::Ok();
    }
  }
  if (!due_date) {
    spdlog::error("tick [{}]: timer {} of instance {} has no valid due date; left as it is", institution_, key, instance);
    report->unreadable.push_back(instance);
    return Status::Ok();
  }
  // Nothing is written before this point. The timer goes, if it is still the
  // one read: an earlier firing of the same batch may have removed it or set
  // it again (then the next claim takes it as it is now). One the batch has
  // not written is as claimed (locked since): its delete may wait in the
  // pipeline, and must find its row.
  auto& del = q_.Get(q_.delete_claimed_timer);
  del.instance = instance;
  del.key = key;
  del.state = state;
  del.event = event;
  del.due = due;
  const bool as_claimed = defer_ && lookups_ && !lookups_->timers_written.count({instance, key});
  if (as_claimed) {
    Defer(del, 1);
  } else {
    Deferring now(*this, false);
    if (Defer(del) != 1) {
      *result = Firing::kGone;
      return Status::Ok();
    }
  }
  *result = Firing::kFired;
  const Date due_day = *due_date;
  // Reminders of this instance that came due before this deadline passed go
  // out first: leaving the state would otherwise cancel them unsent. (The
  // institution's others come due once, at the end of the tick or turn.)
  if (!t.promoted) report->reminders_due += PromoteDueReminders(due_day, instance);
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
    // The decision cancels this timer (its state is left): it is gone already.
    firing_timer_ = {instance, key};
    struct Done {
      std::pair<std::string, std::string>& f;
      ~Done() { f = {}; }
    } done{firing_timer_};
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
             " AND timer_key >= '' AND (due < :today OR (LENGTH(due) > 10 AND due <= :minute)) ORDER BY due, timer_key LIMIT 1",
        soci::into(key, ind), soci::into(state), soci::into(event), soci::into(due), soci::use(instance, "i"),
        soci::use(today, "today"), soci::use(minute, "minute");
    if (ind != soci::i_ok) return Status::Ok();
    Firing result = Firing::kSkipped;
    if (Status s = FireTimer({instance, key, state, event, due}, &report, &result); !s.ok()) return s;
    if (result == Firing::kSkipped) return Status::Ok();  // an unreadable instance: the event will say so
  }
  return Status::Ok();
}

Status SociStore::FireOverdueFirst(const std::string& id, const Now& now) {
  if (Holding()) {
    // A batch: the instance's timers are read once, and kept with it while
    // it is held (what its changes set or delete is known).
    const std::string today = FormatDate(now.today), minute = now.Minute();
    const std::map<std::string, std::string>* dues = nullptr;
    Held* h = HeldOf(id);
    if (h) {
      dues = &h->dues;
    } else {
      if (!CheckId("an instance id", id).ok()) return Status::Ok();  // the command says what is wrong
      lookups_->dues_read.emplace(id, ReadDues(id));
      dues = &lookups_->dues_read->second;
    }
    const bool overdue = std::any_of(dues->begin(), dues->end(), [&](const auto& kv) {
      const std::string& due = kv.second;
      return due < today || (due.size() > 10 && due <= minute);
    });
    if (!overdue) return Status::Ok();
    // It fires first, on what the database holds: the batch's writes go out,
    // and the instance is read again.
    lookups_->dues_read.reset();
    if (h) {
      pipe_->Flush();
      lookups_->held.erase(id);
    }
  } else {
    // Mostly there is nothing overdue: a look without locking spares the
    // command a transaction (and on PostgreSQL a commit) of its own.
    const std::string today = FormatDate(now.today), minute = now.Minute();
    std::string instance = id;
    int n = 0;
    // `timer_key >= ''` (every key) keeps SQLite on the primary key: by
    // the institution's part of timers_pending it would read every timer
    // of the institution, and an import would grow with its square.
    *sql_ << "SELECT COUNT(*) FROM timers WHERE institution = " + I() + " AND instance = :i"
             " AND timer_key >= '' AND (due < :today OR (LENGTH(due) > 10 AND due <= :minute))",
        soci::into(n), soci::use(instance, "i"), soci::use(today, "today"), soci::use(minute, "minute");
    if (n == 0) return Status::Ok();
  }
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
    // Timers of instances that cannot be read stay (they fire once the
    // instance is repaired) and are stepped over, so that one hand-edited
    // instance does not stop every deadline of the institution; so are those
    // of instances another process holds (its command fires them itself).
    long long skip = 0;
    int fired = 0;
    for (;;) {
      if (limit > 0 && fired >= limit) {
        // A turn ends with deadlines left: the institution's reminders come
        // due up to the last day fired (no deadline left is earlier, so none
        // of them is one a firing still to come would cancel).
        report->more = true;
        const auto last = report->fired.empty() ? std::nullopt : ParseDate(report->fired.back().due.substr(0, 10));
        if (last) {
          Tx tx(*this);
          report->reminders_due += PromoteDueReminders(*last, "", &now);
          tx.Commit();
        }
        return Status::Ok();
      }
      const int room = limit > 0 ? std::min(kTickBatch, limit - fired) : kTickBatch;
      TickReport part;
      int claimed = 0, part_fired = 0;
      long long part_skip = 0;
      bool redo = false, last = false;
      if (Status s = FireBatch(now, room, false, skip, &part, &claimed, &part_fired, &part_skip, &redo, &last);
          !s.ok())
        return s;
      if (redo) {
        part = TickReport{};
        part_fired = 0, part_skip = 0;
        if (Status s = FireBatch(now, room, true, skip, &part, &claimed, &part_fired, &part_skip, &redo, &last);
            !s.ok())
          return s;
      }
      fired += part_fired;
      skip += part_skip;
      report->fired.insert(report->fired.end(), std::make_move_iterator(part.fired.begin()),
                           std::make_move_iterator(part.fired.end()));
      report->unreadable.insert(report->unreadable.end(), part.unreadable.begin(), part.unreadable.end());
      report->failed.insert(report->failed.end(), part.failed.begin(), part.failed.end());
      report->reminders_due += part.reminders_due;
      if (claimed == 0 || last) return Status::Ok();  // nothing left that this process may fire
    }
  });
}

// One batch of a tick: up to `room` due timers, earliest first, claimed and
// fired in one transaction (one commit, one fsync). Without `careful` there
// is no savepoint: should a firing fail, nothing is committed and `*redo`
// asks for the batch again with one savepoint per firing, so that only the
// failed firing is undone (its timer stays, and `part->failed` says why).
// `*last`: nothing was left to claim, and the reminders have come due.
Status SociStore::FireBatch(const Now& now, int room, bool careful, long long skip, TickReport* part, int* claimed,
                            int* fired, long long* skipped, bool* redo, bool* last) {
  *redo = false;
  *last = false;
  Tx tx(*this);
  LookupScope lookups(*this);
  // Without savepoints, the batch's writes wait in the pipeline (PostgreSQL)
  // until something reads, or the commit: should one fail, the batch runs
  // again, careful, with every write answered at once.
  Deferring deferring(*this, !careful);
  if (pipe_) pipe_->TakeCounted();  // what an undone batch had counted
  const std::vector<DueTimer> due = ClaimDue(now, room, skip, &part->reminders_due);
  *claimed = static_cast<int>(due.size());
  if (due.empty()) {
    part->reminders_due += PromoteDueReminders(now.today, "", &now);
    tx.Commit();
    return Status::Ok();
  }
  auto again = [&](const Status& why) {  // rolled back by tx: the batch runs again, careful
    spdlog::warn("tick [{}]: a batch of {} deadline(s) is undone and runs again, one savepoint per firing: {}",
                 institution_, due.size(), why.message());
    *redo = true;
    return Status::Ok();
  };
  auto script = [&](const std::string& text) {
    if (sqlite_) *sql_ << text;
    else Script(text);
  };
  bool cut = false;
  for (const DueTimer& t : due) {
    const std::string& set = lookups_->earliest_timer_set;
    if (!set.empty() && set <= t.due) {  // set by a firing: it goes first
      cut = true;
      break;
    }
    if (t.busy) {
      ++*skipped;
      continue;
    }
    if (careful) script("SAVEPOINT mf_firing");
    Firing result = Firing::kSkipped;
    const std::size_t had_fired = part->fired.size(), had_unreadable = part->unreadable.size();
    const long long had_due = part->reminders_due;
    Status s = Guard([&] { return FireTimer(t, part, &result); });
    if (!s.ok()) {
      if (!careful) return again(s);
      script("ROLLBACK TO SAVEPOINT mf_firing");
      script("RELEASE SAVEPOINT mf_firing");
      spdlog::error("tick [{}]: the deadline '{}' of instance {} (due {}) failed and waits for the next tick: {}",
                    institution_, t.event, t.instance, t.due, s.message());
      // What this firing had added to the report is undone with it.
      part->fired.resize(had_fired);
      part->unreadable.resize(had_unreadable);
      part->reminders_due = had_due;
      part->failed.push_back({t.instance, t.event, t.due, s.message()});
      ++*skipped;
      continue;
    }
    if (careful) script("RELEASE SAVEPOINT mf_firing");
    if (result == Firing::kFired) ++*fired;
    if (result == Firing::kSkipped) ++*skipped;
  }
  // What still waits in the pipeline is answered here, where a failure can
  // still send the batch round again.
  if (pipe_ && pipe_->pending()) {
    if (Status s = Guard([&] {
          pipe_->Flush();
          return Status::Ok();
        });
        !s.ok())
      return again(s);
  }
  if (pipe_) part->reminders_due += pipe_->TakeCounted();
  // Fewer due than the batch could take, and no firing set one that is due
  // already: nothing is left, and the institution's reminders come due in
  // this transaction instead of after one more claim that finds nothing.
  const std::string today = FormatDate(now.today), minute = now.Minute();
  const std::string& set = lookups_->earliest_timer_set;
  const bool set_due = !set.empty() && (set < today || (set.size() > 10 && set <= minute));
  if (!cut && !set_due && static_cast<int>(due.size()) < room) {
    part->reminders_due += PromoteDueReminders(now.today, "", &now);
    *last = true;
  }
  tx.Commit();
  return Status::Ok();
}

// A PostgreSQL array literal of ids or dates ({"1","2"}), each checked: an
// id that is not a plain id (a hand-edited row) is left out.
template <class Range>
std::string ArrayLiteral(const Range& values) {
  std::string out = "{";
  for (const auto& v : values)
    if (CheckId("an instance id", v).ok()) out += (out.size() > 1 ? ",\"" : "\"") + v + "\"";
  return out + "}";
}

std::vector<SociStore::DueTimer> SociStore::ClaimDue(const Now& now, int room, long long skip, long long* promoted) {
  const std::string today = FormatDate(now.today), minute = now.Minute();
  // On PostgreSQL each process claims the earliest timers nobody else holds:
  // two ticks at once fire different timers, each exactly once.
  std::vector<DueTimer> out;
  auto& q = q_.Get(q_.claim_timers);
  q.today = today, q.minute = minute, q.n = room, q.skip = skip;
  q.ForEach([&] { out.push_back({q.instance, q.key, q.state, q.event, q.due}); });
  if (sqlite_ || out.empty()) return out;
  // Their instances next, in one statement and without waiting: a command
  // holding one fires its deadlines itself before its own change
  // (FireOverdue), and waiting here while it waits for this timer's row
  // would deadlock. Such a timer is stepped over.
  std::set<std::string> wanted, locked, exist;
  std::map<std::string, InstanceRecord> held;  // as locked: read in the same round trip
  for (const auto& t : out) wanted.insert(t.instance);
  {
    auto& lock = q_.Get(q_.lock_instances);
    lock.ids = ArrayLiteral(wanted);
    lock.ForEach([&] {
      locked.insert(lock.id);
      held[lock.id] = InstanceRecord{lock.id, lock.workflow, static_cast<int>(lock.workflow_version), lock.state,
                                     lock.fields, lock.parent_ind == soci::i_ok ? lock.parent : "",
                                     static_cast<long>(lock.version), lock.created, lock.updated};
    });
  }
  std::set<std::string> others;
  std::set_difference(wanted.begin(), wanted.end(), locked.begin(), locked.end(), std::inserter(others, others.end()));
  if (!others.empty()) {
    auto& ids = q_.Get(q_.select_instance_ids);
    ids.ids = ArrayLiteral(others);
    ids.ForEach([&] { exist.insert(ids.id); });
  }
  // The reminders of each instance that came due by its first deadline here
  // go out before it fires (FireTimer would promote them itself): one
  // statement for the batch. A later deadline of the same instance in the
  // batch promotes its own, after the first has fired.
  std::vector<std::string> ids, days;
  std::set<std::string> first;
  for (auto& t : out) {
    t.busy = exist.count(t.instance) > 0;  // held by another; one with no instance is dropped
    if (auto it = held.find(t.instance); it != held.end()) t.rec = it->second;
    const auto day = ParseDate(t.due.substr(0, 10));
    if (!t.rec || !day || !first.insert(t.instance).second) continue;
    ids.push_back(t.instance);
    days.push_back(FormatDate(*day));
    t.promoted = true;
  }
  if (!ids.empty()) {  // queued while the batch defers: then counted by pipe_
    auto& q = q_.Get(q_.promote_batch_reminders);
    q.ids = ArrayLiteral(ids);
    q.days = ArrayLiteral(days);
    *promoted += Defer(q, -1, true);
  }
  return out;
}

}  // namespace mentorflow::storage
