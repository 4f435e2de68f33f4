// Store::Batch on PostgreSQL: an instance's changes within the batch are
// coalesced. Its row and its timers are written once, before the next
// statement that is not one of the batch's own writes (and at the batch's
// end), however many changes it had meanwhile; a decision's reminder writes
// are not queued again when they repeat the previous decision's exactly.
// Each held instance was locked by its first read (select_instance, FOR
// UPDATE), so no one else changes it meanwhile and its held record is what
// the database will hold.
#include <algorithm>

#include "storage/statements.h"

namespace mentorflow::storage {

namespace {

bool SameRow(const UpsertReminderRowsRow& a, const UpsertReminderRowsRow& b) {
  // `created` aside: a row the earlier decision wrote exists, so the repeat
  // would not insert it.
  return a.instance == b.instance && a.workflow == b.workflow && a.key == b.key && a.on == b.on &&
         a.recipient == b.recipient && a.kind == b.kind && a.deadline == b.deadline &&
         a.deadline_ind == b.deadline_ind && a.event == b.event && a.event_ind == b.event_ind &&
         a.template_name == b.template_name && a.subject == b.subject && a.body == b.body && a.status == b.status;
}

}  // namespace

// Cancelling rows by prefix and re-arming the same rows with the same text
// on the same day leaves every row as the first time did: a row it re-armed
// is cancelled and re-armed to the same text again, one it left (sent,
// pending, or due already) it leaves again, and one it cancelled is cancelled.
bool SociStore::ReminderStep::Same(const ReminderStep& o) const {
  return today == o.today && cancels == o.cancels && rows.size() == o.rows.size() &&
         std::equal(rows.begin(), rows.end(), o.rows.begin(), SameRow);
}

SociStore::Held* SociStore::HeldOf(std::string_view id) {
  if (!lookups_) return nullptr;
  auto it = lookups_->held.find(id);
  return it == lookups_->held.end() ? nullptr : &it->second;
}

std::map<std::string, std::string> SociStore::ReadDues(const std::string& id) {
  std::map<std::string, std::string> dues;
  auto& q = q_.Get(q_.select_timer_dues);
  q.instance = id;
  q.ForEach([&] { dues[q.key] = q.due; });
  return dues;
}

SociStore::Held& SociStore::HoldInstance(const InstanceRecord& as_read) {
  if (Held* h = HeldOf(as_read.id)) return *h;
  std::map<std::string, std::string> dues;
  if (lookups_->dues_read && lookups_->dues_read->first == as_read.id)
    dues = std::move(lookups_->dues_read->second);
  else
    dues = ReadDues(as_read.id);
  lookups_->dues_read.reset();
  HoldAsRead(as_read, std::move(dues));
  return *HeldOf(as_read.id);
}

std::vector<std::string> SociStore::RolesOf(const std::string& person) {
  if (auto it = lookups_->roles_of.find(person); it != lookups_->roles_of.end()) return it->second;
  std::vector<std::string> roles;
  auto& q = q_.Get(q_.select_roles);
  q.person = person;
  q.ForEach([&] { roles.push_back(q.role); });
  lookups_->roles_of[person] = roles;
  return roles;
}

void SociStore::HoldAsRead(const InstanceRecord& locked, std::map<std::string, std::string> dues) {
  if (HeldOf(locked.id)) return;  // what the batch holds is newer, or the same
  Held& h = lookups_->held[locked.id];
  h.rec = locked;
  h.stored = locked.version;
  h.dues = std::move(dues);
}

void SociStore::QueueReminderStep(Held& h, ReminderStep step) {
  if (h.last && h.last->Same(step)) return;
  for (const auto& prefix : step.cancels) DeferCancelReminders(h.rec.id, prefix, step.today);
  DeferReminderRows(step.rows);
  h.last = std::move(step);
}

void SociStore::WriteHeld() {
  if (!lookups_) return;
  const std::string step = pipe_->step();
  for (const auto& id : lookups_->dirty) {
    Held* h = HeldOf(id);
    if (!h) continue;
    pipe_->Step(h->since);
    if (h->rec.version != h->stored) {
      auto& w = q_.Get(q_.write_instance);
      w.state = h->rec.state, w.fields = h->rec.fields_json, w.updated = h->rec.updated, w.id = id;
      w.version = h->rec.version, w.stored = h->stored;
      Defer(w, 1);  // locked at a known version: its one row
      h->stored = h->rec.version;
    }
    for (auto& [key, t] : h->timers) {
      if (t) {
        auto& up = q_.Get(q_.upsert_timer);
        up.instance = id, up.key = key, up.state = t->state, up.event = t->event, up.due = t->due;
        up.recipients = t->recipients;
        Defer(up);
      } else {
        auto& del = q_.Get(q_.delete_timer);
        del.instance = id, del.key = key;
        Defer(del);
      }
    }
    h->timers.clear();
    h->since.clear();
  }
  lookups_->dirty.clear();
  pipe_->Step(step);
}

void SociStore::BetweenHeldSteps() {
  if (!Holding()) return;
  lookups_->dues_read.reset();  // FireOverdueFirst's read serves its own call only
  // Bounded: past this many, the held instances are written and forgotten
  // (read again, still locked, should the batch come back to one).
  if (lookups_->held.size() > kMostHeld) {
    pipe_->Flush();
    lookups_->held.clear();
  }
  if (batch_steps_ && batch_steps_->name) pipe_->Step(batch_steps_->name());
}

void SociStore::DropHeld() {
  if (!lookups_) return;
  lookups_->held.clear();
  lookups_->dirty.clear();
  lookups_->dues_read.reset();
}

}  // namespace mentorflow::storage
