// The outbox: reminders scheduled with the decision that asks for them (one
// row per person, its text rendered then), listed, shown as an agenda,
// claimed for delivery and acknowledged. Every status change goes through
// the reminder lifecycle (engine/outbox_lifecycle.h).
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <tuple>
#include <cerrno>

#include "engine/outbox_lifecycle.h"
#include "engine/render.h"
#include "storage/statements.h"

namespace mentorflow::storage {
namespace {

constexpr const char* kReminderColumns =
    "SELECT r.id, r.send_on, r.deadline, r.kind, r.recipient, r.instance, r.workflow, r.event, r.subject, r.body,"
    " r.status, r.tries, r.last_error, r.next_attempt, r.sent_at, r.acked_at, r.reminder_key, d.name, d.email"
    " FROM reminders r LEFT JOIN person_data d ON d.institution = r.institution AND d.id = r.recipient";

ReminderRecord ReminderFromRow(const soci::row& r) {
  ReminderRecord x;
  x.id = RowInt(r, 0);
  x.on = r.get<std::string>(1);
  x.deadline = RowText(r, 2);
  x.kind = r.get<std::string>(3);
  x.to = r.get<std::string>(4);
  x.instance = r.get<std::string>(5);
  x.workflow = r.get<std::string>(6);
  x.event = RowText(r, 7);
  x.subject = r.get<std::string>(8);
  x.text = r.get<std::string>(9);
  x.status = r.get<std::string>(10);
  x.tries = static_cast<int>(RowInt(r, 11));
  x.last_error = RowText(r, 12);
  x.next_attempt = RowText(r, 13);
  x.sent_at = RowText(r, 14);
  x.acked_at = RowText(r, 15);
  x.reminder_key = r.get<std::string>(16);
  x.to_name = RowText(r, 17);
  x.to_email = RowText(r, 18);
  return x;
}

bool ClaimIsStale(const std::string& claimed_by, const std::string& claimed_at, const Now& now, long long timeout) {
  if (claimed_by.empty()) return true;
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  auto colon = claimed_by.rfind(':');
  bool alive_here = false;
  if (colon != std::string::npos && claimed_by.substr(0, colon) == host) {
    long pid = std::strtol(claimed_by.c_str() + colon + 1, nullptr, 10);
    if (pid > 0 && kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) return true;  // that process is gone
    alive_here = pid > 0;
  }
  // A claim of a process still running on this machine is not taken over
  // at the timeout (it may be waiting on a slow server), only long after it
  // (its pid reused by another program).
  std::tm tm{};
  if (strptime(claimed_at.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm)) {
    Instant at{std::chrono::seconds{timegm(&tm)}};
    if (at + std::chrono::seconds{alive_here ? 10 * timeout : timeout} < now.instant) return true;
  }
  return false;
}

}  // namespace

Status SociStore::ScheduleReminders(const Definition& def, const std::string& id, const std::vector<Value>& fields,
                                    const std::vector<ReminderSpec>& specs, const Now& now) {
  if (specs.empty()) return Status::Ok();
  DbWorld world(*this);
  json base = {{"institution", {{"name", Setting("institution")}}},
               {"workflow", {{"name", def.name}, {"title", def.title}}},
               {"instance", {{"id", id}}}};
  json shown = json::object();
  auto name = [&](const std::string& p) { return PersonName(p); };
  for (size_t i = 0; i < def.fields.size(); ++i)
    if (def.fields[i].type != FieldType::kList) shown[def.fields[i].name] = FieldDisplay(def.fields[i], fields[i], name);
  base["fields"] = shown;
  const std::string created = FormatInstant(now.instant);
  std::vector<UpsertReminderRows::Row> rows;
  for (const auto& spec : specs) {
    const auto to = ReminderRecipients(def, fields, spec.notify, world, now.today);
    if (to.empty()) {
      spdlog::warn("instance {}: reminder {} names nobody ({}): no one holds those roles", id, spec.key,
                   fmt::join(spec.notify, ", "));
      continue;
    }
    const StateDef& s = def.states[spec.state];
    json ctx = base;
    ctx["state"] = {{"name", s.name}, {"title", s.title.empty() ? s.name : s.title}};
    ctx["kind"] = std::string(ReminderKindName(spec.kind));
    ctx["upcoming"] = spec.kind == ReminderKind::kUpcoming;
    ctx["due_today"] = spec.kind == ReminderKind::kDue;
    ctx["overdue"] = spec.kind == ReminderKind::kOverdue;
    ctx["notice"] = spec.kind == ReminderKind::kNotice;
    if (spec.list_field >= 0) {  // a list record's own date: its fields as item.*
      const FieldDef& lf = def.fields[spec.list_field];
      json item = {{"id", spec.item_id}};
      if (const auto* list = std::get_if<mentorflow::List>(&fields[spec.list_field]))
        for (const auto& rec : *list)
          if (rec.id == spec.item_id)
            for (size_t k = 0; k < lf.item_fields.size() && k < rec.values.size(); ++k)
              item[lf.item_fields[k].name] = FieldDisplay(lf.item_fields[k], rec.values[k], name);
      ctx["item"] = std::move(item);
    }
    ctx["on"] = RussianDate(FormatDate(spec.on));
    // At a minute (an interview): the day and the time, "25.07.2027, 10:30".
    ctx["due"] = spec.due ? RussianDate(FormatDate(*spec.due)) + (spec.due_at.size() > 10 ? ", " + spec.due_at.substr(11) : "")
                          : std::string();
    for (const auto& [person, ward] : to) {
      ctx["recipient"] = {{"id", person}, {"name", PersonName(person)}};
      if (!ward.empty()) ctx["recipient"]["ward"] = {{"id", ward}, {"name", PersonName(ward)}};
      RenderedReminder text;
      if (Status st = RenderReminder(options_.templates_dir, spec.template_name, ctx, &text); !st.ok()) return st;
      UpsertReminderRows::Row up;
      up.instance = id;
      up.workflow = def.name;
      up.key = spec.key;
      up.on = FormatDate(spec.on);
      up.recipient = person;
      up.kind = std::string(ReminderKindName(spec.kind));
      up.deadline = spec.due ? FormatDate(*spec.due) : "";
      up.deadline_ind = spec.due ? soci::i_ok : soci::i_null;
      up.event = spec.event;
      up.event_ind = spec.event.empty() ? soci::i_null : soci::i_ok;
      up.template_name = spec.template_name;
      up.subject = text.subject;
      up.body = text.text;
      up.status = spec.on <= now.today ? "pending" : "scheduled";
      up.created = created;
      rows.push_back(std::move(up));
    }
  }
  if (collecting_)
    std::move(rows.begin(), rows.end(), std::back_inserter(collecting_->rows));
  else
    DeferReminderRows(rows);
  return Status::Ok();
}

void SociStore::DeferReminderRows(const std::vector<UpsertReminderRowsRow>& all) {
  // The rows go in a few at a time: one statement, one round trip.
  std::vector<UpsertReminderRows::Row> rows;
  auto flush = [&] {
    if (!rows.empty()) {
      auto& up = q_.Get(q_.upsert_reminder_rows[rows.size()], rows.size());
      std::move(rows.begin(), rows.end(), up.rows.begin());
      Defer(up);
    }
    rows.clear();
  };
  for (const auto& up : all) {
    // Two rows of one key in one statement would be an error (ON CONFLICT
    // touches a row once): the first goes in on its own.
    const bool clash = std::any_of(rows.begin(), rows.end(), [&](const auto& w) {
      return w.key == up.key && w.on == up.on && w.recipient == up.recipient;
    });
    if (clash || rows.size() == Statements::kReminderRows) flush();
    rows.push_back(up);
  }
  flush();
}

void SociStore::CancelReminders(const std::string& id, const std::string& key_prefix, Date today) {
  if (collecting_) {
    collecting_->cancels.push_back(key_prefix);
    return;
  }
  DeferCancelReminders(id, key_prefix, FormatDate(today));
}

void SociStore::DeferCancelReminders(const std::string& id, const std::string& key_prefix, const std::string& today) {
  auto& c = q_.Get(q_.cancel_reminders);
  c.instance = id;
  c.prefix = key_prefix + "%";
  c.today = today;
  Defer(c);
}

long long SociStore::PromoteDueReminders(Date until, const std::string& instance, const Now* now) {
  std::string day = FormatDate(until);
  if (!instance.empty()) {  // before each firing: prepared once
    auto& q = q_.Get(q_.promote_instance_reminders);
    q.instance = instance;
    q.day = day;
    return Defer(q, -1, true);  // queued: counted by pipe_
  }
  // The institution's, once a tick has fired what it could: those of
  // instances with no deadline still due at `now` (an instance with one left
  // promotes its own before it fires, so that a state it leaves still
  // cancels what had not come due by then). On PostgreSQL a row another
  // transaction holds is stepped over, never waited for: that transaction's
  // own tick brings it in, or the next one does.
  // (`t.timer_key >= ''`, every key: see FireOverdueFirst.)
  std::string today = FormatDate(now->today), minute = now->Minute();
  const std::string settled = "r.institution = " + I() + " AND r.status = 'scheduled' AND r.send_on <= :d"
                              " AND NOT EXISTS (SELECT 1 FROM timers t WHERE t.institution = r.institution"
                              " AND t.instance = r.instance AND t.timer_key >= '' AND (t.due < :today OR (LENGTH(t.due) > 10 AND t.due <= :minute)))";
  soci::statement st =
      sqlite_ ? (sql_->prepare << "UPDATE reminders SET status = 'pending' WHERE id IN (SELECT r.id FROM reminders r WHERE " +
                                      settled + ")",
                 soci::use(day, "d"), soci::use(today, "today"), soci::use(minute, "minute"))
              : (sql_->prepare << "UPDATE reminders SET status = 'pending' WHERE institution = " + I() +
                                      " AND id IN (SELECT r.id FROM reminders r WHERE " + settled +
                                      " FOR UPDATE OF r SKIP LOCKED)",
                 soci::use(day, "d"), soci::use(today, "today"), soci::use(minute, "minute"));
  st.execute(true);
  return st.get_affected_rows();
}

Status SociStore::Reminders(const ReminderFilter& f, std::vector<ReminderRecord>* out) {
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    if (!f.status.empty() && !ParseReminderStatus(f.status))
      return Status::BadInput("--status: '" + f.status +
                              "' is not one of scheduled, pending, sent, acknowledged, failed, retried, dead, cancelled");
    // Every filter is bound (empty: not given), so one statement serves all.
    std::string q = std::string(kReminderColumns) +
                    " WHERE r.institution = " + I() + " AND r.workflow <> 'account' AND ((:s1 = '' AND r.status NOT IN ('scheduled', 'cancelled'))"
                    " OR r.status = :s2)"
                    " AND (:p1 = '' OR r.recipient = :p2) AND (:i1 = '' OR r.instance = :i2) ORDER BY r.send_on, r.id";
    std::string status = f.status, person = f.person, instance = f.instance;
    soci::rowset<soci::row> rs = (sql_->prepare << q, soci::use(status, "s1"), soci::use(status, "s2"),
                                  soci::use(person, "p1"), soci::use(person, "p2"), soci::use(instance, "i1"),
                                  soci::use(instance, "i2"));
    for (const auto& r : rs) out->push_back(ReminderFromRow(r));
    return Status::Ok();
  });
}

Status SociStore::Agenda(const std::string& person, Date from, Date to, std::vector<DeadlineRecord>* deadlines,
                         std::vector<ReminderRecord>* reminders) {
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    // A datetime deadline ("YYYY-MM-DDTHH:MM") sorts after its day: before the next.
    std::string f = FormatDate(from), t = FormatDate(to + date::days{1});
    struct Row {
      DeadlineRecord d;
      long long version;
    };
    std::vector<Row> rows;
    {
      soci::rowset<soci::row> rs =
          (sql_->prepare << "SELECT t.instance, t.timer_key, t.state, t.event, t.due, t.recipients, i.workflow,"
                            " i.workflow_version FROM timers t JOIN instances i ON i.institution = t.institution"
                            " AND i.id = t.instance WHERE t.institution = " + I() + " AND t.due >= :f AND t.due < :t ORDER BY t.due, t.instance",
           soci::use(f), soci::use(t));
      for (const auto& r : rs) {
        Row x;
        x.d.instance = r.get<std::string>(0);
        x.d.timer_key = r.get<std::string>(1);
        x.d.state = r.get<std::string>(2);
        x.d.event = r.get<std::string>(3);
        x.d.due = r.get<std::string>(4);
        if (r.get_indicator(5) == soci::i_ok) x.d.recipients = json::parse(r.get<std::string>(5)).get<std::vector<std::string>>();
        x.d.workflow = r.get<std::string>(6);
        x.version = RowInt(r, 7);
        rows.push_back(std::move(x));
      }
    }
    for (auto& x : rows) {
      if (!person.empty() &&
          std::find(x.d.recipients.begin(), x.d.recipients.end(), person) == x.d.recipients.end())
        continue;
      Status st;
      if (const Definition* def = DefinitionFor(x.d.workflow, static_cast<int>(x.version), &st)) {
        x.d.workflow_title = def->title;
        int si = def->StateIndex(x.d.state);
        x.d.state_title = si >= 0 ? def->states[si].title : x.d.state;
        // A deadline with a grace period fires after it, but what people
        // keep in their calendar is the appointed minute itself.
        if (si >= 0 && def->states[si].deadline && def->states[si].deadline->grace_minutes && x.d.due.size() > 10)
          x.d.due = AddMinutes(x.d.due, -def->states[si].deadline->grace_minutes);
      }
      deadlines->push_back(std::move(x.d));
    }
    // The dated records of lists that remind of their dates (a plan's items),
    // on their own day, for those their reminders go to, while they would
    // remind: the instance running in one of the `in` states, the record
    // matching `while` (a plan's item not yet done).
    {
      std::vector<std::pair<std::string, long long>> defs;
      {
        soci::rowset<soci::row> rs = (sql_->prepare << "SELECT DISTINCT name, version FROM " +
                                                      AllDefinitions());
        for (const auto& r : rs) defs.push_back({r.get<std::string>(0), RowInt(r, 1)});
      }
      std::vector<std::string> listing;
      for (const auto& [name, version] : defs) {
        Status st;
        const Definition* def = DefinitionFor(name, static_cast<int>(version), &st);
        if (def && !def->item_reminders.empty() && std::find(listing.begin(), listing.end(), name) == listing.end())
          listing.push_back(name);
      }
      DbWorld world(*this);
      const std::string zone = Setting("zone");
      const auto start = ParseLocalTime(FormatDate(from), zone);
      if (!start) return Status::BadInput("the agenda's first day " + FormatDate(from) + " is not a day in " + zone);
      const Now now = Now::At(*start, zone);
      for (const auto& name : listing) {
        std::vector<InstanceRecord> instances;
        {
          soci::rowset<soci::row> rs =
              (sql_->prepare << "SELECT id FROM instances WHERE institution = " + I() +
                                    " AND workflow = :w ORDER BY created, id",
               soci::use(name));
          std::vector<std::string> ids;
          for (const auto& r : rs) ids.push_back(r.get<std::string>(0));
          for (const auto& id : ids) {
            InstanceRecord rec;
            if (ShowUnlocked(id, &rec).ok()) instances.push_back(std::move(rec));
          }
        }
        for (const auto& rec : instances) {
          Status st;
          const Definition* def = DefinitionFor(rec.workflow, rec.workflow_version, &st);
          if (!def) continue;
          const Snapshot snap = SnapshotOf(*def, rec);
          if (snap.state < 0 || def->states[snap.state].final) continue;
          for (const auto& r : def->item_reminders) {
            if (!r.in_states.empty() &&
                std::find(r.in_states.begin(), r.in_states.end(), snap.state) == r.in_states.end())
              continue;
            const auto* list = std::get_if<mentorflow::List>(&snap.fields[r.list_field]);
            if (!list) continue;
            std::vector<std::string> recipients;
            for (const auto& who : ReminderRecipients(*def, snap.fields, r.notify, world, now.today))
              recipients.push_back(who.id);
            if (!person.empty() && std::find(recipients.begin(), recipients.end(), person) == recipients.end())
              continue;
            const FieldDef& lf = def->fields[r.list_field];
            const int title = lf.ItemFieldIndex("title");
            for (const auto& item : *list) {
              const auto* due = std::get_if<Date>(&item.values[r.at]);
              if (!due || *due < from || *due > to) continue;
              if (r.while_ && !Evaluate(*def, *r.while_, Snapshot{}, item.values, world, now)) continue;
              DeadlineRecord d;
              d.instance = rec.id;
              d.workflow = rec.workflow;
              d.workflow_title = def->title;
              d.state = rec.state;
              d.state_title = def->states[snap.state].title;
              d.timer_key = "item:" + lf.name + ":" + item.id;
              d.due = FormatDate(*due);
              d.recipients = recipients;
              d.item_id = item.id;
              d.item_title = title >= 0 && IsSet(item.values[title]) ? ValueToString(item.values[title]) : item.id;
              d.event = lf.title.empty() ? lf.name : lf.title;
              deadlines->push_back(std::move(d));
            }
          }
        }
      }
      std::stable_sort(deadlines->begin(), deadlines->end(),
                       [](const DeadlineRecord& a, const DeadlineRecord& b) { return a.due < b.due; });
    }
    std::string q = std::string(kReminderColumns) +
                    " WHERE r.institution = " + I() + " AND r.workflow <> 'account' AND r.status = 'scheduled' AND r.send_on >= :f AND r.send_on <= :t" +
                    (person.empty() ? "" : " AND r.recipient = :p") + " ORDER BY r.send_on, r.id";
    std::string p = person;
    soci::rowset<soci::row> rs = person.empty() ? (sql_->prepare << q, soci::use(f, "f"), soci::use(t, "t"))
                                                : (sql_->prepare << q, soci::use(f, "f"), soci::use(t, "t"),
                                                   soci::use(p, "p"));
    for (const auto& r : rs) reminders->push_back(ReminderFromRow(r));
    return Status::Ok();
  });
}

Status SociStore::Ack(long long id, const std::string& actor_id, const Now& now) {
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    Tx tx(*this);
    std::string status, recipient;
    soci::indicator ind = soci::i_null;
    *sql_ << "SELECT status, recipient FROM reminders WHERE institution = " + I() + " AND id = :id", soci::into(status, ind),
        soci::into(recipient), soci::use(id);
    if (ind != soci::i_ok) return Status::NotFound("no reminder " + std::to_string(id));
    Actor actor = LoadActor(actor_id);
    if (actor_id != recipient && !actor.Holds("curator") && !actor.Holds("director"))
      return Status(Code::kRefused,
                    "role: " + (actor_id.empty() ? std::string("nobody") : actor_id) + " may not acknowledge reminder " +
                        std::to_string(id) + " (its recipient, a curator or the director does)",
                    "role");
    auto from = ParseReminderStatus(status);
    if (!from) return Status::Internal("reminder " + std::to_string(id) + " has an unknown status '" + status + "'");
    LifecycleStep step = Advance(*from, ReminderEvent::kAck);
    if (!step.status.ok()) return step.status;
    std::string to(ReminderStatusName(step.to)), at = FormatInstant(now.instant);
    *sql_ << "UPDATE reminders SET status = :s, acked_at = :a, claimed_by = NULL WHERE institution = " + I() +
                 " AND id = :id",
        soci::use(to),
        soci::use(at), soci::use(id);
    tx.Commit();
    return Status::Ok();
  });
}

Status SociStore::ClaimForDelivery(const Now& now, const std::string& claimer, int limit,
                                   std::vector<ReminderRecord>* out) {
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    const long long timeout = std::stoll(Setting("deliver_claim_timeout_seconds"));
    struct Candidate {
      long long id;
      std::string status, claimed_by, claimed_at, next_attempt, send_on;
    };
    std::vector<Candidate> cands;
    {
      // The first `limit` free ones that may go now (the index's order: the
      // cost follows the claim, not the backlog), and every one claimed,
      // which are few: in flight elsewhere, or left by a process that died.
      std::string today = FormatDate(now.today), instant = FormatInstant(now.instant);
      long long n = limit;
      const std::string columns = "SELECT id, status, claimed_by, claimed_at, next_attempt, send_on FROM reminders"
                                  " WHERE institution = " + I() +
                                  " AND status IN ('pending', 'failed', 'retried') AND send_on <= :d";
      soci::rowset<soci::row> free =
          (sql_->prepare << columns + " AND claimed_by IS NULL AND (status <> 'failed' OR next_attempt IS NULL"
                                      " OR next_attempt <= :n) ORDER BY send_on, id LIMIT :l",
           soci::use(today), soci::use(instant), soci::use(n));
      auto add = [&](const soci::row& r) {
        cands.push_back({RowInt(r, 0), r.get<std::string>(1), RowText(r, 2), RowText(r, 3), RowText(r, 4),
                         r.get<std::string>(5)});
      };
      for (const auto& r : free) add(r);
      soci::rowset<soci::row> held = (sql_->prepare << columns + " AND claimed_by IS NOT NULL", soci::use(today));
      for (const auto& r : held) add(r);
      std::sort(cands.begin(), cands.end(), [](const Candidate& a, const Candidate& b) {
        return std::tie(a.send_on, a.id) < std::tie(b.send_on, b.id);
      });
    }
    const std::string at = FormatInstant(now.instant);
    std::vector<long long> claimed;
    LightCommits light(*this);
    Tx tx(*this);
    light.Relax();
    for (const auto& c : cands) {
      if (static_cast<int>(claimed.size()) >= limit) break;
      if (!c.claimed_by.empty() && !ClaimIsStale(c.claimed_by, c.claimed_at, now, timeout)) continue;
      ReminderStatus from = *ParseReminderStatus(c.status), to = from;
      if (from == ReminderStatus::kFailed) {
        if (!c.next_attempt.empty() && now.instant < ParseInstant(c.next_attempt).value_or(Instant{})) continue;  // still backing off
        LifecycleStep step = Advance(from, ReminderEvent::kRetry);
        if (!step.status.ok()) continue;
        to = step.to;
      }
      std::string old_claim = c.claimed_by, new_status(ReminderStatusName(to)), old_status = c.status;
      long long id = c.id;
      soci::statement st = (sql_->prepare << "UPDATE reminders SET status = :ns, claimed_by = :me, claimed_at = :at"
                                             " WHERE institution = " + I() +
                                             " AND id = :id AND status = :os AND COALESCE(claimed_by, '') = :oc",
                            soci::use(new_status), soci::use(claimer), soci::use(at), soci::use(id),
                            soci::use(old_status), soci::use(old_claim));
      st.execute(true);
      if (st.get_affected_rows() != 1) continue;  // another process took it first
      claimed.push_back(id);
    }
    tx.Commit();  // the claims together: one commit, not waiting for the disk
    std::string in;
    for (long long id : claimed) in += (in.empty() ? "" : ", ") + std::to_string(id);
    if (!in.empty()) {
      soci::rowset<soci::row> rs = (sql_->prepare << std::string(kReminderColumns) + " WHERE r.institution = " + I() +
                                                       " AND r.id IN (" + in + ") ORDER BY r.send_on, r.id");
      for (const auto& r : rs) out->push_back(ReminderFromRow(r));
    }
    return Status::Ok();
  });
}

Status SociStore::FinishDeliveries(std::vector<DeliveryAnswer>* answers, const std::string& claimer, const Now& now) {
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    LightCommits light(*this);
    Tx tx(*this);
    light.Relax();
    const int max_tries = std::stoi(Setting("deliver_max_tries"));
    const int backoff = std::stoi(Setting("deliver_backoff_seconds"));
    const std::string at = FormatInstant(now.instant);
    Status lost;  // the first reminder this claimer no longer held
    for (DeliveryAnswer& a : *answers) {
      a.new_status.clear();
      long long id = a.id;
      std::string status, claimed_by;
      long long tries = 0;
      soci::indicator ind = soci::i_null, ci = soci::i_null;
      *sql_ << "SELECT status, tries, claimed_by FROM reminders WHERE institution = " + I() + " AND id = :id",
          soci::into(status, ind), soci::into(tries), soci::into(claimed_by, ci), soci::use(id);
      if (ind != soci::i_ok || ci != soci::i_ok || claimed_by != claimer) {
        if (lost.ok())
          lost = Status::Conflict("reminder " + std::to_string(id) + " is no longer held by this delivery");
        continue;
      }
      const DeliveryOutcome& outcome = a.outcome;
      DeliveryFacts facts{static_cast<int>(tries + 1), max_tries, outcome.permanent};
      LifecycleStep step = Advance(*ParseReminderStatus(status),
                                   outcome.delivered ? ReminderEvent::kDelivered : ReminderEvent::kFail, facts);
      if (!step.status.ok()) return step.status;
      std::string to(ReminderStatusName(step.to));
      long long n = tries + 1;
      if (outcome.delivered) {
        // An account's message carries a single-use link: once sent, it is not kept.
        *sql_ << "UPDATE reminders SET status = :s, tries = :n, sent_at = :a, last_error = NULL, claimed_by = NULL,"
                 " body = CASE WHEN workflow = 'account' THEN '(sent; the link is not kept)' ELSE body END"
                 " WHERE institution = " + I() + " AND id = :id",
            soci::use(to), soci::use(n), soci::use(at), soci::use(id);
      } else {
        std::string next = FormatInstant(NextAttempt(now.instant, facts.tries, backoff));
        *sql_ << "UPDATE reminders SET status = :s, tries = :n, last_error = :e, next_attempt = :na, claimed_by = NULL"
                 " WHERE institution = " + I() + " AND id = :id",
            soci::use(to), soci::use(n), soci::use(outcome.error), soci::use(next), soci::use(id);
      }
      a.new_status = to;
    }
    tx.Commit();
    return lost;
  });
}

Status SociStore::ReleaseDelivery(long long id, const std::string& claimer) {
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    Tx tx(*this);
    *sql_ << "UPDATE reminders SET claimed_by = NULL WHERE institution = " + I() + " AND id = :id AND claimed_by = :c",
        soci::use(id),
        soci::use(claimer);
    tx.Commit();
    return Status::Ok();
  });
}

}  // namespace mentorflow::storage
