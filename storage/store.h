// Persistent storage of people, workflow definitions, instances, timers and
// the outbox on SOCI: SQLite (sqlite:PATH, the default) or PostgreSQL
// (postgresql://...). The store is the one runtime: the CLI, the scenario
// files and the demo all apply decisions through it, and nothing else does.
//
// Every command is one transaction: a Decision from the pure dispatch core is
// applied together with its history entry, timers, outbox rows and documents,
// or not at all. On PostgreSQL the instance row is locked for the decision
// (SELECT ... FOR UPDATE), so writers on one instance queue; a change that
// still races (a version counter) or a concurrent insert that hits a unique
// key is reported as Code::kConflict, and the loser changed nothing.
// SQLite runs in WAL mode with synchronous=FULL (an acknowledged event
// survives kill -9 and power loss), and every write transaction starts with
// BEGIN IMMEDIATE under a busy timeout. Values are always bound, never
// concatenated into SQL. Not thread-safe: one Store per thread or process.
// Errors carry the rule that refused (Status::rule()) where one did.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/dispatch.h"
#include "engine/loader.h"
#include "engine/migrate.h"
#include "engine/rating.h"
#include "engine/particulars.h"
#include "engine/status.h"

namespace mentorflow {

struct PersonRecord {
  std::string id;
  std::string name;
  std::vector<std::string> roles;
  std::string birth;     // YYYY-MM-DD or empty
  std::string guardian;  // person id or empty
  std::string email;     // where reminders go, or empty
  std::vector<std::pair<std::string, std::string>> attributes = {};  // declared attributes (`attributes:`), by name
  // What a written consent states (152-FZ art. 9 part 4; engine/rules.h):
  // the address, the identity document, and for a minor the document of
  // their representative's authority (a birth certificate, a guardianship
  // decision). Empty when not recorded.
  std::string address = {};
  IdDocument document = {};
  std::string authority = {};
};

// One issue of a document of an instance. Its content (the XHTML its
// template rendered at issue, every value escaped) is fixed and stored with
// its SHA-256; `intact` says whether the bytes still match.
struct DocumentRecord {
  std::string instance, workflow, name, title;
  long long issue = 0;
  std::string template_name, issued_at, status;
  std::string content, sha256;
  bool intact = true;
  // One place per signer entry of the document, in the YAML's order.
  struct Place {
    std::string as, title;    // the signer entry (a person field or a role) and its title
    std::string person, name;  // who signs (the field's person, or who signed for a role); may be empty
    std::string capacity, signed_at;  // empty while unsigned
    std::string signed_by, signed_by_name;  // who signed: the person, or their guardian ("guardian of ID")
    std::string via;  // how they were known: "account", "console", or "" (see Signature in engine/rules.h)
    // A minor's legal representative's line (`ward` is the minor), right
    // after the minor's own place; `represented`: the minor's own place,
    // which their representative signs instead (under 14).
    bool representative = false, represented = false;
    std::string ward;
    // A paper form recorded by a curator: the date written on it, and the
    // curator who entered it (signed_at is then the entry).
    std::string paper_date, entered_by, entered_by_name;
  };
  std::vector<Place> places;
  // A collective document (an order): its number "N/YYYY", who issued it,
  // and the instances it lists, in order; `instance` is then empty.
  std::string number, issued_by;
  std::vector<std::string> items;
  // A person's consent (`name` "consent", id consent:PERSON:ISSUE) or the
  // act of destruction of their data (`name` "act", id act:PERSON):
  // `subject` is the person.
  std::string subject, paper_date;
  std::string purpose;  // a consent's purpose
  // When the text was destroyed because the person it was about was erased,
  // or when a person it only mentioned (a guardian, the curator, the
  // director) was erased and their name in it replaced: the SHA-256 is then
  // that of the text as issued.
  std::string erased_at, redacted_at;
  std::string Id() const {
    if (!subject.empty()) return name == "act" ? "act:" + subject : "consent:" + subject + ":" + std::to_string(issue);
    return number.empty() ? instance + ":" + name + ":" + std::to_string(issue) : number;
  }
};

struct InstanceRecord {
  std::string id;
  std::string workflow;
  int workflow_version = 0;
  std::string state;
  std::string fields_json;  // {"field": value, ...}
  std::string parent;
  long version = 0;
  std::string created;
  std::string updated;
};

struct HistoryRecord {
  long seq = 0;
  int workflow_version = 0;  // the version the instance ran after this entry
  std::string at, actor, role, event, from, to;
  std::string changes_json;  // [{"field","before","after"}]
  std::string note;          // a signature, or why a deadline's event was refused
};

// One reminder of the outbox: to one person, about one instance.
struct ReminderRecord {
  long long id = 0;
  std::string on;        // YYYY-MM-DD: the day it is to go out
  std::string deadline;  // YYYY-MM-DD, or empty for a notice
  std::string kind;      // upcoming, due, overdue, notice
  std::string to;        // person id
  std::string to_name, to_email;
  std::string instance, workflow, event;
  std::string subject, text;
  std::string status;  // see engine/outbox_lifecycle.h
  int tries = 0;
  std::string last_error, next_attempt, sent_at, acked_at;
  std::string reminder_key;
};

// The figures of one calendar year (`stats annual`): counts of people and
// pairs, never who they are. See storage/stats.cpp for what each counts.
struct AnnualFigures {
  int year = 0;
  long long mentors = 0, mentees = 0, mentees_minors = 0;  // distinct people
  long long formed = 0, active = 0, completed = 0, terminated = 0, extended = 0;  // pairs
  std::map<std::string, long long> terminated_by_reason, by_form, by_kind;  // enum value -> pairs
  std::optional<double> mean_days_completed;  // none completed: none
  long long monitoring_due = 0, monitoring_on_time = 0, monitoring_late = 0, monitoring_missed = 0;
  // The values the registered workflow declares for each group, in its
  // YAML's order, with their titles; the three maps list each of them,
  // zeros included.
  struct Declared {
    std::string group, value, title;
  };
  std::vector<Declared> declared;
  struct Entry {
    std::string value, title;
    long long count = 0;
  };
  // The values of `group` (by_form, by_kind, terminated_by_reason) in the
  // YAML's order, then any the workflow no longer declares.
  std::vector<Entry> Entries(const std::string& group) const;
};

// The figures as `stats annual --format json` prints them: year, mentors,
// mentees, mentees_minors, pairs{formed, active, completed, terminated,
// extended}, terminated_by_reason, by_form, by_kind, mean_days_completed
// (null when no pair completed), monitoring{due, on_time, late, missed}.
nlohmann::json AnnualFiguresJson(const AnnualFigures& f);

// A deadline still to come: an armed timer.
struct DeadlineRecord {
  std::string instance, workflow, workflow_title, state, state_title, event, timer_key;
  std::string due;                      // YYYY-MM-DD
  std::vector<std::string> recipients;  // who its reminders go to
  // A list record on its own date (a plan's item, `remind:` on the list):
  // its id and title; timer_key is then "item:LIST:ID". Empty for a deadline.
  std::string item_id, item_title;
};

// "postgresql://user[:password]@host[:port]/dbname[?k=v&...]" -> libpq's
// "host=... port=... user=... dbname=..." form, which SOCI passes on as is.
// Other strings are returned unchanged.
// With `institution`, the session starts within it, or with "*" able to
// list the institutions (for a tool's own connection: mentorflow sets its
// institution per transaction instead).
std::string PostgresConnectionString(const std::string& url, const std::string& institution = "");

// What `person update` changes: each set member, and roles added or removed.
struct PersonUpdate {
  std::string id;
  std::optional<std::string> name, birth, email, guardian;
  // What a consent states: the person themself or whoever acts for them
  // (engine/rules.h SubjectActors) may change these alone; empty clears.
  std::optional<std::string> address, document_kind, document_number, document_issued, document_issuer, authority;
  bool OnlyParticulars() const {
    return !name && !birth && !email && !guardian && add_roles.empty() && remove_roles.empty() && attributes.empty();
  }
  std::vector<std::string> add_roles, remove_roles;
  std::vector<std::pair<std::string, std::string>> attributes;  // set; an empty value removes it
};

struct StoreOptions {
  // Where templates live; reminders are rendered from TEMPLATES/reminders/.
  std::string templates_dir;
  // For commands that only read: an SQLite file is never created, and one
  // the user may read but not write (a copy, a backup, another user's) is
  // opened read-only with its journal mode left as it is. Such a store
  // applies the read rule but cannot record the read (AuthorizeRead); a file
  // that can be written is opened for writing, so that reads are recorded.
  bool read_only = false;
  // The institution every statement acts within (--institution-id,
  // MENTORFLOW_INSTITUTION); empty: "default", the first of a database.
  std::string institution;
};

// An institution id: 1 to 40 of a-z, 0-9, '-' and '_', from a letter or digit.
Status CheckInstitutionId(const std::string& id);
constexpr const char* kDefaultInstitution = "default";
// No institution (ids never begin with '_'): a store set to it reads nothing.
constexpr const char* kNoInstitution = "_none";
// The workflows registered for every institution of a database
// (`init --shared-workflows`) are kept under this institution.
constexpr const char* kSharedInstitution = "_shared";

// The settings an institution keeps in its database, with their defaults.
// `settings KEY VALUE` checks each value (a known zone, a positive number).
struct SettingDef {
  const char* key;
  const char* default_value;
  const char* help;
};
const std::vector<SettingDef>& KnownSettings();

class Store {
 public:
  virtual ~Store() = default;

  // Opens (and for SQLite creates, readable by its owner only) the database at `url`.
  static std::unique_ptr<Store> Open(const std::string& url, Status* status, const StoreOptions& options = {});

  struct InitOptions {
    std::string zone;         // IANA; empty: keep the stored one (Europe/Moscow for a new database)
    std::string institution;  // empty: keep the stored one
    std::string institution_address;  // empty: keep the stored one
    PersonRecord director;    // id empty: none
    bool* no_director = nullptr;  // out, optional: set to whether the database still has no director
    // The production calendar (calendar/ru.txt: "YYYY-MM-DD off|work"),
    // stored in place of the one before; empty: keep the stored one.
    std::string calendar, calendar_source;
    // PostgreSQL: the role `serve` and the commands connect as, granted the
    // rows of every table (never their ownership); empty: no grant.
    std::string app_role;
    // PostgreSQL: this institution is the region's mentoring centre: it
    // reads the list of institutions and their signed annual reports, and
    // nothing else of theirs.
    bool regional = false;
    // PostgreSQL: a role granted the two views of the region
    // (region_institutions, region_reports) and no table; empty: no grant.
    std::string regional_role;
    // PostgreSQL: register the catalog's workflows once for every
    // institution (and nothing else). An institution's own `init` then keeps
    // no copy of a workflow registered so; one whose content differs is its
    // own under a version number the shared one does not have, and its
    // latest version is the one it starts.
    bool shared_workflows = false;
  };
  // Creates or upgrades the schema, stores the settings given, then
  // registers each definition of `catalog` whose version is new. A changed
  // file under an already registered version is refused (bump `version:`).
  // A database written by a newer mentorflow is refused. Safe to run twice.
  // ---- the regional centre ----
  struct RegionInstitution {
    std::string id, name;  // name: the institution's setting, empty when unset
  };
  struct RegionReport {
    std::string institution, signed_at;  // signed_at: an instant
    nlohmann::json figures;              // AnnualFiguresJson, and "titles": {group: {value: title}}
  };
  struct RegionView {
    std::vector<RegionInstitution> institutions;  // every other institution, by id
    std::vector<RegionReport> reports;            // the last signed report of each that has one
  };
  // Whether this institution is a regional centre (init --regional).
  virtual Status IsRegionalCentre(bool* out) = 0;
  // The region for `year`, read through the views region_institutions and
  // region_reports. Refused unless this institution is a regional centre and
  // the actor holds its role regional or director there.
  virtual Status ReadRegion(int year, const std::string& actor_id, RegionView* out) = 0;

  // ---- institutions ----
  // Every institution of the database, by id (on PostgreSQL a transaction
  // that names '*' reads this list and no other row).
  virtual Status Institutions(std::vector<std::string>* out) = 0;
  // Acts within `id` from now on (between transactions): what tick and
  // deliver do to serve every institution in turn.
  virtual Status UseInstitution(const std::string& id) = 0;
  // Acts within no institution: every read finds nothing (a regional
  // server's request that has not said which institution it is for).
  virtual void UseNoInstitution() = 0;
  // Every institution with its display name, by name: a regional server's
  // login page (on PostgreSQL read as '*', which shows the names only).
  virtual Status InstitutionDirectory(std::vector<RegionInstitution>* out) = 0;
  virtual const std::string& institution() const = 0;

  virtual Status Init(const Catalog& catalog, const Now& now, std::vector<std::string>* registered,
                      const InitOptions& options) = 0;

  // ---- settings ----
  virtual Status Settings(std::vector<std::pair<std::string, std::string>>* out) = 0;
  virtual Status GetSetting(const std::string& key, std::string* value) = 0;
  // A curator or the director changes a setting; the change is in the person history of the actor.
  virtual Status SetSetting(const std::string& key, const std::string& value, const std::string& actor_id,
                            const Now& now) = 0;

  // ---- data tables (tables/NAME.csv, stored by init) ----
  struct TableVersion {
    std::string name;
    int version = 0;
    std::string loaded_at;  // ISO 8601 UTC
    std::string source;     // the CSV text (empty in Tables())
  };
  // Every stored version of every table, by name then version.
  virtual Status Tables(std::vector<TableVersion>* out) = 0;
  // A table as stored: its latest version, or `version` when not 0; NotFound otherwise.
  virtual Status GetTable(const std::string& name, int version, TableVersion* out) = 0;

  // ---- people ----
  // Registers a person; `actor_id` must be a curator or the director
  // (rules.h MayManagePeople). Roles are deduplicated and must be declared
  // by a registered workflow; `system` is reserved. Ids follow CheckId
  // (engine/text.h), names CheckText. The registration is a person-history entry.
  virtual Status AddPerson(const PersonRecord& p, const std::string& actor_id, const Now& now) = 0;
  // Changes what is given of a person, as AddPerson checks it.
  virtual Status UpdatePerson(const PersonUpdate& u, const std::string& actor_id, const Now& now) = 0;
  // Consent is a signed document (templates/consent.mustache, stored with
  // its SHA-256 like any other): giving it issues the person's consent and
  // signs it — by the person, by their guardian while they are a minor, or
  // by a curator recording a paper form (`paper_date`, the date on the form,
  // then required) — as engine/rules.h MayChangeConsent() decides.
  // Revoking it revokes that document and, in the same transaction, sends
  // `consent_revoked` by `system` to every running instance that names the
  // person and takes it; a renewed consent sends `consent_renewed`. Each
  // change is a person-history entry (who, in which capacity, when).
  // A consent is given for a `purpose` (152-FZ art. 9), one a registered
  // workflow declares (`purpose:`, the default "mentoring"), from
  // templates/consent_PURPOSE.mustache (consent.mustache for the default):
  // only the instances of that purpose are stopped or resumed, and the
  // destruction duty it starts says what the person's other consents keep.
  virtual Status SetConsent(const std::string& person_id, bool given, const std::string& actor_id, const Now& now,
                            const std::string& paper_date = "", const std::string& purpose = kDefaultPurpose) = 0;
  virtual Status PersonHistory(const std::string& person_id, std::vector<HistoryRecord>* out) = 0;
  // A subject's request for information about their data (152-FZ art. 14),
  // made by the person, their guardian, or recorded by a curator or the
  // director: starts the `personal_data` clock (kind information) due on the
  // 10th working day after today (the stored production calendar), with
  // reminders to the curators. Recorded in the person's history.
  // `kind` "correction" or "erasure": a demand to correct or to destroy
  // their data (art. 21), due in 7 working days, with its `text` (what to
  // correct, or why); the curators see it and answer it, and erasing the
  // person closes an erasure demand.
  virtual Status RequestInformation(const std::string& person_id, const std::string& actor_id, const Now& now,
                                    InstanceRecord* out, const std::string& kind = "information",
                                    const std::string& text = "") = 0;
  // 152-FZ art. 21: destroys a person's personal data — allowed to a curator
  // or the director once the person's consent is revoked or every instance
  // naming them is finished. The name, birth date and e-mail are replaced by
  // an anonymous token (the id and the year of birth stay, for history and
  // statistics); every stored text naming them (documents, orders, consents)
  // is destroyed, its SHA-256 kept; their name is replaced by the token in
  // history, reminders and instance fields. "Naming" is a whole occurrence
  // (engine/text.h WholeOccurrences); a piece another living person shares
  // (a namesake, the same birthday) counts only in texts tied to the person
  // (their consents and history, instances naming them, orders listing those). An SQLite file is then
  // checkpointed and vacuumed, with secure_delete on, so that no copy
  // survives in free pages or the WAL. Writes the destruction act
  // (act:PERSON; templates/destruction_act.mustache), which names no one.
  virtual Status ErasePerson(const std::string& person_id, const std::string& actor_id, const Now& now,
                             DocumentRecord* act) = 0;
  // Reads a person's record for `actor_id` (rules.h MayReadPersonalData: the
  // person, their guardian, a curator, the director); the read is an entry
  // in the person's history ("read"), in the same transaction.
  virtual Status ReadPerson(const std::string& person_id, const std::string& actor_id, const Now& now,
                            PersonRecord* out) = 0;
  // Everything stored about a person (152-FZ art. 14: the subject's right to
  // know), as one JSON document: their record and roles, consent and the
  // person history, the people they are guardian of, every instance that
  // names them with its whole history, the history entries they made
  // elsewhere, the documents they signed, the reminders addressed to them.
  // For the person, their guardian, a curator or the director; the export is
  // itself a "read" entry in the person's history.
  virtual Status ExportPerson(const std::string& person_id, const std::string& actor_id, const Now& now,
                              std::string* json_text) = 0;
  // Before a document is shown in full (doc render): checks that `actor_id`
  // may read it (a curator, the director, a signer, a signer's guardian) and
  // records the read in the history of every person the document names.
  virtual Status RecordDocumentRead(const DocumentRecord& doc, const std::string& actor_id, const std::string& how,
                                    const Now& now) = 0;
  // Before what a command shows about an instance or about people (show,
  // history, doc list, reminders): the read rule, and its record.
  // `instance` set: the instance (show, history, its documents) may be read
  // by a curator, the director, whoever holds a role its workflow lets act
  // on every instance (a moderator), a person it names in a person field,
  // and their guardian while they are a minor; anyone else is answered
  // exactly as for an unknown id (exit 2), so an id reveals nothing. The
  // read is recorded in the history of every person it names. `people` set
  // (recipients of reminders): each of them, their guardian while a minor,
  // a curator or the director; recorded in each one's history. Both empty
  // (every document): a curator or the director. `what` is the note;
  // `record` false only checks (a read that is about to be refused for
  // another reason is no read, and a refusal changes nothing).
  struct ReadScope {
    std::string instance;
    std::vector<std::string> people;
    std::string what;
    bool record = true;
  };
  virtual Status AuthorizeRead(const ReadScope& scope, const std::string& actor_id, const Now& now) = 0;

  // ---- instances ----
  // `refusal` receives the rule when the workflow refuses (Code::kRefused or kBadInput).
  virtual Status Start(const std::string& workflow, const Input& input, const std::string& parent,
                       const std::string& actor_id, const Now& now, InstanceRecord* out, Refusal* refusal) = 0;
  virtual Status Send(const std::string& id, const std::string& event, const Input& input,
                      const std::string& actor_id, const Now& now, InstanceRecord* out, Refusal* refusal) = 0;

  // Records `actor_id`'s signature on the latest issue of document `doc` of
  // instance `id`, as engine/rules.h MaySign() decides, with a history entry
  // on the instance; the document is signed when FullySigned().
  virtual Status Sign(const std::string& id, const std::string& doc, const std::string& actor_id, const Now& now,
                      std::string* status_out) = 0;

  // Moves the running instances of `workflow` (those not in a final state)
  // onto registered version `to_version`, each as migrate::Migrate decides,
  // with a "migrate" history entry. Those that can move move together in one
  // transaction (none with `dry_run`); the rest stay and are listed with what
  // blocks them, and the status is then Code::kRefused. `actor_id` must be a
  // curator or the director.
  struct MigrationReport {
    struct Moved {
      std::string id;
      int from_version = 0;
      std::string from, to;
    };
    struct Blocked {
      std::string id;
      int version = 0;
      std::string state;
      std::vector<std::string> reasons;
    };
    std::vector<Moved> moved;
    std::vector<Blocked> blocked;
  };
  virtual Status Migrate(const std::string& workflow, int to_version, const StateMap& state_map,
                         const std::string& actor_id, const Now& now, bool dry_run, MigrationReport* report) = 0;

  // Runs `body` as one transaction: the Start, Send and Sign calls it makes on
  // this store commit together when it returns Ok, and none of them does
  // otherwise (for imports: all of a file or nothing of it). With `dry_run`
  // the body runs in full and nothing is kept.
  //
  // On PostgreSQL a batch holds writes back and sends them together, so a
  // write the database refuses may fail a later call or the end of the
  // batch. `steps`, when given, names the body's steps (an import's lines):
  // `name` is asked at each call for the step the body is at, and on such a
  // failure Batch sets `failed` to the step that made the refused write.
  struct BatchSteps {
    std::function<std::string()> name;
    std::string failed;
  };
  virtual Status Batch(const std::function<Status()>& body, bool dry_run = false, BatchSteps* steps = nullptr) = 0;

  // The registered definition of `workflow` at `version` (0: the latest),
  // as its instances run it: titles of states, fields and events for what
  // people read. Owned by the store, valid while it is open.
  // ---- what a person may do now (the pages) ----
  // The transitions `actor_id` may take now on instance `id`, in the
  // workflow's order: for each event, dispatch's FindTransition (the role,
  // the person a role is bound to, a minor's guardian, `when`). A
  // transition's `check` needs the input and is decided when it is sent.
  virtual Status Offers(const std::string& id, const std::string& actor_id, const Now& now, std::vector<int>* out) = 0;
  // Ok when `actor_id` may sign `doc` now (INSTANCE:NAME:ISSUE, or an order
  // N/YYYY): the very checks of Sign and SignOrder, with nothing written
  // and no lock taken; their refusal otherwise.
  virtual Status MaySignNow(const std::string& doc, const std::string& actor_id, const Now& now) = 0;
  // Whether `actor_id` may give (or revoke) `person_id`'s consent now, and
  // in which capacity ("self", "guardian", "curator": from a paper form):
  // engine/rules.h MayChangeConsent, and a consent to give must not be in
  // force (to revoke, it must be). Writes nothing.
  virtual Status MayChangeConsentNow(const std::string& person_id, bool given, const std::string& actor_id,
                                     const Now& now, std::string* capacity,
                                     const std::string& purpose = kDefaultPurpose) = 0;
  // The consent text `actor_id` would sign for `person_id` now (XHTML, as
  // SetConsent would issue it, every value escaped), with nothing written;
  // SetConsent's refusal when they may not give it.
  virtual Status ConsentPreview(const std::string& person_id, const std::string& actor_id, const Now& now,
                                std::string* xhtml, const std::string& purpose = kDefaultPurpose) = 0;
  // A person's consent, purpose by purpose: each purpose a consent may be
  // given for, whether it is in force, and their latest consent document of
  // it (issue 0: none; status as the document lifecycle names it).
  struct PurposeConsent {
    std::string purpose;
    bool in_force = false;
    long long issue = 0;
    std::string status;
  };
  virtual Status ConsentsOf(const std::string& person_id, std::vector<PurposeConsent>* out) = 0;
  // What a consent of `person_id` signed electronically now would lack
  // (engine/rules.h MissingFromConsent); empty when it may be signed.
  virtual Status ConsentMissing(const std::string& person_id, const Now& now,
                                std::vector<MissingParticular>* out) = 0;
  struct PersonSummary {
    std::string id, name, birth, guardian, email;
    std::vector<std::string> roles;
    bool consent = false;  // a consent given and not revoked
    bool account = false;  // they have set a password
  };
  struct PeopleFilter {
    std::string query;  // the id or the name contains it (as typed); "": anyone
    std::string role;   // holds it; "": any role
    std::string of;     // this person and the people whose guardian they are; "": anyone
    int limit = 0;      // at most this many; 0: no limit
  };
  // The people the filter selects, by name. Who may list them is the
  // application's rule (app/people.h).
  virtual Status People(const PeopleFilter& filter, std::vector<PersonSummary>* out) = 0;
  // Runs `body` in one transaction, committed when it returns Ok: many
  // calls that each record a read (a list, a page) pay for one commit.
  // Unlike Batch, a refusal of one call inside does not fail the rest; the
  // body decides. A call that fails in storage must make the body fail.
  virtual Status Together(const std::function<Status()>& body) = 0;
  // How the people acting through this store are known, recorded with each
  // signature: "account" (serve: a session, the password entered again to
  // sign) or "console" (the operator's --as; the default).
  virtual void SetChannel(const std::string& via) = 0;
  virtual Status Workflow(const std::string& workflow, int version, const Definition** out) = 0;
  // The names of the people `ids` name (unknown ids are left out). Records
  // nothing: the caller has applied the read rule to what it shows.
  virtual Status Names(const std::vector<std::string>& ids, std::map<std::string, std::string>* out) = 0;

  virtual Status Show(const std::string& id, InstanceRecord* out) = 0;
  virtual Status List(const std::string& workflow, const std::string& state, std::vector<InstanceRecord>* out) = 0;
  virtual Status History(const std::string& id, std::vector<HistoryRecord>* out) = 0;

  // Documents: every issue of every document of `instance` (all instances
  // when empty), oldest first. `Document` reads one: DOC is NAME or
  // NAME:ISSUE (the latest issue when no ISSUE is given).
  virtual Status Documents(const std::string& instance, std::vector<DocumentRecord>* out) = 0;
  // Collective documents. IssueOrder: `name` is a collective document (or
  // its template) of a registered workflow; the order lists every instance
  // in the state it collects, is numbered N/YYYY (per calendar year) and
  // supersedes the earlier unsigned orders of its kind. Refused when the
  // actor holds none of its `issued_by` roles or nothing awaits it.
  virtual Status IssueOrder(const std::string& name, const std::string& actor_id, const Now& now,
                            DocumentRecord* out) = 0;
  virtual Status Order(const std::string& number, DocumentRecord* out) = 0;
  // Signs order `number`; the signature that completes it sends its
  // `on_signed` event to every listed instance in the same transaction, all
  // or none: an instance that left the collected state since the order was
  // issued, or whose event is refused, refuses the signature, naming it.
  virtual Status SignOrder(const std::string& number, const std::string& actor_id, const Now& now,
                           std::string* status_out, std::vector<std::string>* sent) = 0;
  virtual Status Document(const std::string& instance, const std::string& doc, DocumentRecord* out) = 0;

  // ---- statistics ----
  // The figures of calendar year `year` in the institution's zone, from the
  // history made before its end (the year under way: before `now`), so a
  // past year reads the same after later events. Aggregated in the
  // database. Refused (BadInput) for a year that has not begun.
  virtual Status AnnualStatistics(int year, const Now& now, AnnualFigures* out) = 0;
  // The same figures broken down by a person attribute (`attributes:`): a
  // pair counts under its mentee's value, with its mentor and mentee; the
  // monitoring is the institution's and stays in `total` only.
  struct AnnualBreakdown {
    std::string attribute, title;
    AnnualFigures total;
    struct Part {
      std::string value, title;  // value "" : the mentees who do not hold the attribute
      AnnualFigures figures;
      long long registered_mentees = 0;  // people registered as mentees holding the value (now)
      std::optional<AttributeTarget> share_target, coverage_target;  // from the YAML
      // A coverage `counting:` another attribute (a school): its distinct
      // values among the registered mentees holding the value, and among
      // those of them in a pair in the year.
      long long registered_units = 0, covered_units = 0;
    };
    std::vector<Part> parts;  // an enum's values in the YAML's order (others: the values held), then ""
  };
  virtual Status AnnualBreakdownBy(int year, const std::string& attribute, const Now& now, AnnualBreakdown* out) = 0;

  // ---- a workflow's rating (`rating:` in its YAML) ----
  struct RatingReport {
    std::string workflow;
    int version = 0;                       // whose weights are in force: the latest registered
    std::string group, group_title;        // the value ranked and its title
    std::vector<std::pair<std::string, std::int64_t>> weights, factors;  // value -> number, as in force
    std::vector<RatingEntry> entries;
    std::vector<std::string> names;        // one per entry for a curator or moderator; else empty
  };
  // The ranking of `group` (a value of the rating's `per` field) over the
  // instances of `workflow` (empty: the one registered workflow that has a
  // rating), with the weights of its latest version, whatever version each
  // instance runs. A curator or moderator (`actor_id`) gets names, and each
  // listed person's history records the read; anyone else gets ids only.
  virtual Status Rating(const std::string& workflow, const std::string& group, const std::string& actor_id,
                        const Now& now, RatingReport* out) = 0;

  // ---- time ----
  // Fires every deadline overdue at `now` (due before its calendar day), in
  // due order, each as the system at its own moment (engine/rules.h
  // FiringMoment), in batches of one transaction each; reminders whose day
  // has come become pending first. A refused deadline event is a history
  // entry, not an error. A firing that fails is undone alone: the rest of its
  // batch commits, and its timer waits for the next tick (`failed`). Safe to
  // repeat and to run in several processes at once: each timer fires once
  // (claimed under FOR UPDATE SKIP LOCKED on PostgreSQL).
  struct TickReport {
    struct Fired {
      std::string instance, workflow, event, due, at, from, to;
      bool refused = false;
      std::string reason;
    };
    std::vector<Fired> fired;
    long long reminders_due = 0;  // reminders that became pending
    // Instances whose stored state or fields their workflow does not know (a
    // hand-edited database): their deadlines did not fire and wait.
    std::vector<std::string> unreadable;
    // Deadlines whose firing failed (a database error, a stored document
    // in a status documents do not have): undone, they wait for the next tick.
    struct Failed {
      std::string instance, event, due, error;
    };
    std::vector<Failed> failed;
    // TickSome stopped at its limit: more may be due (then nothing else,
    // reminders_due included, was done after the last firing).
    bool more = false;
  };
  virtual Status Tick(const Now& now, TickReport* report) = 0;
  // The same, firing at most `limit` deadlines (one turn of a region's
  // round: app/region.h); reminders come due once nothing is left.
  virtual Status TickSome(const Now& now, int limit, TickReport* report) = 0;

  // ---- the outbox ----
  struct ReminderFilter {
    std::string status;    // one status, or empty: everything that has come due (not scheduled, not cancelled)
    std::string person;    // recipient
    std::string instance;
  };
  virtual Status Reminders(const ReminderFilter& filter, std::vector<ReminderRecord>* out) = 0;
  // Deadlines due and reminders scheduled from `from` to `to` (inclusive), for `person` if given.
  virtual Status Agenda(const std::string& person, Date from, Date to, std::vector<DeadlineRecord>* deadlines,
                        std::vector<ReminderRecord>* reminders) = 0;
  // The recipient (or a curator, or the director) acknowledges a reminder.
  virtual Status Ack(long long id, const std::string& actor_id, const Now& now) = 0;

  // Delivery, in two steps around the channel so that no transaction is open
  // while a message is on the wire. Claim() marks up to `limit` deliverable
  // reminders (pending; failed whose backoff has passed; claims left by a
  // process that died) as taken by `claimer` ("host:pid"); each is claimed
  // by one process only, and all of them in one transaction. Finish()
  // records the channel's answers for reminders this claimer holds, in one
  // transaction: a reminder is marked sent only after it was sent, so a
  // process that dies between the two sends it again (at least once, under
  // the same Message-ID).
  virtual Status ClaimForDelivery(const Now& now, const std::string& claimer, int limit,
                                  std::vector<ReminderRecord>* out) = 0;
  struct DeliveryOutcome {
    bool delivered = false;
    bool permanent = false;  // an error that a retry cannot clear
    std::string error;
  };
  struct DeliveryAnswer {
    long long id = 0;
    DeliveryOutcome outcome;
    std::string new_status;  // out: its status now ("" when this claimer no longer held it)
  };
  // A reminder no longer held by `claimer` is left as it is (Conflict, once
  // the others are recorded).
  virtual Status FinishDeliveries(std::vector<DeliveryAnswer>* answers, const std::string& claimer,
                                  const Now& now) = 0;
  // Gives back a reminder this claimer holds, untried: it is deliverable
  // again at once, its tries unchanged.
  virtual Status ReleaseDelivery(long long id, const std::string& claimer) = 0;

  // ---- accounts, for `serve` (app/accounts.h holds the rules of passwords and tokens) ----
  // A single-use token for `person_id` (`kind` "invite" or "reset"), stored as
  // its SHA-256 only, valid until `expires_at` (ISO 8601 UTC), and the e-mail
  // that carries its link put in the outbox in the same transaction. An
  // invitation is made by a curator or the director (`actor_id`) for a
  // registered person with an e-mail address; a reset (`actor_id` empty) only
  // for a person who has an account and an address: otherwise NotFound, and
  // the caller answers as if it were sent. Earlier unused tokens of the kind
  // are used up. The outbox never lists these messages (`reminders`, the
  // agenda), and their text is replaced once sent.
  struct AccountMail {
    std::string subject, body;
  };
  virtual Status IssueAccountToken(const std::string& person_id, const std::string& kind,
                                   const std::string& token_hash, const std::string& expires_at,
                                   const AccountMail& mail, const std::string& actor_id, const Now& now) = 0;
  // Uses the token once: sets the password (creating the account) and ends
  // every session of the person. NotFound for a token unknown, used or expired.
  virtual Status RedeemAccountToken(const std::string& token_hash, const std::string& password_hash, const Now& now,
                                    std::string* person_id) = 0;
  // The account that `login` names: a person id, or an e-mail address
  // (case-insensitive). NotFound when there is none.
  virtual Status FindAccount(const std::string& login, std::string* person_id, std::string* password_hash) = 0;
  // A new password for an existing account; every session of the person ends.
  virtual Status ChangePassword(const std::string& person_id, const std::string& password_hash, const Now& now) = 0;
  // Failed logins: `scope` "account", "address" or "pair"; counted since `since` (ISO 8601 UTC).
  virtual Status CountLoginFailures(const std::string& scope, const std::string& subject, const std::string& since,
                                    long long* n) = 0;
  virtual Status RecordLoginFailure(const std::vector<std::pair<std::string, std::string>>& scopes,
                                    const Now& now) = 0;
  virtual Status ClearLoginFailures(const std::string& scope, const std::string& subject) = 0;
  // Sessions by the SHA-256 of their token.
  struct SessionRecord {
    std::string person, csrf, created_at, seen_at;
  };
  virtual Status CreateSession(const std::string& token_hash, const std::string& person_id, const std::string& csrf,
                               const Now& now) = 0;
  // The live session: NotFound (and the session removed) when it has been idle
  // longer than `idle_seconds` or exists longer than `absolute_seconds`.
  // Its last use is updated (at most once a minute, to spare writes).
  virtual Status TouchSession(const std::string& token_hash, const Now& now, long long idle_seconds,
                              long long absolute_seconds, SessionRecord* out) = 0;
  virtual Status EndSession(const std::string& token_hash) = 0;
  // Private calendar feeds: one live token per person (a new one replaces it).
  virtual Status CreateCalendarFeed(const std::string& person_id, const std::string& token_hash, const Now& now) = 0;
  virtual Status RevokeCalendarFeeds(const std::string& person_id) = 0;
  virtual Status CalendarFeedPerson(const std::string& token_hash, std::string* person_id) = 0;

  // ---- backup ----
  // SQLite: a consistent copy of the whole database at one moment, taken
  // while others write (VACUUM INTO: one read transaction), at `path`, which
  // must not exist; created readable by its owner only (0600) and checked
  // with PRAGMA integrity_check before it is reported. `bytes` gets its size.
  // PostgreSQL: BadInput naming pg_dump and pg_basebackup, which do this
  // for a server (README).
  virtual Status Backup(const std::string& path, long long* bytes) = 0;

  static constexpr int kSchemaVersion = 17;
};

}  // namespace mentorflow
