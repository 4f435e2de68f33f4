// Private to storage/: the hot-path statements, each prepared once per
// session (see Prepared in internal.h). Each owns the variables it binds.
#pragma once

#include <array>

#include "storage/internal.h"

namespace mentorflow::storage {

// The instance and, in the same round trip, the roles of whoever acts on it:
// one row per role (one row with a null role when they hold none). On
// PostgreSQL the instance row is locked for the rest of the transaction, so
// that writers on one instance queue instead of racing.
struct SelectInstance : Prepared {
  std::string actor, id, r_id, workflow, state, fields, parent, created, updated, role;
  long long workflow_version = 0, version = 0;
  soci::indicator parent_ind = soci::i_null, role_ind = soci::i_null;
  SelectInstance(soci::session& sql, bool sqlite) {
    Prepare((sql.prepare << std::string("SELECT i.id, i.workflow, i.workflow_version, i.state, i.fields, i.parent,"
                                        " i.version, i.created, i.updated, r.role FROM instances i"
                                        " LEFT JOIN person_roles r ON r.institution = i.institution AND r.person = :actor"
                                        " WHERE i.id = :id AND i.institution = :inst") +
                                (sqlite ? "" : " FOR UPDATE OF i"),
             soci::into(r_id), soci::into(workflow), soci::into(workflow_version), soci::into(state),
             soci::into(fields), soci::into(parent, parent_ind), soci::into(version), soci::into(created),
             soci::into(updated), soci::into(role, role_ind), soci::use(actor), soci::use(id), soci::use(inst)));
  }
};

struct SelectDocuments : Prepared {  // every issue, oldest first: the last one per name wins
  std::string instance, name, status, content, sha256;
  soci::indicator content_ind = soci::i_null, sha256_ind = soci::i_null;
  SelectDocuments(soci::session& sql, bool) {
    Prepare((sql.prepare << "SELECT name, status, content, sha256 FROM documents WHERE institution = :inst AND instance = :i"
                            " ORDER BY name, issue",
             soci::into(name), soci::into(status), soci::into(content, content_ind), soci::into(sha256, sha256_ind),
             soci::use(inst), soci::use(instance)));
  }
};

struct SelectRoles : Prepared {
  std::string person, role;
  SelectRoles(soci::session& sql, bool) {
    Prepare((sql.prepare << "SELECT role FROM person_roles WHERE institution = :inst AND person = :p", soci::into(role),
             soci::use(inst), soci::use(person)));
  }
};

struct SelectHasRole : Prepared {
  std::string person, role;
  int n = 0;
  SelectHasRole(soci::session& sql, bool) {
    Prepare((sql.prepare << "SELECT COUNT(*) FROM person_roles WHERE institution = :inst AND person = :p AND role = :r",
             soci::into(n), soci::use(inst), soci::use(person), soci::use(role)));
  }
};

struct SelectConsent : Prepared {
  std::string person;
  int consent = 0;
  SelectConsent(soci::session& sql, bool) {
    Prepare((sql.prepare << "SELECT consent FROM people WHERE institution = :inst AND id = :id", soci::into(consent),
             soci::use(inst), soci::use(person)));
  }
};

struct SelectPersonName : Prepared {
  std::string person, name, email;
  soci::indicator name_ind = soci::i_null, email_ind = soci::i_null;
  SelectPersonName(soci::session& sql, bool) {
    Prepare((sql.prepare << "SELECT name, email FROM person_data WHERE institution = :inst AND id = :id",
             soci::into(name, name_ind), soci::into(email, email_ind), soci::use(inst), soci::use(person)));
  }
};

struct UpdateInstance : Prepared {
  std::string state, fields, updated, id;
  long long version = 0;
  UpdateInstance(soci::session& sql, bool) {
    Prepare((sql.prepare << "UPDATE instances SET state = :s, fields = :f, version = version + 1, updated = :u"
                            " WHERE id = :id AND version = :v AND institution = :inst",
             soci::use(state), soci::use(fields), soci::use(updated), soci::use(id), soci::use(version),
             soci::use(inst)));
  }
};

// PostgreSQL: the instance's change and its history entry in one round trip
// (one row inserted when the version still matched, none otherwise).
struct UpdateInstanceWithHistory : Deferrable {
  std::string state, fields, updated, id, at, actor, role, event, from, to, changes, note;
  long long version = 0, seq = 0, workflow_version = 0;
  soci::indicator from_ind = soci::i_ok, note_ind = soci::i_null;
  UpdateInstanceWithHistory(soci::session& sql, bool) {
    Text("s", state), Text("f", fields), Text("u", updated), Text("id", id), Number("v", version);
    Number("q", seq), Text("a", at), Text("ac", actor), Text("r", role), Text("e", event), Text("fr", from, &from_ind);
    Text("t", to), Text("c", changes), Number("wv", workflow_version), Text("n", note, &note_ind);
    PrepareText(sql, "WITH u AS (UPDATE instances SET state = :s, fields = :f, version = version + 1,"
                     " updated = :u WHERE id = :id AND version = :v AND institution = :inst"
                     " RETURNING institution, id)"
                     " INSERT INTO history (institution, instance, seq, at, actor, role, event, from_state,"
                     " to_state, changes, workflow_version, note)"
                     " SELECT u.institution, u.id, CAST(:q AS BIGINT), CAST(:a AS TEXT), CAST(:ac AS TEXT),"
                     " CAST(:r AS TEXT), CAST(:e AS TEXT), CAST(:fr AS TEXT), CAST(:t AS TEXT),"
                     " CAST(:c AS TEXT), CAST(:wv AS BIGINT), CAST(:n AS TEXT) FROM u");
  }
};

struct InsertHistory : Deferrable {
  std::string instance, at, actor, role, event, from, to, changes, note;
  long long seq = 0, workflow_version = 0;
  soci::indicator from_ind = soci::i_ok, note_ind = soci::i_null;
  InsertHistory(soci::session& sql, bool) {
    Text("i", instance), Number("s", seq), Text("a", at), Text("ac", actor), Text("r", role), Text("e", event);
    Text("f", from, &from_ind), Text("t", to), Text("c", changes), Number("wv", workflow_version), Text("n", note, &note_ind);
    PrepareText(sql, "INSERT INTO history (institution, instance, seq, at, actor, role, event, from_state, to_state,"
                     " changes, workflow_version, note) VALUES (:inst, :i, :s, :a, :ac, :r, :e, :f, :t, :c, :wv, :n)");
  }
};

// A held instance written (SociStore::WriteHeld): from the version the
// database holds to the one the batch has reached.
struct WriteInstance : Deferrable {
  std::string state, fields, updated, id;
  long long version = 0, stored = 0;
  WriteInstance(soci::session& sql, bool) {
    Text("s", state), Text("f", fields), Text("u", updated), Text("id", id), Number("v", version), Number("o", stored);
    PrepareText(sql, "UPDATE instances SET state = :s, fields = :f, version = :v, updated = :u"
                     " WHERE institution = :inst AND id = :id AND version = :o");
  }
};

// Every timer of one instance, with its due (SociStore::ReadDues).
struct SelectTimerDues : Prepared {
  std::string instance, key, due;
  SelectTimerDues(soci::session& sql, bool) {
    Prepare((sql.prepare << "SELECT timer_key, due FROM timers WHERE institution = :inst AND instance = :i",
             soci::into(key), soci::into(due), soci::use(inst), soci::use(instance)));
  }
};

// The timer a tick claimed, deleted before it fires, only if it is still
// what was claimed: a firing earlier in the same batch (a cascade, a state
// left) may have removed or re-armed it meanwhile. `due || ''` keeps the
// planner on the primary key: by (due, institution) it would read every
// timer due that day.
struct DeleteClaimedTimer : Deferrable {
  std::string instance, key, state, event, due;
  DeleteClaimedTimer(soci::session& sql, bool) {
    Text("i", instance), Text("k", key), Text("s", state), Text("e", event), Text("d", due);
    PrepareText(sql, "DELETE FROM timers WHERE institution = :inst AND instance = :i AND timer_key = :k"
                     " AND state = :s AND event = :e AND (due || '') = :d");
  }
};

// A tick's claim: the earliest due timers past the first `skip`, on
// PostgreSQL each locked (SKIP LOCKED: held elsewhere, left out). A day's
// timer ("YYYY-MM-DD") is due once the day has passed; a datetime's
// ("YYYY-MM-DDTHH:MM", local) at its minute.
struct ClaimTimers : Prepared {
  std::string today, minute, instance, key, state, event, due;
  long long n = 0, skip = 0;
  ClaimTimers(soci::session& sql, bool sqlite) {
    Prepare((sql.prepare << std::string("SELECT instance, timer_key, state, event, due FROM timers WHERE institution = :inst"
                                        " AND (due < :today OR (LENGTH(due) > 10 AND due <= :minute))"
                                        " ORDER BY due, instance, timer_key LIMIT :n OFFSET :skip") +
                                (sqlite ? "" : " FOR UPDATE SKIP LOCKED"),
             soci::into(instance), soci::into(key), soci::into(state), soci::into(event), soci::into(due),
             soci::use(inst, "inst"), soci::use(today, "today"), soci::use(minute, "minute"), soci::use(n, "n"),
             soci::use(skip, "skip")));
  }
};

// One instance's reminders whose day has come, before its deadline fires.
struct PromoteInstanceReminders : Deferrable {
  std::string instance, day;
  PromoteInstanceReminders(soci::session& sql, bool) {
    Text("i", instance), Text("d", day);
    PrepareText(sql, "UPDATE reminders SET status = 'pending' WHERE institution = :inst AND instance = :i"
                     " AND status = 'scheduled' AND send_on <= :d");
  }
};

// PostgreSQL, a tick's batch: the instances of its timers, each locked as it
// is read, those another transaction holds left out (SKIP LOCKED, never a
// wait). `ids` is an array literal (ArrayLiteral): one statement prepared
// once, whatever the batch's size.
struct LockInstances : Prepared {
  std::string ids, id, workflow, state, fields, parent, created, updated;
  long long workflow_version = 0, version = 0;
  soci::indicator parent_ind = soci::i_null;
  LockInstances(soci::session& sql, bool) {
    Prepare((sql.prepare << "SELECT id, workflow, workflow_version, state, fields, parent, version, created, updated"
                            " FROM instances WHERE institution = :inst AND id = ANY(CAST(:ids AS TEXT[]))"
                            " FOR UPDATE SKIP LOCKED",
             soci::into(id), soci::into(workflow), soci::into(workflow_version), soci::into(state), soci::into(fields),
             soci::into(parent, parent_ind), soci::into(version), soci::into(created), soci::into(updated),
             soci::use(inst, "inst"), soci::use(ids, "ids")));
  }
};

// Which of `ids` (an array literal) exist, locked or not.
struct SelectInstanceIds : Prepared {
  std::string ids, id;
  SelectInstanceIds(soci::session& sql, bool) {
    Prepare((sql.prepare << "SELECT id FROM instances WHERE institution = :inst AND id = ANY(CAST(:ids AS TEXT[]))",
             soci::into(id), soci::use(inst, "inst"), soci::use(ids, "ids")));
  }
};

// PostgreSQL, a tick's batch: each instance's reminders whose day has come
// by its first deadline in the batch (`ids` and `days`, array literals of one
// length, pair by position).
struct PromoteBatchReminders : Deferrable {
  std::string ids, days;
  PromoteBatchReminders(soci::session& sql, bool) {
    Text("ids", ids), Text("days", days);
    PrepareText(sql, "UPDATE reminders r SET status = 'pending'"
                     " FROM unnest(CAST(:ids AS TEXT[]), CAST(:days AS TEXT[])) AS u(i, d)"
                     " WHERE r.institution = :inst AND r.instance = u.i AND r.status = 'scheduled' AND r.send_on <= u.d");
  }
};

// Who holds a role, in id order.
struct SelectPeopleWithRole : Prepared {
  std::string role, person;
  SelectPeopleWithRole(soci::session& sql, bool) {
    Prepare((sql.prepare << "SELECT person FROM person_roles WHERE institution = :inst AND role = :r ORDER BY person",
             soci::into(person), soci::use(inst), soci::use(role)));
  }
};

// A person's date of birth and guardian, in one round trip.
struct SelectBirthGuardian : Prepared {
  std::string person, birth, guardian;
  soci::indicator birth_ind = soci::i_null, guardian_ind = soci::i_null;
  SelectBirthGuardian(soci::session& sql, bool) {
    Prepare((sql.prepare << "SELECT d.birth, p.guardian FROM people p LEFT JOIN person_data d"
                            " ON d.institution = p.institution AND d.id = p.id WHERE p.institution = :inst AND p.id = :id",
             soci::into(birth, birth_ind), soci::into(guardian, guardian_ind), soci::use(inst), soci::use(person)));
  }
};

struct DeleteTimer : Deferrable {
  std::string instance, key;
  DeleteTimer(soci::session& sql, bool) {
    Text("i", instance), Text("k", key);
    PrepareText(sql, "DELETE FROM timers WHERE institution = :inst AND instance = :i AND timer_key = :k");
  }
};

// Reminders of one instance whose key starts with a prefix and whose day has
// not come: cancelled (served by the (instance, reminder_key) index). Those
// whose day has come stay, whether a tick has promoted them yet or not:
// what goes out must not depend on how often `tick` runs.
struct CancelReminders : Deferrable {
  std::string instance, prefix, today;
  // `status || ''` keeps both planners on the instance's index: by (status,
  // send_on) SQLite would scan every scheduled reminder of the institution,
  // and so may PostgreSQL's generic plan for a prepared statement.
  CancelReminders(soci::session& sql, bool) {
    Text("i", instance), Text("k", prefix), Text("d", today);
    PrepareText(sql, "UPDATE reminders SET status = 'cancelled' WHERE institution = :inst AND instance = :i"
                     " AND reminder_key LIKE :k AND (status || '') = 'scheduled' AND (send_on || '') > :d");
  }
};

struct UpsertTimer : Deferrable {
  std::string instance, key, state, event, due, recipients;
  UpsertTimer(soci::session& sql, bool) {
    Text("i", instance), Text("k", key), Text("s", state), Text("e", event), Text("d", due), Text("r", recipients);
    PrepareText(sql, "INSERT INTO timers (institution, instance, timer_key, state, event, due, recipients)"
                     " VALUES (:inst, :i, :k, :s, :e, :d, :r)"
                     " ON CONFLICT (institution, instance, timer_key) DO UPDATE SET state = excluded.state,"
                     " event = excluded.event, due = excluded.due, recipients = excluded.recipients");
  }
};

// Reminders, one to one person each: `rows.size()` of them in one statement
// (one round trip for all the recipients of a decision). Re-armed with the
// same key, day and person, a cancelled row comes back; a row already sent or
// acknowledged stays as it is. No two rows may share a key.
struct UpsertReminderRows : Deferrable {
  using Row = UpsertReminderRowsRow;
  std::vector<Row> rows;
  UpsertReminderRows(soci::session& sql, bool, std::size_t n) : rows(n) {
    std::string values;
    for (std::size_t k = 0; k < n; ++k) {
      const std::string r = std::to_string(k);
      values += std::string(k ? ", " : "") + "(:inst, :i" + r + ", :w" + r + ", :k" + r + ", :o" + r + ", :r" + r + ", :kd" +
                r + ", :dl" + r + ", :e" + r + ", :t" + r + ", :s" + r + ", :b" + r + ", :st" + r + ", 0, :c" + r + ")";
    }
    for (std::size_t k = 0; k < n; ++k) {
      Row& w = rows[k];
      const std::string r = std::to_string(k);
      Text("i" + r, w.instance), Text("w" + r, w.workflow), Text("k" + r, w.key), Text("o" + r, w.on);
      Text("r" + r, w.recipient), Text("kd" + r, w.kind), Text("dl" + r, w.deadline, &w.deadline_ind);
      Text("e" + r, w.event, &w.event_ind), Text("t" + r, w.template_name), Text("s" + r, w.subject);
      Text("b" + r, w.body), Text("st" + r, w.status), Text("c" + r, w.created);
    }
    PrepareText(sql, "INSERT INTO reminders (institution, instance, workflow, reminder_key, send_on, recipient, kind,"
                     " deadline, event, template, subject, body, status, tries, created) VALUES " + values +
                     " ON CONFLICT (institution, instance, reminder_key, send_on, recipient) DO UPDATE SET"
                     " kind = excluded.kind, deadline = excluded.deadline, event = excluded.event,"
                     " template = excluded.template, subject = excluded.subject, body = excluded.body,"
                     " status = excluded.status, tries = 0, last_error = NULL, next_attempt = NULL"
                     " WHERE reminders.status = 'cancelled'");
  }
};

struct SelectLastIssue : Prepared {
  std::string instance, name, status;
  long long issue = 0;
  soci::indicator issue_ind = soci::i_null;
  SelectLastIssue(soci::session& sql, bool) {
    Prepare((sql.prepare << "SELECT issue, status FROM documents WHERE institution = :inst AND instance = :i AND name = :n"
                            " ORDER BY issue DESC LIMIT 1",
             soci::into(issue, issue_ind), soci::into(status), soci::use(inst), soci::use(instance),
             soci::use(name)));
  }
};

struct SetDocumentStatus : Prepared {
  std::string instance, name, status;
  long long issue = 0;
  SetDocumentStatus(soci::session& sql, bool) {
    Prepare((sql.prepare << "UPDATE documents SET status = :s WHERE institution = :inst AND instance = :i AND name = :n"
                            " AND issue = :v",
             soci::use(status), soci::use(inst), soci::use(instance), soci::use(name), soci::use(issue)));
  }
};

struct InsertDocument : Prepared {
  std::string instance, name, template_name, issued_at, content, sha256;
  long long issue = 0;
  InsertDocument(soci::session& sql, bool) {
    Prepare((sql.prepare << "INSERT INTO documents (institution, instance, name, issue, template, issued_at, status,"
                            " signatures, content, sha256) VALUES (:inst, :i, :n, :s, :t, :a, 'issued', '[]', :c, :h)",
             soci::use(inst), soci::use(instance), soci::use(name), soci::use(issue), soci::use(template_name), soci::use(issued_at),
             soci::use(content), soci::use(sha256)));
  }
};

// A pair's current facts row (pair_facts.cpp): formed_at, ended_at,
// end_state, ground, extended_at, form, kind, mentor, mentee.
struct SelectOpenPairFacts : Prepared {
  std::string instance;
  std::array<std::string, 9> text;
  std::array<soci::indicator, 9> ind{};
  SelectOpenPairFacts(soci::session& sql, bool) {
    Prepare((sql.prepare << "SELECT formed_at, ended_at, end_state, ground, extended_at, form, kind, mentor, mentee"
                            " FROM pair_facts WHERE institution = :inst AND instance = :i AND until IS NULL",
             soci::into(text[0], ind[0]), soci::into(text[1], ind[1]), soci::into(text[2], ind[2]),
             soci::into(text[3], ind[3]), soci::into(text[4], ind[4]), soci::into(text[5], ind[5]),
             soci::into(text[6], ind[6]), soci::into(text[7], ind[7]), soci::into(text[8], ind[8]),
             soci::use(inst), soci::use(instance)));
  }
};

struct ClosePairFacts : Prepared {
  std::string instance, until;
  ClosePairFacts(soci::session& sql, bool) {
    Prepare((sql.prepare << "UPDATE pair_facts SET until = :u WHERE institution = :inst AND instance = :i AND until IS NULL",
             soci::use(until), soci::use(inst), soci::use(instance)));
  }
};

// The columns in SelectOpenPairFacts' order.
struct InsertPairFacts : Prepared {
  std::string instance, since;
  long long seq = 0, born = 0;
  soci::indicator born_ind = soci::i_null;
  std::array<std::string, 9> text;
  std::array<soci::indicator, 9> ind{};
  InsertPairFacts(soci::session& sql, bool) {
    Prepare((sql.prepare << "INSERT INTO pair_facts (institution, instance, since_seq, since, formed_at, ended_at,"
                            " end_state, ground, extended_at, form, kind, mentor, mentee, mentee_born)"
                            " VALUES (:inst, :i, :q, :s, :a, :b, :c, :d, :e, :f, :g, :h, :k, :y)",
             soci::use(inst), soci::use(instance), soci::use(seq), soci::use(since), soci::use(text[0], ind[0]),
             soci::use(text[1], ind[1]), soci::use(text[2], ind[2]), soci::use(text[3], ind[3]),
             soci::use(text[4], ind[4]), soci::use(text[5], ind[5]), soci::use(text[6], ind[6]),
             soci::use(text[7], ind[7]), soci::use(text[8], ind[8]), soci::use(born, born_ind)));
  }
};

// A person's year of birth: kept in people when erased, else from the date.
struct SelectBirthYear : Prepared {
  std::string person;
  long long year = 0;
  soci::indicator ind = soci::i_null;
  SelectBirthYear(soci::session& sql, bool) {
    Prepare((sql.prepare << "SELECT COALESCE(p.birth_year, CAST(SUBSTR(d.birth, 1, 4) AS INTEGER)) FROM people p"
                            " LEFT JOIN person_data d ON d.institution = p.institution AND d.id = p.id"
                            " WHERE p.institution = :inst AND p.id = :p",
             soci::into(year, ind), soci::use(inst), soci::use(person)));
  }
};

// Formed and ended (with the end state and ground) on every row of the pair.
struct SetPairEvents : Prepared {
  std::string instance;
  std::array<std::string, 4> text;
  std::array<soci::indicator, 4> ind{};
  SetPairEvents(soci::session& sql, bool) {
    Prepare((sql.prepare << "UPDATE pair_facts SET formed_at = :a, ended_at = :b, end_state = :c, ground = :d"
                            " WHERE institution = :inst AND instance = :i",
             soci::use(text[0], ind[0]), soci::use(text[1], ind[1]), soci::use(text[2], ind[2]),
             soci::use(text[3], ind[3]), soci::use(inst), soci::use(instance)));
  }
};

}  // namespace mentorflow::storage
