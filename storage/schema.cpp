// The schema and its migrations, `init`, and the institution's settings.
#include <cctype>
#include <fstream>
#include <sstream>

#include "engine/text.h"
#include "storage/statements.h"

namespace mentorflow {

const std::vector<SettingDef>& KnownSettings() {
  static const std::vector<SettingDef> kSettings = {
      {"zone", "Europe/Moscow", "the institution's IANA time zone: every date is a calendar date there"},
      {"institution", "", "the institution's name, as documents and reminders print it"},
      {"institution_address", "", "the institution's address, as a consent states the operator's (152-FZ art. 9)"},
      {"mail_from", "mentorflow@localhost", "the sender address of e-mailed reminders"},
      {"deliver_max_tries", "5", "how many times a reminder is tried before it is dead"},
      {"deliver_backoff_seconds", "300", "the wait after a failed delivery, doubled after each further failure"},
      {"deliver_claim_timeout_seconds", "600", "after this, a reminder claimed by a silent process is taken over"},
      {"smtp_timeout_seconds", "30", "how long one SMTP delivery may take"},
      {"smtp_tls", "auto", "STARTTLS: auto (when offered; always with a login), required, or none"},
      {"smtp_ca_file", "", "a CA certificate file to verify a private relay's certificate with (empty: the system's)"},
      {"smtp_user", "", "the login at the SMTP relay (empty: none)"},
      {"smtp_password_from", "", "where the relay's password is: file:PATH (its first line) or env:NAME, never here"},
      {"session_idle_minutes", "30", "a session unused this long ends (serve)"},
      {"session_absolute_hours", "12", "a session ends this long after login, used or not (serve)"},
      {"invitation_hours", "72", "how long an invitation or a password-reset link stays valid"},
      {"base_url", "http://127.0.0.1:8080", "where people reach mentorflow serve: the start of the links in e-mails"},
  };
  return kSettings;
}

Status CheckInstitutionId(const std::string& id) {
  const bool ok = !id.empty() && id.size() <= 40 && id.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-") ==
                                                        std::string::npos && id[0] != '-' && id[0] != '_';
  if (ok) return Status::Ok();
  return Status::BadInput("--institution-id: '" + EscapeControls(id.substr(0, 60)) +
                          "' is not an institution id (1 to 40 of a-z, 0-9, '-' and '_', from a letter or digit)");
}

namespace storage {
namespace {

Status CheckRoleName(const std::string& role) {
  const bool ok = !role.empty() && role.size() <= 63 &&
                  role.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") == std::string::npos &&
                  !std::isdigit(static_cast<unsigned char>(role[0]));
  return ok ? Status::Ok() : Status::BadInput("--app-role: '" + EscapeControls(role.substr(0, 70)) +
                                                  "' is not a role name (a-z, 0-9 and '_', not from a digit)");
}

// Migration N brings the schema from version N-1 to N. Append, never edit.
// "{ID}" is the backend's auto-increment primary key.
const std::vector<std::vector<const char*>> kMigrations = {
    {
        "CREATE TABLE workflow_definitions (name TEXT NOT NULL, version BIGINT NOT NULL, source TEXT NOT NULL,"
        " hash TEXT NOT NULL, registered_at TEXT NOT NULL, PRIMARY KEY (name, version))",
        // Ids only: what history and instances refer to.
        "CREATE TABLE people (id TEXT PRIMARY KEY, guardian TEXT, consent INTEGER NOT NULL DEFAULT 0,"
        " created TEXT NOT NULL)",
        "CREATE TABLE person_roles (person TEXT NOT NULL REFERENCES people(id), role TEXT NOT NULL,"
        " PRIMARY KEY (person, role))",
        "CREATE INDEX person_roles_by_role ON person_roles (role)",
        // Personal data, kept apart so that it can be erased on its own.
        "CREATE TABLE person_data (id TEXT PRIMARY KEY REFERENCES people(id), name TEXT NOT NULL, birth TEXT)",
        "CREATE TABLE counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL)",
        "CREATE TABLE instances (id TEXT PRIMARY KEY, workflow TEXT NOT NULL, workflow_version BIGINT NOT NULL,"
        " state TEXT NOT NULL, fields TEXT NOT NULL, parent TEXT, version BIGINT NOT NULL,"
        " created TEXT NOT NULL, updated TEXT NOT NULL)",
        "CREATE INDEX instances_by_workflow_state ON instances (workflow, state)",
        "CREATE INDEX instances_by_parent ON instances (parent, workflow)",
        "CREATE TABLE history (instance TEXT NOT NULL, seq BIGINT NOT NULL, at TEXT NOT NULL, actor TEXT NOT NULL,"
        " role TEXT NOT NULL, event TEXT NOT NULL, from_state TEXT, to_state TEXT NOT NULL, changes TEXT NOT NULL,"
        " PRIMARY KEY (instance, seq))",
        "CREATE TABLE timers (instance TEXT NOT NULL, timer_key TEXT NOT NULL, state TEXT NOT NULL,"
        " event TEXT NOT NULL, due TEXT NOT NULL, PRIMARY KEY (instance, timer_key))",
        "CREATE INDEX timers_by_due ON timers (due)",
        "CREATE TABLE outbox (instance TEXT NOT NULL, reminder_key TEXT NOT NULL, send_on TEXT NOT NULL,"
        " notify TEXT NOT NULL, template TEXT NOT NULL, event TEXT, due TEXT, status TEXT NOT NULL,"
        " PRIMARY KEY (instance, reminder_key, send_on))",
        "CREATE INDEX outbox_by_status_day ON outbox (status, send_on)",
        "CREATE TABLE documents (instance TEXT NOT NULL, name TEXT NOT NULL, issue BIGINT NOT NULL,"
        " template TEXT NOT NULL, issued_at TEXT NOT NULL, status TEXT NOT NULL, signatures TEXT NOT NULL,"
        " PRIMARY KEY (instance, name, issue))",
    },
    {
        // 2: which workflow version each history entry was made under (migrate changes it).
        "ALTER TABLE history ADD COLUMN workflow_version BIGINT",
        "UPDATE history SET workflow_version = (SELECT i.workflow_version FROM instances i WHERE i.id = history.instance)",
    },
    {
        // 3: one runtime. Institution settings; reminders as rows per person
        // with their lifecycle (the v2 outbox was never read, so it is not
        // carried over); notes on history entries; consent as history.
        "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "ALTER TABLE person_data ADD COLUMN email TEXT",
        "ALTER TABLE history ADD COLUMN note TEXT",
        "CREATE TABLE person_history (person TEXT NOT NULL, seq BIGINT NOT NULL, at TEXT NOT NULL,"
        " actor TEXT NOT NULL, role TEXT NOT NULL, event TEXT NOT NULL, note TEXT, PRIMARY KEY (person, seq))",
        "ALTER TABLE timers ADD COLUMN recipients TEXT",
        // tick takes the earliest due timer: this index is its ORDER BY, so
        // the cost follows what is due, not how many timers are stored.
        "CREATE INDEX timers_pending ON timers (due, instance, timer_key)",
        "DROP TABLE outbox",
        "CREATE TABLE reminders (id {ID}, instance TEXT NOT NULL, workflow TEXT NOT NULL,"
        " reminder_key TEXT NOT NULL, send_on TEXT NOT NULL, recipient TEXT NOT NULL, kind TEXT NOT NULL,"
        " deadline TEXT, event TEXT, template TEXT NOT NULL, subject TEXT NOT NULL, body TEXT NOT NULL,"
        " status TEXT NOT NULL, tries BIGINT NOT NULL DEFAULT 0, next_attempt TEXT, last_error TEXT,"
        " claimed_by TEXT, claimed_at TEXT, sent_at TEXT, acked_at TEXT, created TEXT NOT NULL,"
        " UNIQUE (instance, reminder_key, send_on, recipient))",
        "CREATE INDEX reminders_by_status_day ON reminders (status, send_on)",
        "CREATE INDEX reminders_by_instance_key ON reminders (instance, reminder_key)",
        "CREATE INDEX reminders_by_recipient ON reminders (recipient, send_on)",
        "INSERT INTO counters (name, value) SELECT 'instance', 0 WHERE NOT EXISTS"
        " (SELECT 1 FROM counters WHERE name = 'instance')",
    },
    {
        // 4: documents as records: the content fixed at issue and its
        // SHA-256 (documents issued before keep NULL: issued without a
        // copy); the lifecycle's statuses partly_signed and superseded.
        "ALTER TABLE documents ADD COLUMN content TEXT",
        "ALTER TABLE documents ADD COLUMN sha256 TEXT",
        "UPDATE documents SET status = 'partly_signed' WHERE status = 'issued' AND signatures <> '[]'",
        "UPDATE documents SET status = 'superseded' WHERE issue < (SELECT MAX(d.issue) FROM documents d"
        " WHERE d.instance = documents.instance AND d.name = documents.name)",
    },
    {
        // 5: collective documents (the director's order for every pending
        // pair): numbered per year, each listing instances with the history
        // entry each was at when the order was issued.
        "CREATE TABLE orders (year BIGINT NOT NULL, number BIGINT NOT NULL, workflow TEXT NOT NULL,"
        " workflow_version BIGINT NOT NULL, name TEXT NOT NULL, template TEXT NOT NULL, issued_at TEXT NOT NULL,"
        " issued_by TEXT NOT NULL, status TEXT NOT NULL, signatures TEXT NOT NULL, content TEXT NOT NULL,"
        " sha256 TEXT NOT NULL, PRIMARY KEY (year, number))",
        "CREATE TABLE order_items (year BIGINT NOT NULL, number BIGINT NOT NULL, position BIGINT NOT NULL,"
        " instance TEXT NOT NULL, seq BIGINT NOT NULL, PRIMARY KEY (year, number, position))",
        "CREATE INDEX order_items_by_instance ON order_items (instance)",
    },
    {
        // 6: consent as a signed document of the person (people.consent
        // stays, kept equal to "the latest consent is signed"; consents
        // given before this version have no document).
        "CREATE TABLE consents (person TEXT NOT NULL REFERENCES people(id), issue BIGINT NOT NULL,"
        " template TEXT NOT NULL, issued_at TEXT NOT NULL, status TEXT NOT NULL, signatures TEXT NOT NULL,"
        " content TEXT NOT NULL, sha256 TEXT NOT NULL, paper_date TEXT, revoked_at TEXT, revoked_by TEXT,"
        " PRIMARY KEY (person, issue))",
    },
    {
        // 7: erasure (152-FZ art. 21). A person erased keeps their id and
        // the year of birth (statistics count them); the texts that named
        // them are destroyed (their SHA-256 kept) and a destruction act,
        // which names no one, records what was destroyed and why. Subjects'
        // requests for information, with the date the answer is due.
        "ALTER TABLE people ADD COLUMN erased_at TEXT",
        "ALTER TABLE people ADD COLUMN birth_year BIGINT",
        "ALTER TABLE documents ADD COLUMN erased_at TEXT",
        "ALTER TABLE orders ADD COLUMN erased_at TEXT",
        "ALTER TABLE consents ADD COLUMN erased_at TEXT",
        "CREATE TABLE destruction_acts (person TEXT PRIMARY KEY REFERENCES people(id), at TEXT NOT NULL,"
        " actor TEXT NOT NULL, grounds TEXT NOT NULL, content TEXT NOT NULL, sha256 TEXT NOT NULL)",
    },
    {
        // 8: the production calendar (working days), as `init` stores it.
        "CREATE TABLE calendar (day TEXT PRIMARY KEY, working INTEGER NOT NULL)",
    },
    {
        // 9: what the annual figures read about each pair, kept beside its
        // history (pair_facts.cpp); filled from the history as this runs.
        "CREATE TABLE pair_facts (instance TEXT NOT NULL, since_seq BIGINT NOT NULL, since TEXT NOT NULL, until TEXT,"
        " formed_at TEXT, ended_at TEXT, end_state TEXT, ground TEXT, extended_at TEXT, form TEXT, kind TEXT,"
        " mentor TEXT, mentee TEXT, mentee_born BIGINT, PRIMARY KEY (instance, since_seq))",
        "CREATE INDEX pair_facts_by_mentee ON pair_facts (mentee)",
    },
    {
        // 10: the data tables (tables/NAME.csv beside the workflows), every
        // version `init` loaded; conditions read the latest.
        "CREATE TABLE data_tables (name TEXT NOT NULL, version BIGINT NOT NULL, source TEXT NOT NULL,"
        " hash TEXT NOT NULL, loaded_at TEXT NOT NULL, PRIMARY KEY (name, version))",
    },
    {
        // 11: what people carry for the breakdowns (`attributes:`).
        "CREATE TABLE person_attributes (person TEXT NOT NULL REFERENCES people(id), name TEXT NOT NULL,"
        " value TEXT NOT NULL, PRIMARY KEY (person, name))",
        "CREATE INDEX person_attributes_by_value ON person_attributes (name, value)",
    },
    {
        // 12: whose personal data went into each stored text, recorded when
        // it is issued (a document INSTANCE:NAME:ISSUE, an order N/YYYY, a
        // consent consent:PERSON:ISSUE): `subject` when the text is about
        // them (a party), `mentioned` when it only names them (a guardian
        // who signs for a ward, the curator, the director). Erasure decides
        // from this what to destroy and what to redact. A redacted text
        // keeps the SHA-256 of what was issued.
        "CREATE TABLE document_people (document TEXT NOT NULL, person TEXT NOT NULL, capacity TEXT NOT NULL,"
        " PRIMARY KEY (document, person))",
        "CREATE INDEX document_people_by_person ON document_people (person)",
        "ALTER TABLE documents ADD COLUMN redacted_at TEXT",
        "ALTER TABLE orders ADD COLUMN redacted_at TEXT",
        "ALTER TABLE consents ADD COLUMN redacted_at TEXT",
    },
    {
        // 13: accounts for `serve`. A person's password (argon2id, the
        // libsodium string that carries its own salt and parameters); the
        // single-use tokens of invitations and password resets, and the
        // sessions, by the SHA-256 of the token only; failed logins by
        // account and by address, so several processes share the count;
        // private calendar feeds by the SHA-256 of their token.
        "CREATE TABLE accounts (person TEXT PRIMARY KEY REFERENCES people(id), password_hash TEXT NOT NULL,"
        " created_at TEXT NOT NULL, changed_at TEXT NOT NULL)",
        "CREATE TABLE account_tokens (token_hash TEXT PRIMARY KEY, person TEXT NOT NULL REFERENCES people(id),"
        " kind TEXT NOT NULL, created_at TEXT NOT NULL, expires_at TEXT NOT NULL, used_at TEXT)",
        "CREATE INDEX account_tokens_by_person ON account_tokens (person)",
        "CREATE TABLE sessions (token_hash TEXT PRIMARY KEY, person TEXT NOT NULL REFERENCES people(id),"
        " csrf TEXT NOT NULL, created_at TEXT NOT NULL, seen_at TEXT NOT NULL)",
        "CREATE INDEX sessions_by_person ON sessions (person)",
        "CREATE TABLE login_failures (scope TEXT NOT NULL, subject TEXT NOT NULL, at TEXT NOT NULL)",
        "CREATE INDEX login_failures_by_subject ON login_failures (scope, subject, at)",
        "CREATE TABLE calendar_feeds (token_hash TEXT PRIMARY KEY, person TEXT NOT NULL REFERENCES people(id),"
        " created_at TEXT NOT NULL)",
        "CREATE INDEX calendar_feeds_by_person ON calendar_feeds (person)",
    },
    {
        // 14: a consent is given for a purpose (152-FZ art. 9): the one a
        // workflow declares (`purpose:`); every earlier consent was for
        // mentoring. people.consent stays the flag of that purpose.
        "ALTER TABLE consents ADD COLUMN purpose TEXT NOT NULL DEFAULT 'mentoring'",
        "CREATE INDEX consents_by_purpose ON consents (person, purpose, issue)",
    },
    {
        // 15: what a written consent states of a person (152-FZ art. 9
        // part 4): the address and the identity document; on a minor's
        // record, the document of their representative's authority.
        "ALTER TABLE person_data ADD COLUMN address TEXT",
        "ALTER TABLE person_data ADD COLUMN document_kind TEXT",
        "ALTER TABLE person_data ADD COLUMN document_number TEXT",
        "ALTER TABLE person_data ADD COLUMN document_issued TEXT",
        "ALTER TABLE person_data ADD COLUMN document_issuer TEXT",
        "ALTER TABLE person_data ADD COLUMN authority TEXT",
    },
    {
        // 16: institutions (MigrateToInstitutions).
    },
    {
        // 17: the regional centre (MigrateToRegion).
    },
};

// Work a migration does beyond its statements, after them.
constexpr int kPairFactsMigration = 9;

// 16: a region on one database. Every table is rebuilt with the column
// `institution` first and in every primary, unique and foreign key; the rows
// a database held become the institution's that `init` names (the first).
// On PostgreSQL each table then has row-level security enabled and forced,
// with a policy that shows a transaction the rows of the institution it set
// (set_config('mentorflow.institution', ID, true)) and nothing when it set
// none. schema_version alone stays the database's, not an institution's.
constexpr int kInstitutionsMigration = 16;

// 17: the regional centre. annual_reports keeps the figures of each issue of
// a document that goes to the region (`to_region: true`) and when its last
// signature came; regional_centres marks the institutions that are regional
// centres. On PostgreSQL a transaction within a regional centre reads, past
// its own rows, the signed reports, the list of institutions and their
// display names, and nothing else of theirs; the views region_institutions
// and region_reports are all a regional database role may read.
constexpr int kRegionMigration = 17;

// In creation order: a table comes after those its foreign keys name.
const std::vector<TableShape>& Tables16() {
  static const std::vector<TableShape> kShapes = {
      {"institutions", "created_at TEXT NOT NULL", "PRIMARY KEY (institution)", {}},
      {"workflow_definitions", "name TEXT NOT NULL, version BIGINT NOT NULL, source TEXT NOT NULL, hash TEXT NOT NULL,"
       " registered_at TEXT NOT NULL", "PRIMARY KEY (institution, name, version)", {}},
      {"people", "id TEXT NOT NULL, guardian TEXT, consent INTEGER NOT NULL DEFAULT 0, created TEXT NOT NULL,"
       " erased_at TEXT, birth_year BIGINT", "PRIMARY KEY (institution, id)", {}},
      {"person_roles", "person TEXT NOT NULL, role TEXT NOT NULL",
       "PRIMARY KEY (institution, person, role), FOREIGN KEY (institution, person) REFERENCES people (institution, id)",
       {"person_roles_by_role ON person_roles (institution, role)"}},
      {"person_data", "id TEXT NOT NULL, name TEXT NOT NULL, birth TEXT, email TEXT, address TEXT, document_kind TEXT,"
       " document_number TEXT, document_issued TEXT, document_issuer TEXT, authority TEXT",
       "PRIMARY KEY (institution, id), FOREIGN KEY (institution, id) REFERENCES people (institution, id)", {}},
      {"counters", "name TEXT NOT NULL, value BIGINT NOT NULL", "PRIMARY KEY (institution, name)", {}},
      {"instances", "id TEXT NOT NULL, workflow TEXT NOT NULL, workflow_version BIGINT NOT NULL, state TEXT NOT NULL,"
       " fields TEXT NOT NULL, parent TEXT, version BIGINT NOT NULL, created TEXT NOT NULL, updated TEXT NOT NULL",
       "PRIMARY KEY (institution, id)",
       {"instances_by_workflow_state ON instances (institution, workflow, state)",
        "instances_by_parent ON instances (institution, parent, workflow)"}},
      {"history", "instance TEXT NOT NULL, seq BIGINT NOT NULL, at TEXT NOT NULL, actor TEXT NOT NULL, role TEXT NOT NULL,"
       " event TEXT NOT NULL, from_state TEXT, to_state TEXT NOT NULL, changes TEXT NOT NULL, workflow_version BIGINT,"
       " note TEXT", "PRIMARY KEY (institution, instance, seq)", {}},
      // tick takes the earliest due timers of an institution: timers_pending
      // is that ORDER BY; timers_by_due finds the institutions with any due.
      {"timers", "instance TEXT NOT NULL, timer_key TEXT NOT NULL, state TEXT NOT NULL, event TEXT NOT NULL,"
       " due TEXT NOT NULL, recipients TEXT", "PRIMARY KEY (institution, instance, timer_key)",
       {"timers_pending ON timers (institution, due, instance, timer_key)", "timers_by_due ON timers (due, institution)"}},
      {"reminders", "id {ID}, instance TEXT NOT NULL, workflow TEXT NOT NULL, reminder_key TEXT NOT NULL,"
       " send_on TEXT NOT NULL, recipient TEXT NOT NULL, kind TEXT NOT NULL, deadline TEXT, event TEXT,"
       " template TEXT NOT NULL, subject TEXT NOT NULL, body TEXT NOT NULL, status TEXT NOT NULL,"
       " tries BIGINT NOT NULL DEFAULT 0, next_attempt TEXT, last_error TEXT, claimed_by TEXT, claimed_at TEXT,"
       " sent_at TEXT, acked_at TEXT, created TEXT NOT NULL",
       "{ID_KEY}, UNIQUE (institution, instance, reminder_key, send_on, recipient)",
       {"reminders_by_status_day ON reminders (institution, status, send_on)",
        "reminders_by_instance_key ON reminders (institution, instance, reminder_key)",
        "reminders_by_recipient ON reminders (institution, recipient, send_on)",
        "reminders_due ON reminders (status, send_on, institution)",
        // deliver claims the first free ones, and looks at those claimed.
        "reminders_free ON reminders (institution, send_on, id) WHERE claimed_by IS NULL"
        " AND status IN ('pending', 'failed', 'retried')",
        "reminders_claimed ON reminders (institution) WHERE claimed_by IS NOT NULL"}},
      {"documents", "instance TEXT NOT NULL, name TEXT NOT NULL, issue BIGINT NOT NULL, template TEXT NOT NULL,"
       " issued_at TEXT NOT NULL, status TEXT NOT NULL, signatures TEXT NOT NULL, content TEXT, sha256 TEXT,"
       " erased_at TEXT, redacted_at TEXT", "PRIMARY KEY (institution, instance, name, issue)", {}},
      {"settings", "key TEXT NOT NULL, value TEXT NOT NULL", "PRIMARY KEY (institution, key)", {}},
      {"person_history", "person TEXT NOT NULL, seq BIGINT NOT NULL, at TEXT NOT NULL, actor TEXT NOT NULL,"
       " role TEXT NOT NULL, event TEXT NOT NULL, note TEXT", "PRIMARY KEY (institution, person, seq)", {}},
      {"orders", "year BIGINT NOT NULL, number BIGINT NOT NULL, workflow TEXT NOT NULL, workflow_version BIGINT NOT NULL,"
       " name TEXT NOT NULL, template TEXT NOT NULL, issued_at TEXT NOT NULL, issued_by TEXT NOT NULL,"
       " status TEXT NOT NULL, signatures TEXT NOT NULL, content TEXT NOT NULL, sha256 TEXT NOT NULL, erased_at TEXT,"
       " redacted_at TEXT", "PRIMARY KEY (institution, year, number)", {}},
      {"order_items", "year BIGINT NOT NULL, number BIGINT NOT NULL, position BIGINT NOT NULL, instance TEXT NOT NULL,"
       " seq BIGINT NOT NULL", "PRIMARY KEY (institution, year, number, position)",
       {"order_items_by_instance ON order_items (institution, instance)"}},
      {"consents", "person TEXT NOT NULL, issue BIGINT NOT NULL, template TEXT NOT NULL, issued_at TEXT NOT NULL,"
       " status TEXT NOT NULL, signatures TEXT NOT NULL, content TEXT NOT NULL, sha256 TEXT NOT NULL, paper_date TEXT,"
       " revoked_at TEXT, revoked_by TEXT, erased_at TEXT, redacted_at TEXT, purpose TEXT NOT NULL DEFAULT 'mentoring'",
       "PRIMARY KEY (institution, person, issue), FOREIGN KEY (institution, person) REFERENCES people (institution, id)",
       {"consents_by_purpose ON consents (institution, person, purpose, issue)"}},
      {"destruction_acts", "person TEXT NOT NULL, at TEXT NOT NULL, actor TEXT NOT NULL, grounds TEXT NOT NULL,"
       " content TEXT NOT NULL, sha256 TEXT NOT NULL",
       "PRIMARY KEY (institution, person), FOREIGN KEY (institution, person) REFERENCES people (institution, id)", {}},
      {"calendar", "day TEXT NOT NULL, working INTEGER NOT NULL", "PRIMARY KEY (institution, day)", {}},
      {"pair_facts", "instance TEXT NOT NULL, since_seq BIGINT NOT NULL, since TEXT NOT NULL, until TEXT, formed_at TEXT,"
       " ended_at TEXT, end_state TEXT, ground TEXT, extended_at TEXT, form TEXT, kind TEXT, mentor TEXT, mentee TEXT,"
       " mentee_born BIGINT", "PRIMARY KEY (institution, instance, since_seq)",
       {"pair_facts_by_mentee ON pair_facts (institution, mentee)"}},
      {"data_tables", "name TEXT NOT NULL, version BIGINT NOT NULL, source TEXT NOT NULL, hash TEXT NOT NULL,"
       " loaded_at TEXT NOT NULL", "PRIMARY KEY (institution, name, version)", {}},
      {"person_attributes", "person TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL",
       "PRIMARY KEY (institution, person, name), FOREIGN KEY (institution, person) REFERENCES people (institution, id)",
       {"person_attributes_by_value ON person_attributes (institution, name, value)"}},
      {"document_people", "document TEXT NOT NULL, person TEXT NOT NULL, capacity TEXT NOT NULL",
       "PRIMARY KEY (institution, document, person)",
       {"document_people_by_person ON document_people (institution, person)"}},
      {"accounts", "person TEXT NOT NULL, password_hash TEXT NOT NULL, created_at TEXT NOT NULL, changed_at TEXT NOT NULL",
       "PRIMARY KEY (institution, person), FOREIGN KEY (institution, person) REFERENCES people (institution, id)", {}},
      {"account_tokens", "token_hash TEXT NOT NULL, person TEXT NOT NULL, kind TEXT NOT NULL, created_at TEXT NOT NULL,"
       " expires_at TEXT NOT NULL, used_at TEXT",
       "PRIMARY KEY (institution, token_hash), FOREIGN KEY (institution, person) REFERENCES people (institution, id)",
       {"account_tokens_by_person ON account_tokens (institution, person)"}},
      {"sessions", "token_hash TEXT NOT NULL, person TEXT NOT NULL, csrf TEXT NOT NULL, created_at TEXT NOT NULL,"
       " seen_at TEXT NOT NULL",
       "PRIMARY KEY (institution, token_hash), FOREIGN KEY (institution, person) REFERENCES people (institution, id)",
       {"sessions_by_person ON sessions (institution, person)"}},
      {"login_failures", "scope TEXT NOT NULL, subject TEXT NOT NULL, at TEXT NOT NULL", nullptr,
       {"login_failures_by_subject ON login_failures (institution, scope, subject, at)"}},
      {"calendar_feeds", "token_hash TEXT NOT NULL, person TEXT NOT NULL, created_at TEXT NOT NULL",
       "PRIMARY KEY (institution, token_hash), FOREIGN KEY (institution, person) REFERENCES people (institution, id)",
       {"calendar_feeds_by_person ON calendar_feeds (institution, person)"}},
  };
  return kShapes;
}

const std::vector<TableShape>& Tables17() {
  static const std::vector<TableShape> kShapes = {
      {"regional_centres", "created_at TEXT NOT NULL",
       "PRIMARY KEY (institution), FOREIGN KEY (institution) REFERENCES institutions (institution)", {}},
      {"annual_reports", "year BIGINT NOT NULL, instance TEXT NOT NULL, issue BIGINT NOT NULL, figures TEXT NOT NULL,"
       " issued_at TEXT NOT NULL, signed_at TEXT",
       "PRIMARY KEY (institution, year, instance, issue),"
       " FOREIGN KEY (institution, instance) REFERENCES instances (institution, id)",
       {"annual_reports_by_year ON annual_reports (year, institution)"}},
  };
  return kShapes;
}

// The column names of a TableShape's `columns`.
std::vector<std::string> ColumnNames(const char* columns) {
  std::vector<std::string> out;
  std::stringstream in(columns);
  std::string part;
  while (std::getline(in, part, ',')) {
    auto b = part.find_first_not_of(' ');
    out.push_back(part.substr(b, part.find(' ', b) - b));
  }
  return out;
}

}  // namespace

// A table of TableShape, with its indexes.
void SociStore::CreateTable(const TableShape& t) {
  std::string create = std::string("CREATE TABLE ") + t.name + " (institution TEXT NOT NULL, " + t.columns +
                       (t.keys ? std::string(", ") + t.keys : std::string()) + ")";
  if (auto p = create.find("{ID}"); p != std::string::npos) create.replace(p, 4, sqlite_ ? "INTEGER PRIMARY KEY AUTOINCREMENT" : "BIGSERIAL");
  // SQLite numbers reminders with its rowid; a key of two columns cannot.
  if (auto p = create.find("{ID_KEY}"); p != std::string::npos)
    create.replace(p, 8, sqlite_ ? "UNIQUE (institution, id)" : "PRIMARY KEY (institution, id)");
  *sql_ << create;
  for (const char* index : t.indexes) *sql_ << std::string("CREATE INDEX ") + index;
}

// PostgreSQL: row security enabled and forced on `table`, with the policy
// that shows a transaction the rows of the institution it set.
void SociStore::Wall(const std::string& table) {
  *sql_ << "ALTER TABLE " + table + " ENABLE ROW LEVEL SECURITY";
  *sql_ << "ALTER TABLE " + table + " FORCE ROW LEVEL SECURITY";
  *sql_ << "CREATE POLICY institution_wall ON " + table +
               " USING (institution = current_setting('mentorflow.institution', true))"
               " WITH CHECK (institution = current_setting('mentorflow.institution', true))";
}

// Every table of an institution, as migrations 16 and 17 leave them.
std::vector<std::string> SociStore::InstitutionTables() {
  std::vector<std::string> out;
  for (const auto& t : Tables16()) out.push_back(t.name);
  for (const auto& t : Tables17()) out.push_back(t.name);
  return out;
}

void SociStore::MigrateToInstitutions() {
  const auto& shapes = Tables16();
  const std::string first = I();
  // Copy out what is there (every table but the new one), drop the old
  // tables (those that name others first), create the new ones, copy back.
  auto existed = [](const TableShape& t) { return std::string(t.name) != "institutions"; };
  for (const auto& t : shapes)
    if (existed(t)) *sql_ << std::string("CREATE TABLE ") + t.name + "_v15 AS SELECT * FROM " + t.name;
  for (auto t = shapes.rbegin(); t != shapes.rend(); ++t)
    if (existed(*t)) *sql_ << std::string("DROP TABLE ") + t->name;
  for (const auto& t : shapes) CreateTable(t);
  for (const auto& t : shapes) {
    if (!existed(t)) continue;
    std::string names;
    for (const auto& c : ColumnNames(t.columns)) names += ", " + c;
    *sql_ << std::string("INSERT INTO ") + t.name + " (institution" + names + ") SELECT " + first + names +
                 " FROM " + t.name + "_v15";
    *sql_ << std::string("DROP TABLE ") + t.name + "_v15";
  }
  if (!sqlite_) {
    *sql_ << "SELECT setval(pg_get_serial_sequence('reminders', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM reminders";
    for (const auto& t : shapes) Wall(t.name);
    // The list of institutions (ids, nothing else) for a transaction that
    // names '*': tick and deliver go round them; no other table answers it.
    *sql_ << "CREATE POLICY institutions_listed ON institutions FOR SELECT"
             " USING (current_setting('mentorflow.institution', true) = '*')";
  }
}

void SociStore::MigrateToRegion() {
  for (const auto& t : Tables17()) CreateTable(t);
  if (sqlite_) return;  // a file holds one institution: no region to read
  for (const auto& t : Tables17()) Wall(t.name);
  const std::string regional =
      "EXISTS (SELECT 1 FROM regional_centres r"
      " WHERE r.institution = current_setting('mentorflow.institution', true))";
  // The workflows registered for every institution (init --shared-workflows).
  *sql_ << std::string("CREATE POLICY shared_definitions ON workflow_definitions FOR SELECT USING (institution = '") +
               kSharedInstitution + "')";
  *sql_ << "CREATE POLICY regional_reads ON annual_reports FOR SELECT USING (signed_at IS NOT NULL AND " + regional + ")";
  *sql_ << "CREATE POLICY regional_reads ON institutions FOR SELECT USING (" + regional + ")";
  *sql_ << "CREATE POLICY regional_reads ON settings FOR SELECT USING (key = 'institution' AND " + regional + ")";
  // The directory of a regional server's login page: each institution's
  // display name, for a transaction that names '*' (as its list is).
  *sql_ << "CREATE POLICY institutions_named ON settings FOR SELECT"
           " USING (key = 'institution' AND current_setting('mentorflow.institution', true) = '*')";
  // The views say again what the policies allow, so that they show no more
  // when their owner is a superuser (whom row security does not bind).
  *sql_ << "CREATE VIEW region_institutions AS SELECT i.institution, s.value AS name, i.created_at"
           " FROM institutions i LEFT JOIN settings s ON s.institution = i.institution AND s.key = 'institution'"
           " WHERE " + regional + " AND i.institution <> current_setting('mentorflow.institution', true)";
  *sql_ << "CREATE VIEW region_reports AS SELECT DISTINCT ON (a.institution, a.year) a.institution, a.year,"
           " a.figures, a.signed_at FROM annual_reports a WHERE a.signed_at IS NOT NULL AND " + regional +
           " ORDER BY a.institution, a.year, a.signed_at DESC, a.issued_at DESC, a.issue DESC";
}

namespace {

const SettingDef* FindSetting(const std::string& key) {
  for (const auto& s : KnownSettings())
    if (key == s.key) return &s;
  return nullptr;
}

Status CheckSetting(const std::string& key, const std::string& value) {
  const SettingDef* def = FindSetting(key);
  if (!def) {
    std::string known;
    for (const auto& s : KnownSettings()) known += (known.empty() ? "" : ", ") + std::string(s.key);
    return Status::BadInput("no setting '" + EscapeControls(key) + "' (known: " + known + ")");
  }
  if (Status s = CheckText(key, value, kMaxValueBytes); !s.ok()) return s;
  if (key == "zone" && (value.empty() || value == "UTC" ? false : !IsKnownZone(value)))
    return Status::BadInput("zone: unknown time zone '" + EscapeControls(value) + "' (an IANA name such as Europe/Samara)");
  if (key == "zone" && value.empty()) return Status::BadInput("zone: give an IANA time zone such as Europe/Moscow");
  if (key == "smtp_tls" && value != "auto" && value != "required" && value != "none")
    return Status::BadInput("smtp_tls: auto, required or none");
  if (key == "smtp_password_from" && !value.empty() && value.rfind("file:", 0) != 0 && value.rfind("env:", 0) != 0)
    return Status::BadInput("smtp_password_from: file:PATH or env:NAME (the password itself is never stored)");
  if (key == "base_url" && value.rfind("http://", 0) != 0 && value.rfind("https://", 0) != 0)
    return Status::BadInput("base_url: an http:// or https:// address");
  if (key == "mail_from" && !IsEmailAddress(value))
    return Status::BadInput("mail_from: '" + EscapeControls(value) +
                            "' is not an e-mail address (local@domain, nothing else: no spaces, no <>)");
  if (std::string(def->default_value).find_first_not_of("0123456789") == std::string::npos &&
      *def->default_value != '\0') {
    if (value.empty() || value.size() > 9 || value.find_first_not_of("0123456789") != std::string::npos ||
        std::stoll(value) < 1)
      return Status::BadInput(key + ": '" + value + "' is not a whole number from 1");
  }
  return Status::Ok();
}

}  // namespace

Status SociStore::RegisterDefinitions(const Catalog& catalog, const std::string& into, const Now& when,
                                      std::vector<std::string>* registered) {
  const std::string shared = std::string("'") + kSharedInstitution + "'";
  for (const auto& def : catalog.definitions()) {
    std::ifstream in(def->source_path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string source = ss.str(), hash = Fnv1a(source), old_hash;
    long long version = def->version;
    soci::indicator ind = soci::i_null;
    if (into != shared) {  // registered for every institution: no copy; other content: a number of its own
      *sql_ << "SELECT hash FROM workflow_definitions WHERE institution = " + shared + " AND name = :n AND version = :v",
          soci::into(old_hash, ind), soci::use(def->name), soci::use(version);
      if (ind == soci::i_ok && old_hash == hash) continue;
      if (ind == soci::i_ok)
        return Status::BadInput(def->source_path + ": workflow '" + def->name + "' version " +
                                std::to_string(def->version) +
                                " is registered for every institution with other content; an institution's own"
                                " version needs a number of its own (bump 'version:')");
    }
    *sql_ << "SELECT hash FROM workflow_definitions WHERE institution = " + into + " AND name = :n AND version = :v",
        soci::into(old_hash, ind), soci::use(def->name), soci::use(version);
    if (ind == soci::i_ok) {
      if (old_hash != hash)
        return Status::BadInput(def->source_path + ": workflow '" + def->name + "' version " +
                                std::to_string(def->version) +
                                " is already registered with different content; bump 'version:'");
      continue;
    }
    std::string now = FormatInstant(when.instant);
    *sql_ << "INSERT INTO workflow_definitions (institution, name, version, source, hash, registered_at)"
             " VALUES (" + into + ", :n, :v, :s, :h, :t)",
        soci::use(def->name), soci::use(version), soci::use(source), soci::use(hash), soci::use(now);
    if (registered) registered->push_back(def->name + " v" + std::to_string(def->version));
  }
  return Status::Ok();
}

bool SociStore::SchemaTableExists() {
  int n = 0;
  if (sqlite_)
    *sql_ << "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'", soci::into(n);
  else
    *sql_ << "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()"
             " AND table_name = 'schema_version'",
        soci::into(n);
  return n > 0;
}

int SociStore::SchemaVersion(bool create) {
  if (!SchemaTableExists()) {
    if (!create) return 0;
    *sql_ << "CREATE TABLE schema_version (version BIGINT NOT NULL)";
  }
  long long v = 0;
  soci::indicator ind = soci::i_null;
  *sql_ << "SELECT MAX(version) FROM schema_version", soci::into(v, ind);
  return ind == soci::i_ok ? static_cast<int>(v) : 0;
}

Status SociStore::Init(const Catalog& catalog, const Now& when, std::vector<std::string>* registered,
                       const InitOptions& options) {
  if (!options.zone.empty())
    if (Status s = CheckSetting("zone", options.zone); !s.ok()) return s;
  if (!options.institution.empty())
    if (Status s = CheckSetting("institution", options.institution); !s.ok()) return s;
  if (!options.institution_address.empty())
    if (Status s = CheckSetting("institution_address", options.institution_address); !s.ok()) return s;
  return Guard([&]() -> Status {
    Tx tx(*this);
    // Several `init`s at once on a new PostgreSQL database: one at a time.
    if (!sqlite_) *sql_ << "SELECT pg_advisory_xact_lock(7231001)";
    int have = SchemaVersion(true);
    if (have >= kInstitutionsMigration) AdoptFileInstitution();
    if (have > kSchemaVersion)
      return Status::BadInput("the database has schema version " + std::to_string(have) +
                              ", newer than this mentorflow (" + std::to_string(kSchemaVersion) + "); upgrade mentorflow");
    bool rebuild_pair_facts = false;
    for (int v = have; v < kSchemaVersion; ++v) {
      for (const char* stmt : kMigrations[v]) {
        std::string text = stmt;
        if (auto p = text.find("{ID}"); p != std::string::npos)
          text.replace(p, 4, sqlite_ ? "INTEGER PRIMARY KEY AUTOINCREMENT" : "BIGSERIAL PRIMARY KEY");
        *sql_ << text;
      }
      long long next = v + 1;
      // Filled once every table names its institution (its statements do).
      if (next == kPairFactsMigration) rebuild_pair_facts = true;
      if (next == kInstitutionsMigration) MigrateToInstitutions();
      if (next == kRegionMigration) MigrateToRegion();
      *sql_ << "INSERT INTO schema_version (version) VALUES (:v)", soci::use(next);
    }
    if (rebuild_pair_facts) RebuildPairFacts();
    if (options.shared_workflows) {  // the workflows alone, for every institution
      if (sqlite_)
        return Status::BadInput("--shared-workflows: a database several institutions share (PostgreSQL); an SQLite"
                                " file holds one institution, which registers its own");
      *sql_ << std::string("SELECT set_config('mentorflow.institution', '") + kSharedInstitution + "', true)";
      const std::string shared = std::string("'") + kSharedInstitution + "'";
      if (Status s = RegisterDefinitions(catalog, shared, when, registered); !s.ok()) return s;
      tx.Commit();
      return Status::Ok();
    }
    if (sqlite_) {
      // SQLite keeps one institution per file.
      std::string other;
      soci::indicator ind = soci::i_null;
      *sql_ << "SELECT institution FROM institutions WHERE institution <> " + I() + " LIMIT 1", soci::into(other, ind);
      if (ind == soci::i_ok)
        return Status::BadInput("this SQLite file holds institution '" + other +
                                "': a file keeps one institution (several share a PostgreSQL database)");
    }
    {
      int n = 0;
      *sql_ << "SELECT COUNT(*) FROM institutions WHERE institution = " + I(), soci::into(n);
      if (n == 0) {
        std::string now = FormatInstant(when.instant);
        *sql_ << "INSERT INTO institutions (institution, created_at) VALUES (" + I() + ", :t)", soci::use(now);
        *sql_ << "INSERT INTO counters (institution, name, value) SELECT " + I() +
                     ", 'instance', 0 WHERE NOT EXISTS (SELECT 1 FROM counters WHERE institution = " + I() +
                     " AND name = 'instance')";
      }
    }
    ready_ = true;
    auto put = [&](const std::string& key, const std::string& value, bool overwrite) {
      int n = 0;
      *sql_ << "SELECT COUNT(*) FROM settings WHERE institution = " + I() + " AND key = :k", soci::into(n), soci::use(key);
      if (n == 0)
        *sql_ << "INSERT INTO settings (institution, key, value) VALUES (" + I() + ", :k, :v)", soci::use(key),
            soci::use(value);
      else if (overwrite)
        *sql_ << "UPDATE settings SET value = :v WHERE institution = " + I() + " AND key = :k", soci::use(value),
            soci::use(key);
    };
    put("zone", options.zone.empty() ? "Europe/Moscow" : options.zone, !options.zone.empty());
    if (!options.institution.empty()) put("institution", options.institution, true);
    if (!options.institution_address.empty()) put("institution_address", options.institution_address, true);
    if (!options.calendar.empty()) {
      std::string error;
      auto cal = ParseWorkCalendar(options.calendar, &error);
      if (!cal) return Status::BadInput(options.calendar_source + ": " + error);
      *sql_ << "DELETE FROM calendar WHERE institution = " + I();
      for (const auto& [day, working] : cal->overrides) {
        std::string d = FormatDate(day);
        int w = working ? 1 : 0;
        *sql_ << "INSERT INTO calendar (institution, day, working) VALUES (" + I() + ", :d, :w)", soci::use(d),
            soci::use(w);
      }
    }
    settings_cache_.clear();
    if (Status s = RegisterDefinitions(catalog, I(), when, registered); !s.ok()) return s;
    for (const auto& t : catalog.tables()) {
      std::string hash = Fnv1a(t.source), old_hash;
      long long version = 0;
      soci::indicator ind = soci::i_null;
      *sql_ << "SELECT version, hash FROM data_tables WHERE institution = " + I() +
                   " AND name = :n ORDER BY version DESC LIMIT 1",
          soci::into(version, ind), soci::into(old_hash), soci::use(t.name);
      if (ind == soci::i_ok && old_hash == hash) continue;
      ++version;
      std::string now = FormatInstant(when.instant);
      *sql_ << "INSERT INTO data_tables (institution, name, version, source, hash, loaded_at)"
               " VALUES (" + I() + ", :n, :v, :s, :h, :t)",
          soci::use(t.name), soci::use(version), soci::use(t.source), soci::use(hash), soci::use(now);
      if (registered) registered->push_back("table " + t.name + " v" + std::to_string(version));
    }
    if (!options.director.id.empty()) {
      int n = 0;
      *sql_ << "SELECT COUNT(*) FROM people WHERE institution = " + I() + " AND id = :id", soci::into(n),
          soci::use(options.director.id);
      if (n == 0) {
        PersonRecord d = options.director;
        if (d.roles.empty()) d.roles = {"director"};
        if (Status s = InsertPerson(d, "system", "init", when); !s.ok()) return s;
      }
    }
    if (!options.app_role.empty()) {
      if (sqlite_) return Status::BadInput("--app-role: a PostgreSQL role; SQLite has none");
      if (Status s = CheckRoleName(options.app_role); !s.ok()) return s;
      std::string schema;
      *sql_ << "SELECT current_schema()", soci::into(schema);
      const std::string role = "\"" + options.app_role + "\"", in = " IN SCHEMA \"" + schema + "\" TO " + role;
      // Rows only: the tables stay their owner's, and row security binds the
      // role (it is neither a superuser nor BYPASSRLS: checked at connect).
      *sql_ << "GRANT USAGE ON SCHEMA \"" + schema + "\" TO " + role;
      *sql_ << "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES" + in;
      *sql_ << "REVOKE INSERT, UPDATE, DELETE ON schema_version FROM " + role;
      *sql_ << "GRANT USAGE, SELECT ON ALL SEQUENCES" + in;
    }
    if (options.regional) {
      if (sqlite_)
        return Status::BadInput("--regional: a regional centre reads the institutions of a region's PostgreSQL"
                                " database; an SQLite file holds one institution");
      int n = 0;
      *sql_ << "SELECT COUNT(*) FROM regional_centres WHERE institution = " + I(), soci::into(n);
      if (n == 0) {
        const std::string now = FormatInstant(when.instant);
        *sql_ << "INSERT INTO regional_centres (institution, created_at) VALUES (" + I() + ", :t)", soci::use(now);
      }
    }
    if (!options.regional_role.empty()) {
      if (sqlite_) return Status::BadInput("--regional-role: a PostgreSQL role; SQLite has none");
      if (Status s = CheckRoleName(options.regional_role); !s.ok()) return s;
      std::string schema;
      *sql_ << "SELECT current_schema()", soci::into(schema);
      const std::string role = "\"" + options.regional_role + "\"";
      // The two views, and no table: what the region's figures need.
      *sql_ << "GRANT USAGE ON SCHEMA \"" + schema + "\" TO " + role;
      *sql_ << "GRANT SELECT ON region_institutions, region_reports TO " + role;
    }
    if (options.no_director) {
      int directors = 0;
      *sql_ << "SELECT COUNT(*) FROM person_roles WHERE institution = " + I() + " AND role = 'director'",
          soci::into(directors);
      *options.no_director = directors == 0;
    }
    tx.Commit();
    return Status::Ok();
  });
}

// Checked once per session: a schema change needs `init`, which runs alone.
Status SociStore::Institutions(std::vector<std::string>* out) {
  return Guard([&]() -> Status {
    const int v = SchemaVersion();
    if (v == 0) return Status::BadInput("the database is not initialised: run 'mentorflow init'");
    if (v < kInstitutionsMigration)
      return Status::BadInput("the database has schema version " + std::to_string(v) + "; this mentorflow needs " +
                              std::to_string(kSchemaVersion) + " (run 'mentorflow init')");
    if (!sqlite_) *sql_ << "SELECT set_config('mentorflow.institution', '*', true)";
    soci::rowset<std::string> rs = (sql_->prepare << "SELECT institution FROM institutions ORDER BY institution");
    out->assign(rs.begin(), rs.end());
    if (!sqlite_) *sql_ << BeginContext();  // back within this store's own
    return Status::Ok();
  });
}

Status SociStore::InstitutionDirectory(std::vector<RegionInstitution>* out) {
  return Guard([&]() -> Status {
    const int v = SchemaVersion();
    if (v != kSchemaVersion)
      return Status::BadInput("the database has schema version " + std::to_string(v) + "; this mentorflow needs " +
                              std::to_string(kSchemaVersion) + " (run 'mentorflow init')");
    if (!sqlite_) *sql_ << "SELECT set_config('mentorflow.institution', '*', true)";
    soci::rowset<soci::row> rs =
        (sql_->prepare << "SELECT i.institution, s.value FROM institutions i LEFT JOIN settings s"
                          " ON s.institution = i.institution AND s.key = 'institution'"
                          " ORDER BY COALESCE(s.value, i.institution), i.institution");
    out->clear();
    for (const auto& r : rs) out->push_back({RowText(r, 0), RowText(r, 1)});
    if (!sqlite_) *sql_ << BeginContext();  // back within this store's own
    return Status::Ok();
  });
}

void SociStore::UseNoInstitution() {
  institution_ = kNoInstitution;
  explicit_institution_ = true;
  ready_ = false;
  settings_cache_.clear();
}

Status SociStore::UseInstitution(const std::string& id) {
  if (Status s = CheckInstitutionId(id); !s.ok()) return s;
  if (in_tx_ || context_open_ || in_batch_) return Status::Internal("UseInstitution inside a transaction");
  institution_ = id;
  explicit_institution_ = true;
  ready_ = false;  // Ready() checks that it is there
  settings_cache_.clear();
  return Status::Ok();
}

void SociStore::AdoptFileInstitution() {
  if (!sqlite_ || explicit_institution_) return;
  std::string first;
  soci::indicator ind = soci::i_null;
  *sql_ << "SELECT institution FROM institutions ORDER BY created_at, institution LIMIT 1", soci::into(first, ind);
  if (ind == soci::i_ok && CheckInstitutionId(first).ok()) institution_ = first;
}

Status SociStore::Ready() {
  if (ready_) return Status::Ok();
  int v = SchemaVersion();
  if (v >= kInstitutionsMigration) AdoptFileInstitution();
  if (v == 0) return Status::BadInput("the database is not initialised: run 'mentorflow init'");
  if (v != kSchemaVersion)
    return Status::BadInput("the database has schema version " + std::to_string(v) + "; this mentorflow needs " +
                            std::to_string(kSchemaVersion) + " (run 'mentorflow init')");
  int n = 0;
  *sql_ << "SELECT COUNT(*) FROM institutions WHERE institution = " + I(), soci::into(n);
  if (n == 0)
    return Status::NotFound("no institution '" + institution_ + "' in the database (init --institution-id " +
                            institution_ + " adds it)");
  ready_ = true;
  return Status::Ok();
}

std::string SociStore::Setting(const std::string& key) {
  if (auto it = settings_cache_.find(key); it != settings_cache_.end()) return it->second;
  std::string value;
  soci::indicator ind = soci::i_null;
  *sql_ << "SELECT value FROM settings WHERE institution = " + I() + " AND key = :k", soci::into(value, ind),
      soci::use(key);
  if (ind != soci::i_ok) {
    const SettingDef* def = FindSetting(key);
    value = def ? def->default_value : "";
  }
  settings_cache_[key] = value;
  return value;
}

Status SociStore::Settings(std::vector<std::pair<std::string, std::string>>* out) {
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    for (const auto& s : KnownSettings()) out->push_back({s.key, Setting(s.key)});
    return Status::Ok();
  });
}

Status SociStore::Tables(std::vector<TableVersion>* out) {
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    soci::rowset<soci::row> rs = (sql_->prepare << "SELECT name, version, loaded_at FROM data_tables WHERE institution = " +
                                                       I() + " ORDER BY name, version");
    for (const auto& r : rs) out->push_back({r.get<std::string>(0), static_cast<int>(RowInt(r, 1)), r.get<std::string>(2), ""});
    return Status::Ok();
  });
}

Status SociStore::GetTable(const std::string& name, int version, TableVersion* out) {
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    long long v = version, got = 0;
    soci::indicator ind = soci::i_null;
    if (version > 0)
      *sql_ << "SELECT version, loaded_at, source FROM data_tables WHERE institution = " + I() +
                   " AND name = :n AND version = :v",
          soci::into(got, ind),
          soci::into(out->loaded_at), soci::into(out->source), soci::use(name), soci::use(v);
    else
      *sql_ << "SELECT version, loaded_at, source FROM data_tables WHERE institution = " + I() +
                   " AND name = :n ORDER BY version DESC LIMIT 1",
          soci::into(got, ind), soci::into(out->loaded_at), soci::into(out->source), soci::use(name);
    if (ind != soci::i_ok)
      return Status::NotFound("no table '" + EscapeControls(name) + "'" +
                              (version > 0 ? " version " + std::to_string(version) : std::string()) +
                              " in the database (tables/NAME.csv beside the workflows are stored by init)");
    out->name = name;
    out->version = static_cast<int>(got);
    return Status::Ok();
  });
}

Status SociStore::GetSetting(const std::string& key, std::string* value) {
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    if (!FindSetting(key)) return CheckSetting(key, "");
    *value = Setting(key);
    return Status::Ok();
  });
}

Status SociStore::SetSetting(const std::string& key, const std::string& value, const std::string& actor_id,
                             const Now& now) {
  if (Status s = CheckSetting(key, value); !s.ok()) return s;
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    Tx tx(*this);
    Actor actor = LoadActor(actor_id);
    std::string role = actor.Holds("director") ? "director" : actor.Holds("curator") ? "curator" : "";
    if (role.empty())
      return Status(Code::kRefused,
                    "role: " + (actor_id.empty() ? std::string("nobody") : actor_id) +
                        " may not change settings (a curator or the director does)",
                    "role");
    std::string before = Setting(key);
    int n = 0;
    *sql_ << "SELECT COUNT(*) FROM settings WHERE institution = " + I() + " AND key = :k", soci::into(n), soci::use(key);
    if (n == 0)
      *sql_ << "INSERT INTO settings (institution, key, value) VALUES (" + I() + ", :k, :v)", soci::use(key),
          soci::use(value);
    else
      *sql_ << "UPDATE settings SET value = :v WHERE institution = " + I() + " AND key = :k", soci::use(value),
          soci::use(key);
    if (Status s = AppendPersonHistory(actor_id, actor_id, role, "setting", key + ": '" + before + "' -> '" + value + "'",
                                       now);
        !s.ok())
      return s;
    tx.Commit();
    settings_cache_.erase(key);
    return Status::Ok();
  });
}

}  // namespace storage
}  // namespace mentorflow
