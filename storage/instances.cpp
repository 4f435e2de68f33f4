// Instances: start, send, show, list, history and migrate, and applying a
// decision with all its effects in the current transaction.
#include <algorithm>

#include "engine/text.h"
#include "engine/document_lifecycle.h"
#include "storage/statements.h"

namespace mentorflow::storage {
namespace {

InstanceRecord FromRow(const soci::row& r) {
  InstanceRecord rec;
  rec.id = r.get<std::string>(0);
  rec.workflow = r.get<std::string>(1);
  rec.workflow_version = static_cast<int>(RowInt(r, 2));
  rec.state = r.get<std::string>(3);
  rec.fields_json = r.get<std::string>(4);
  rec.parent = RowText(r, 5);
  rec.version = static_cast<long>(RowInt(r, 6));
  rec.created = r.get<std::string>(7);
  rec.updated = r.get<std::string>(8);
  return rec;
}

constexpr const char* kColumns =
    "SELECT id, workflow, workflow_version, state, fields, parent, version, created, updated FROM instances";

}  // namespace

const Definition* SociStore::DefinitionFor(const std::string& name, int version, Status* st) {
  auto key = institution_ + ":" + name + "@" + std::to_string(version);
  auto it = defs_.find(key);
  if (it != defs_.end()) return it->second.get();
  std::string source;
  long long v = version;
  soci::indicator ind = soci::i_null;
  // Its own first: a shared version of the same number has the same content (init refuses other).
  *sql_ << "SELECT source FROM workflow_definitions WHERE institution IN (" + I() + ", '" + kSharedInstitution +
               "') AND name = :n AND version = :v ORDER BY CASE WHEN institution = " + I() + " THEN 0 ELSE 1 END LIMIT 1",
      soci::into(source, ind), soci::use(name), soci::use(v);
  if (ind != soci::i_ok) {
    *st = Status::NotFound("workflow '" + name + "' version " + std::to_string(version) + " is not registered");
    return nullptr;
  }
  if (auto p = parsed_.find(source); p != parsed_.end()) {
    defs_[key] = p->second;
    return p->second.get();
  }
  auto r = LoadWorkflowText(source, name + " v" + std::to_string(version) + " (stored)", LoadOptions{});
  if (!r.ok()) {
    *st = Status::Internal("stored workflow does not load: " + r.errors.front().ToString());
    return nullptr;
  }
  defs_[key] = r.definition;
  parsed_[source] = r.definition;
  return r.definition.get();
}

int SociStore::LatestVersion(const std::string& name) {
  // Within a batch, read once: only `init` registers versions, never inside one.
  if (lookups_)
    if (auto it = lookups_->latest_version.find(name); it != lookups_->latest_version.end()) return it->second;
  long long v = 0;
  soci::indicator ind = soci::i_null;
  *sql_ << "SELECT MAX(version) FROM " + CurrentDefinitions() + " WHERE name = :n", soci::into(v, ind), soci::use(name);
  const int latest = ind == soci::i_ok ? static_cast<int>(v) : 0;
  if (lookups_) lookups_->latest_version[name] = latest;
  return latest;
}

std::string SociStore::AllDefinitions() const {
  return std::string("(SELECT name, version, source FROM workflow_definitions WHERE institution IN (") + I() + ", '" +
         kSharedInstitution + "')) wd";
}

std::string SociStore::CurrentDefinitions() const {
  return "(SELECT name, version, source FROM workflow_definitions WHERE institution = " + I() +
         " UNION ALL SELECT s.name, s.version, s.source FROM workflow_definitions s WHERE s.institution = '" +
         kSharedInstitution + "' AND NOT EXISTS (SELECT 1 FROM workflow_definitions o WHERE o.institution = " + I() +
         " AND o.name = s.name)) wd";
}

// One atomic increment: two processes starting instances at once never get
// the same id (no read-then-write).
std::string SociStore::NextId() {
  long long v = 0;
  *sql_ << "UPDATE counters SET value = value + 1 WHERE institution = " + I() + " AND name = 'instance' RETURNING value",
      soci::into(v);
  return std::to_string(v);
}

Status SociStore::LoadInstance(const std::string& id, InstanceRecord* rec, const Definition** def,
                               const std::string& actor_id, Actor* actor) {
  if (Status s = ShowUnlocked(id, rec, actor_id, actor); !s.ok()) return s;
  if (actor && actor_id == "system") *actor = Actor::System();
  Status st;
  *def = DefinitionFor(rec->workflow, rec->workflow_version, &st);
  return *def ? Status::Ok() : st;
}

Status SociStore::ShowUnlocked(const std::string& id, InstanceRecord* out, const std::string& actor_id, Actor* actor) {
  if (Status s = CheckId("an instance id", id); !s.ok()) return s;
  if (Held* h = Holding() ? HeldOf(id) : nullptr) {  // locked since the batch first read it
    if (actor) *actor = Actor{actor_id, RolesOf(actor_id)};
    if (out) *out = h->rec;
    return Status::Ok();
  }
  auto& q = q_.Get(q_.select_instance);
  q.id = id;
  q.actor = actor_id;
  q.parent_ind = soci::i_null;
  bool found = false;
  if (actor) *actor = Actor{actor_id, {}};
  q.ForEach([&] {
    found = true;
    if (actor && q.role_ind == soci::i_ok) actor->roles.push_back(q.role);
  });
  if (!found) return Status::NotFound("no instance '" + id + "'");
  if (out)
    *out = InstanceRecord{q.r_id, q.workflow, static_cast<int>(q.workflow_version), q.state, q.fields,
                          q.parent_ind == soci::i_ok ? q.parent : std::string(), static_cast<long>(q.version),
                          q.created, q.updated};
  return Status::Ok();
}

Snapshot SociStore::SnapshotOf(const Definition& def, const InstanceRecord& rec) {
  Snapshot snap;
  snap.id = rec.id;
  snap.parent = rec.parent;
  snap.state = def.StateIndex(rec.state);
  const std::string which = "instance '" + rec.id + "' (" + def.name + " v" + std::to_string(def.version) + ")";
  if (snap.state < 0)
    throw StoredStateError(which + " is in state '" + rec.state +
                           "', which its workflow does not have (a hand-edited database or a downgraded workflow)");
  try {
    snap.fields = FieldsFromJson(def, rec.fields_json);
  } catch (const StoredStateError& e) {
    throw StoredStateError(which + " cannot be read: " + e.what());
  } catch (const json::exception&) {
    throw StoredStateError(which + " cannot be read: its stored fields are not valid JSON of its workflow's types");
  }
  snap.signed_documents.assign(def.documents.size(), 0);
  if (!def.documents.empty()) {
    auto& docs = q_.Get(q_.select_documents);
    docs.instance = rec.id;
    docs.ForEach([&] {  // issues come oldest first: the latest decides
      int d = def.DocumentIndex(docs.name);
      if (d < 0) return;
      // Signed, and its text still the one signed: an issue whose bytes were
      // changed (or destroyed) behind mentorflow's back does not count.
      const bool intact = docs.sha256_ind != soci::i_ok ||
                          (docs.content_ind == soci::i_ok && Sha256Hex(docs.content) == docs.sha256);
      snap.signed_documents[d] = docs.status == "signed" && intact;
    });
    // A collective document is signed for this instance when a signed order
    // of that kind lists it.
    for (size_t d = 0; d < def.documents.size(); ++d) {
      if (!def.documents[d].Collective()) continue;
      int n = 0;
      *sql_ << "SELECT COUNT(*) FROM order_items t JOIN orders o ON o.institution = t.institution AND o.year = t.year"
               " AND o.number = t.number WHERE t.institution = " + I() + " AND t.instance = :i AND o.workflow = :w AND o.name = :n AND o.status = 'signed'",
          soci::into(n), soci::use(rec.id), soci::use(def.name), soci::use(def.documents[d].name);
      snap.signed_documents[d] = n > 0;
    }
  }
  return snap;
}

Status SociStore::ApplyEffects(const Definition& def, const std::string& id, const Decision& d, long long seq,
                               const Now& now, bool history_written) {
  const auto& h = d.history;
  const std::string at = FormatInstant(h.at);
  if (!history_written) {
    auto& hist = q_.Get(q_.insert_history);
    hist.instance = id;
    hist.seq = seq;
    hist.at = at;
    hist.actor = h.actor;
    hist.role = h.role;
    hist.event = h.event;
    hist.from = h.from;
    hist.from_ind = h.from.empty() ? soci::i_null : soci::i_ok;
    hist.to = h.to;
    hist.changes = ChangesJson(def, h.changes).dump();
    hist.workflow_version = def.version;
    hist.note = h.note;
    hist.note_ind = h.note.empty() ? soci::i_null : soci::i_ok;
    hist.Run();
  }
  if (def.name == kPairWorkflow) RecordPairFacts(id, seq, at, h.event, h.from, h.to, ChangesJson(def, h.changes));
  // Held (a batch on PostgreSQL): timers and reminder writes wait in `held`.
  Held* held = Holding() ? HeldOf(id) : nullptr;
  ReminderStep step;
  step.today = FormatDate(now.today);
  struct Collect {
    ReminderStep*& slot;
    ~Collect() { slot = nullptr; }
  } collect{collecting_};
  if (held) collecting_ = &step;
  for (const auto& key : d.cancel_timers) {
    bool rearmed = std::any_of(d.timers.begin(), d.timers.end(), [&](const TimerSpec& t) { return t.key == key; });
    // A re-armed timer is overwritten below; the one firing is gone already.
    if (!rearmed && firing_timer_ != std::make_pair(id, key)) {
      if (held) {
        held->timers[key].reset();
        held->dues.erase(key);
      } else {
        auto& del = q_.Get(q_.delete_timer);
        del.instance = id;
        del.key = key;
        Defer(del);
      }
      if (lookups_) lookups_->timers_written.emplace(id, key);
    }
    CancelReminders(id, key + ":", now.today);
  }
  for (const auto& key : d.cancel_notices) CancelReminders(id, key + ":", now.today);
  DbWorld world(*this);
  for (const auto& t : d.timers) {
    const StateDef& s = def.states[t.state];
    TimerWrite w{s.name, t.event, t.at.empty() ? FormatDate(t.due) : t.at, ""};
    std::vector<std::string> to;  // whose agenda shows it
    if (s.deadline)
      for (const auto& r : ReminderRecipients(def, d.fields, s.deadline->notify, world, now.today)) to.push_back(r.id);
    w.recipients = json(to).dump();
    if (lookups_) lookups_->timers_written.emplace(id, t.key);
    if (lookups_ && (lookups_->earliest_timer_set.empty() || w.due < lookups_->earliest_timer_set))
      lookups_->earliest_timer_set = w.due;
    if (held) {
      held->dues[t.key] = w.due;
      held->timers[t.key] = std::move(w);
      continue;
    }
    auto& up = q_.Get(q_.upsert_timer);
    up.instance = id;
    up.key = t.key;
    up.state = w.state;
    up.event = w.event;
    up.due = w.due;
    up.recipients = w.recipients;
    Defer(up);
  }
  if (Status s = ScheduleReminders(def, id, d.fields, d.reminders, now); !s.ok()) return s;
  if (held) {
    collecting_ = nullptr;
    QueueReminderStep(*held, std::move(step));
    // A read above may have written it out: what it set since still waits.
    if (!held->timers.empty()) {
      lookups_->dirty.insert(id);
      pipe_->Hold();
    }
  }
  for (int doc : d.documents) {
    const DocumentDef& dd = def.documents[doc];
    auto& last = q_.Get(q_.select_last_issue);
    last.instance = id;
    last.name = dd.name;
    last.issue_ind = soci::i_null;
    last.Run();
    const long long issue = (last.issue_ind == soci::i_ok ? last.issue : 0) + 1;
    if (last.issue_ind == soci::i_ok) {  // a re-issue supersedes the previous one
      auto from = ParseDocumentStatus(last.status);
      if (!from)
        throw StoredStateError("document " + id + ":" + dd.name + ":" + std::to_string(last.issue) +
                               " has status '" + last.status + "', which documents do not have");
      DocumentStep step = AdvanceDocument(*from, DocumentEvent::kSupersede);
      if (step.status.ok()) {
        auto& set = q_.Get(q_.set_document_status);
        set.instance = id;
        set.name = dd.name;
        set.issue = last.issue;
        set.status = std::string(DocumentStatusName(step.to));
        set.Run();
      }
    }
    if (Status s = IssueDocument(def, dd, id, d.fields, issue, at, now); !s.ok()) return s;
  }
  for (const auto& [workflow, set] : d.starts)
    if (Status s = StartBeside(workflow, set, now); !s.ok()) return s;
  return Status::Ok();
}

Status SociStore::StartBeside(const std::string& workflow,
                              const std::vector<std::pair<std::string, std::string>>& set, const Now& now) {
  if (LatestVersion(workflow) == 0)
    return Status::NotFound("workflow '" + workflow + "', which this state starts, is not registered (register it)");
  std::vector<std::string> ids;
  {
    soci::rowset<std::string> rs = (sql_->prepare << "SELECT id FROM instances WHERE institution = " + I() +
                                                     " AND workflow = :w ORDER BY id",
                                    soci::use(workflow));
    ids.assign(rs.begin(), rs.end());
  }
  for (const auto& other : ids) {
    InstanceRecord rec;
    if (!ShowUnlocked(other, &rec).ok()) continue;
    Status st;
    const Definition* def = DefinitionFor(rec.workflow, rec.workflow_version, &st);
    if (!def) continue;
    const Snapshot snap = SnapshotOf(*def, rec);
    if (!def->states[snap.state].final && MatchesWhere(*def, snap.fields, set)) return Status::Ok();
  }
  SystemScope as_system(*this);
  Refusal refusal;
  InstanceRecord started;
  return Start(workflow, set, "", "system", now, &started, &refusal);
}

Status SociStore::ApplyDecision(const Definition& def, const InstanceRecord& rec, const Decision& d, const Now& now,
                                InstanceRecord* out) {
  const std::string state = def.states[d.to].name, fields = FieldsJson(def, d.fields).dump(),
                    updated = FormatInstant(now.instant);
  // Every change of an instance adds one history entry and one to its
  // version, so the next entry's number is the new version.
  const long long seq = rec.version + 1;
  long long changed = 0;
  if (sqlite_) {
    auto& upd = q_.Get(q_.update_instance);
    upd.state = state, upd.fields = fields, upd.updated = updated, upd.id = rec.id, upd.version = rec.version;
    upd.Run();
    changed = upd.st->get_affected_rows();
  } else if (Holding()) {  // held: the row written once, the history entry queued now
    Held& held = HoldInstance(rec);
    if (held.rec.version != rec.version)
      return Status::Conflict("instance " + rec.id + " was changed by someone else meanwhile; nothing was applied, try again");
    const auto& h = d.history;
    auto& q = q_.Get(q_.insert_history);
    q.instance = rec.id, q.seq = seq, q.at = FormatInstant(h.at), q.actor = h.actor, q.role = h.role, q.event = h.event;
    q.from = h.from, q.from_ind = h.from.empty() ? soci::i_null : soci::i_ok, q.to = h.to;
    q.changes = ChangesJson(def, h.changes).dump(), q.workflow_version = def.version;
    q.note = h.note, q.note_ind = h.note.empty() ? soci::i_null : soci::i_ok;
    Defer(q, 1);
    // (A read meanwhile may write it out; it stays held: entries go only
    // between the batch's calls, or before a deadline of theirs fires.)
    held.rec.state = state, held.rec.fields_json = fields, held.rec.updated = updated;
    held.rec.version = rec.version + 1;
    if (held.since.empty()) held.since = pipe_->step();
    lookups_->dirty.insert(rec.id);
    pipe_->Hold();
    changed = 1;
  } else {  // the history entry in the same round trip
    if (HeldOf(rec.id)) {  // written out first, then read again when next held
      pipe_->Flush();
      lookups_->held.erase(rec.id);
    }
    const auto& h = d.history;
    auto& q = q_.Get(q_.update_instance_with_history);
    q.state = state, q.fields = fields, q.updated = updated, q.id = rec.id, q.version = rec.version;
    q.seq = seq, q.at = FormatInstant(h.at), q.actor = h.actor, q.role = h.role, q.event = h.event;
    q.from = h.from, q.from_ind = h.from.empty() ? soci::i_null : soci::i_ok, q.to = h.to;
    q.changes = ChangesJson(def, h.changes).dump(), q.workflow_version = def.version;
    q.note = h.note, q.note_ind = h.note.empty() ? soci::i_null : soci::i_ok;
    // Within a tick's batch the instance is locked and its version known:
    // the change waits in the pipeline, and must change its one row.
    changed = Defer(q, defer_ ? 1 : -1);
  }
  if (changed != 1)
    return Status::Conflict("instance " + rec.id + " was changed by someone else meanwhile; nothing was applied, try again");
  if (lookups_) lookups_->touched.insert(rec.id);
  if (Status s = ApplyEffects(def, rec.id, d, seq, now, !sqlite_); !s.ok()) return s;
  // A finished instance's documents still waiting for signatures expire.
  if (def.states[d.to].final && !def.documents.empty()) {
    std::vector<std::tuple<std::string, long long, std::string>> open;
    {
      soci::rowset<soci::row> rs = (sql_->prepare << "SELECT name, issue, status FROM documents WHERE institution = " +
                                                     I() + " AND instance = :i AND status IN ('issued', 'partly_signed')",
                                    soci::use(rec.id));
      for (const auto& r : rs) open.emplace_back(r.get<std::string>(0), RowInt(r, 1), r.get<std::string>(2));
    }
    for (auto& [name, issue, status] : open) {
      DocumentStep step = AdvanceDocument(*ParseDocumentStatus(status), DocumentEvent::kExpire);
      if (!step.status.ok()) return step.status;
      const std::string to(DocumentStatusName(step.to));
      *sql_ << "UPDATE documents SET status = :s WHERE institution = " + I() +
                   " AND instance = :i AND name = :n AND issue = :v",
          soci::use(to),
          soci::use(rec.id), soci::use(name), soci::use(issue);
    }
  }
  if (out) {
    *out = rec;
    out->state = state;
    out->fields_json = fields;
    out->version = rec.version + 1;
    out->updated = updated;
  }
  // A finished instance's running children hear of it (`parent_finished`,
  // by system, where their workflow takes it): a terminated pair's plan
  // stops with it, and processing for that purpose stops with them.
  if (def.states[d.to].final) {
    std::vector<std::string> children;
    {
      soci::rowset<std::string> rs = (sql_->prepare << "SELECT id FROM instances WHERE institution = " + I() +
                                                       " AND parent = :p ORDER BY id",
                                      soci::use(rec.id));
      children.assign(rs.begin(), rs.end());
    }
    if (!children.empty())
      if (Status s = Cascade(children, "parent_finished", now, nullptr); !s.ok()) return s;
    if (def.purpose_achieved_when_done)
      if (Status s = PurposeAchieved(def, rec.id, d.fields, now); !s.ok()) return s;
  }
  return Status::Ok();
}

Status SociStore::AppendNote(const Definition& def, const InstanceRecord& rec, const std::string& actor,
                             const std::string& role, const std::string& event, const std::string& note, const Now& now) {
  Decision d;
  d.to = def.StateIndex(rec.state);
  if (d.to < 0) throw StoredStateError("instance '" + rec.id + "' is in state '" + rec.state + "', which its workflow does not have");
  d.fields = FieldsFromJson(def, rec.fields_json);
  d.history.at = now.instant;
  d.history.actor = actor;
  d.history.role = role;
  d.history.event = event;
  d.history.from = rec.state;
  d.history.to = rec.state;
  d.history.note = note;
  return ApplyDecision(def, rec, d, now, nullptr);
}

Status SociStore::Start(const std::string& workflow, const Input& input, const std::string& parent,
                        const std::string& actor_id, const Now& now, InstanceRecord* out, Refusal* refusal) {
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    if (Status s = CheckActor(actor_id); !s.ok()) return s;
    Tx tx(*this);
    int version = LatestVersion(workflow);
    if (version == 0) return Status::NotFound("workflow '" + workflow + "' is not registered (run 'mentorflow init')");
    Status st;
    const Definition* def = DefinitionFor(workflow, version, &st);
    if (!def) return st;
    DbWorld world(*this);
    Outcome o = mentorflow::Start(*def, input, parent, LoadActor(actor_id), now, world);
    if (!o.ok()) {
      if (refusal) *refusal = o.refusal;
      return Status(o.refusal.code, o.refusal.message, o.refusal.rule);
    }
    std::string id = NextId(), fields = FieldsJson(*def, o.decision->fields).dump(), at = FormatInstant(now.instant);
    std::string state = def->states[o.decision->to].name;
    long long wv = version;
    soci::indicator pi = parent.empty() ? soci::i_null : soci::i_ok;
    *sql_ << "INSERT INTO instances (institution, id, workflow, workflow_version, state, fields, parent, version,"
             " created, updated) VALUES (" + I() + ", :id, :w, :wv, :s, :f, :p, 1, :c, :u)",
        soci::use(id), soci::use(workflow), soci::use(wv), soci::use(state), soci::use(fields), soci::use(parent, pi),
        soci::use(at), soci::use(at);
    if (Status s = ApplyEffects(*def, id, *o.decision, 1, now); !s.ok()) return s;
    tx.Commit();
    if (out) *out = InstanceRecord{id, workflow, version, state, fields, parent, 1, at, at};
    return Status::Ok();
  });
}

Status SociStore::Send(const std::string& id, const std::string& event, const Input& input,
                       const std::string& actor_id, const Now& now, InstanceRecord* out, Refusal* refusal) {
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    if (Status s = CheckActor(actor_id); !s.ok()) return s;
    if (Status s = FireOverdueFirst(id, now); !s.ok()) return s;
    Tx tx(*this);
    InstanceRecord rec;
    const Definition* def = nullptr;
    Actor actor;
    if (Status s = LoadInstance(id, &rec, &def, actor_id, &actor); !s.ok()) return s;
    Snapshot snap = SnapshotOf(*def, rec);
    DbWorld world(*this);
    Outcome o = Dispatch(*def, snap, event, input, actor, now, world);
    if (!o.ok()) {
      if (refusal) *refusal = o.refusal;
      return Status(o.refusal.code, o.refusal.message, o.refusal.rule);
    }
    if (Status s = ApplyDecision(*def, rec, *o.decision, now, out); !s.ok()) return s;
    tx.Commit();
    return Status::Ok();
  });
}

Status SociStore::Migrate(const std::string& workflow, int to_version, const StateMap& state_map,
                          const std::string& actor_id, const Now& now, bool dry_run, MigrationReport* report) {
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    if (Status s = CheckActor(actor_id); !s.ok()) return s;
    Tx tx(*this);
    std::vector<int> versions;
    {
      soci::rowset<long long> rs = (sql_->prepare << "SELECT DISTINCT version FROM " + AllDefinitions() +
                                                     " WHERE name = :n ORDER BY version",
                                    soci::use(workflow));
      for (long long v : rs) versions.push_back(static_cast<int>(v));
    }
    if (versions.empty()) return Status::NotFound("workflow '" + workflow + "' is not registered");
    if (std::find(versions.begin(), versions.end(), to_version) == versions.end()) {
      std::string have;
      for (int v : versions) have += (have.empty() ? "" : ", ") + std::to_string(v);
      return Status::NotFound("workflow '" + workflow + "' has no version " + std::to_string(to_version) +
                              " (registered: " + have + "; run 'mentorflow init' after changing its YAML)");
    }
    Actor actor = LoadActor(actor_id);
    std::string role = actor.Holds("director") ? "director" : actor.Holds("curator") ? "curator" : "";
    if (role.empty())
      return Status::Refused("role: " + (actor_id.empty() ? std::string("nobody") : actor_id) +
                             " may not migrate instances (a curator or the director does)");
    Status st;
    const Definition* to = DefinitionFor(workflow, to_version, &st);
    if (!to) return st;
    for (const auto& [from_state, to_state] : state_map) {
      bool known = false;
      for (int v : versions) {
        const Definition* d = v == to_version ? nullptr : DefinitionFor(workflow, v, &st);
        known = known || (d && d->StateIndex(from_state) >= 0);
      }
      if (!known)
        return Status::BadInput("--map " + from_state + "=" + to_state + ": no earlier version of '" + workflow +
                                "' has a state '" + from_state + "'");
      if (to->StateIndex(to_state) < 0)
        return Status::BadInput("--map " + from_state + "=" + to_state + ": version " + std::to_string(to_version) +
                                " has no state '" + to_state + "'");
    }
    long long tv = to_version;
    std::vector<std::string> ids;
    {
      soci::rowset<std::string> rs = (sql_->prepare << "SELECT id FROM instances WHERE institution = " + I() +
                                                       " AND workflow = :w AND workflow_version <> :v ORDER BY created, id",
                                      soci::use(workflow), soci::use(tv));
      for (const auto& i : rs) ids.push_back(i);
    }
    for (const auto& id : ids) {
      InstanceRecord rec;
      const Definition* from = nullptr;
      if (Status s = LoadInstance(id, &rec, &from, "", nullptr); !s.ok()) return s;
      Snapshot snap;
      snap.id = rec.id;
      snap.parent = rec.parent;
      snap.state = from->StateIndex(rec.state);
      if (from->states[snap.state].final) continue;  // ended: it stays with the version it ended under
      snap.fields = FieldsFromJson(*from, rec.fields_json);
      std::vector<std::string> reasons;
      Outcome o = mentorflow::Migrate(*from, *to, snap, state_map, actor, role, now, &reasons);
      if (!o.ok()) {
        report->blocked.push_back({id, rec.workflow_version, rec.state, reasons});
        continue;
      }
      std::string state = to->states[o.decision->to].name, fields = FieldsJson(*to, o.decision->fields).dump();
      std::string at = FormatInstant(now.instant);
      long long version = rec.version;
      soci::statement upd = (sql_->prepare << "UPDATE instances SET workflow_version = :wv, state = :s, fields = :f,"
                                              " version = version + 1, updated = :u WHERE institution = " + I() +
                                              " AND id = :id AND version = :v",
                             soci::use(tv), soci::use(state), soci::use(fields), soci::use(at), soci::use(id),
                             soci::use(version));
      upd.execute(true);
      if (upd.get_affected_rows() != 1)
        return Status::Conflict("instance " + id + " was changed by someone else during the migration; nothing was"
                                " migrated, try again");
      if (Status s = ApplyEffects(*to, id, *o.decision, rec.version + 1, now); !s.ok()) return s;
      report->moved.push_back({id, rec.workflow_version, rec.state, state});
    }
    if (!dry_run) tx.Commit();
    if (!report->blocked.empty())
      return Status::Refused(std::to_string(report->blocked.size()) + " instance(s) of '" + workflow +
                             "' cannot move to version " + std::to_string(to_version) +
                             (dry_run ? "" : "; " + std::to_string(report->moved.size()) + " moved"));
    return Status::Ok();
  });
}

Status SociStore::Workflow(const std::string& workflow, int version, const Definition** out) {
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    if (Status s = CheckId("a workflow name", workflow); !s.ok()) return s;
    const int v = version > 0 ? version : LatestVersion(workflow);
    if (v == 0) return Status::NotFound("no workflow '" + workflow + "' is registered");
    Status st;
    *out = DefinitionFor(workflow, v, &st);
    return *out ? Status::Ok() : st;
  });
}

Status SociStore::Offers(const std::string& id, const std::string& actor_id, const Now& now, std::vector<int>* out) {
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    if (Status s = CheckActor(actor_id); !s.ok()) return s;
    out->clear();
    InstanceRecord rec;
    const Definition* def = nullptr;
    Actor actor;
    if (Status s = LoadInstance(id, &rec, &def, actor_id, &actor); !s.ok()) return s;
    const Snapshot snap = SnapshotOf(*def, rec);
    DbWorld world(*this);
    for (int e = 0; e < static_cast<int>(def->events.size()); ++e) {
      const int t = FindTransition(*def, snap, e, actor, world, now);
      if (t >= 0) out->push_back(t);
    }
    std::sort(out->begin(), out->end());
    return Status::Ok();
  });
}

Status SociStore::Names(const std::vector<std::string>& ids, std::map<std::string, std::string>* out) {
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    out->clear();
    std::string id, name;
    soci::statement st = (sql_->prepare << "SELECT name FROM person_data WHERE institution = " + I() + " AND id = :id",
                          soci::into(name), soci::use(id));
    for (const auto& each : ids) {
      if (each.empty() || out->count(each)) continue;
      id = each;
      st.execute(false);
      if (st.fetch()) (*out)[each] = name;
    }
    return Status::Ok();
  });
}

Status SociStore::Show(const std::string& id, InstanceRecord* out) {
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    return ShowUnlocked(id, out);
  });
}

Status SociStore::List(const std::string& workflow, const std::string& state, std::vector<InstanceRecord>* out) {
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    // Only the filters given, so that the (workflow, state) index serves them.
    std::string w = workflow, s = state;
    std::string where = " WHERE institution = " + I();
    if (!w.empty()) where += " AND workflow = :w";
    if (!s.empty()) where += " AND state = :s";
    const std::string q = std::string(kColumns) + where + " ORDER BY created, id";
    auto query = [&]() -> soci::details::prepare_temp_type {
      if (!w.empty() && !s.empty()) return (sql_->prepare << q, soci::use(w, "w"), soci::use(s, "s"));
      if (!w.empty()) return (sql_->prepare << q, soci::use(w, "w"));
      if (!s.empty()) return (sql_->prepare << q, soci::use(s, "s"));
      return (sql_->prepare << q);
    };
    soci::rowset<soci::row> rs = query();
    for (const auto& r : rs) out->push_back(FromRow(r));
    return Status::Ok();
  });
}

Status SociStore::History(const std::string& id, std::vector<HistoryRecord>* out) {
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    if (Status s = ShowUnlocked(id, nullptr); !s.ok()) return s;
    soci::rowset<soci::row> rs =
        (sql_->prepare << "SELECT seq, at, actor, role, event, from_state, to_state, changes, workflow_version, note FROM history"
                          " WHERE institution = " + I() + " AND instance = :i ORDER BY seq",
         soci::use(id));
    for (const auto& r : rs) {
      HistoryRecord h;
      h.seq = static_cast<long>(RowInt(r, 0));
      h.at = r.get<std::string>(1);
      h.actor = r.get<std::string>(2);
      h.role = r.get<std::string>(3);
      h.event = r.get<std::string>(4);
      h.from = RowText(r, 5);
      h.to = r.get<std::string>(6);
      h.changes_json = r.get<std::string>(7);
      h.workflow_version = static_cast<int>(RowInt(r, 8));
      h.note = RowText(r, 9);
      out->push_back(std::move(h));
    }
    return Status::Ok();
  });
}
}  // namespace mentorflow::storage
