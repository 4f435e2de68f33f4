// Private to storage/: the SOCI implementation of Store, split by concern
// into session.cpp (open, transactions, errors), schema.cpp (migrations,
// init, settings), values.cpp (field values <-> JSON), instances.cpp
// (start, send, show, list, history, migrate, batch), people.cpp (people and
// consent), documents.cpp (signatures), timers.cpp (tick), outbox.cpp
// (reminders: scheduling, listing, agenda, delivery, ack), pair_facts.cpp
// (what the annual figures read about each pair, kept beside its history)
// and stats.cpp (the annual figures). Nothing outside
// storage/ includes this header.
#pragma once

#include <nlohmann/json.hpp>
#include <soci/soci.h>

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <array>
#include <mutex>
#include <set>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/rules.h"
#include "storage/pipeline.h"
#include "storage/store.h"
#include "storage/watchdog.h"

namespace mentorflow::storage {

using nlohmann::json;

// ---- values.cpp: field values <-> JSON, by the field's declared type ----------
json ToJson(const FieldDef& f, const Value& v);
Value FromJson(const FieldDef& f, const json& j);
json FieldsJson(const Definition& def, const std::vector<Value>& fields);
std::vector<Value> FieldsFromJson(const Definition& def, const std::string& text);
// A stored instance its definition cannot read (a hand-edited database, a
// downgraded workflow): the command ends with exit 5 naming the instance.
struct StoredStateError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A field as a person reads it: an enum's title, a date in Russian, a
// person's name (from `name`); "" when unset.
std::string FieldDisplay(const FieldDef& f, const Value& v, const std::function<std::string(const std::string&)>& name);

json ChangesJson(const Definition& def, const std::vector<FieldChange>& changes);
std::uint64_t Fnv1a64(const std::string& s);
std::string Fnv1a(const std::string& s);  // hex

// A whole number from a dynamic row, whatever type the backend reports
// (SQLite's INTEGER is dt_integer, BIGINT dt_long_long).
inline long long RowInt(const soci::row& r, std::size_t i) {
  switch (r.get_properties(i).get_data_type()) {
    case soci::dt_integer: return r.get<int>(i);
    case soci::dt_long_long: return r.get<long long>(i);
    case soci::dt_unsigned_long_long: return static_cast<long long>(r.get<unsigned long long>(i));
    case soci::dt_double: return static_cast<long long>(r.get<double>(i));
    default: return std::stoll(r.get<std::string>(i));
  }
}

// A text column that may be NULL ("" then).
inline std::string RowText(const soci::row& r, std::size_t i) {
  return r.get_indicator(i) == soci::i_null ? std::string() : r.get<std::string>(i);
}

// ---- pair_facts.cpp: what the annual figures read about each pair ---------------
// The shipped workflows the figures read (stats.cpp documents what of them).
constexpr const char* kPairWorkflow = "mentoring_pair";
constexpr const char* kMonitoringWorkflow = "monitoring";

// A change of a field the facts keep (mentor, mentee, form, kind,
// termination): its value after, as text (NULL when unset).
struct PairFactsChange {
  std::string field;
  std::optional<std::string> after;
};
std::vector<PairFactsChange> PairFactsChanges(const json& changes);  // of a history entry

// One history entry of a pair, as the facts read it.
struct PairFactsEntry {
  std::string at, event, to;
  std::vector<PairFactsChange> changes;
};

// A pair's facts as its current row holds them (exists: it has one).
struct PairFacts {
  bool exists = false;
  std::optional<std::string> formed_at, ended_at, end_state, ground, extended_at;
  std::map<std::string, std::optional<std::string>> values;  // mentor, mentee, form, kind
};

struct PairFactsStep {
  bool new_row = false;  // a value changed (or an extension): a new row from this entry
  bool events = false;   // formed or ended with this entry: every row of the pair says so
};

// Pure: the facts after one more entry, and what must be written.
PairFactsStep AdvancePairFacts(PairFacts* facts, const PairFactsEntry& entry);

// ---- statements prepared once per session ---------------------------------------
// SOCI reads the bound variables at every execute, so each statement owns the
// variables it binds: assign them, then Run(). On PostgreSQL this is a
// server-side prepared statement reused for the life of the session.
//
// A derived statement prepares itself in its constructor's body, once its
// members exist: if preparing fails (on PostgreSQL, say, a lock held elsewhere
// times it out), SOCI reads the bound variables to describe them in the error.
struct Prepared {
  std::optional<soci::statement> st;
  std::string inst;  // the institution, bound by every statement
  PgPipeline* pipe = nullptr;  // writes still waiting there are answered before this runs
  void Prepare(soci::details::prepare_temp_type p) { st.emplace(std::move(p)); }
  // Executes; for a query, fetches the first row and reports whether there
  // was one, then reads to the end so that SQLite does not keep the statement
  // (and its read snapshot) open until the next execute.
  bool Run() {
    if (pipe) pipe->Flush();
    st->execute(true);
    bool got = st->got_data();
    while (got && st->fetch()) {
    }
    return got;
  }
  template <class F>
  void ForEach(F row) {
    if (pipe) pipe->Flush();
    st->execute(true);
    if (!st->got_data()) return;
    do row();
    while (st->fetch());
  }
};

// A write that may wait in a PgPipeline (SociStore::Defer): its parameters
// are named as in its text, so that the same values bind through SOCI or go
// out in the pipeline.
struct Deferrable : Prepared {
  std::string text;
  PgNumbered numbered;  // the text as the pipeline sends it
  struct Bind {
    std::string name;
    std::string* text = nullptr;
    long long* number = nullptr;
    soci::indicator* ind = nullptr;  // null when it is never NULL
  };
  std::vector<Bind> binds;
  void Text(std::string name, std::string& v, soci::indicator* ind = nullptr) {
    binds.push_back({std::move(name), &v, nullptr, ind});
  }
  void Number(std::string name, long long& v) { binds.push_back({std::move(name), nullptr, &v, nullptr}); }
  // Prepares `sql` with every bind added so far (and the institution as :inst).
  void PrepareText(soci::session& sql, std::string sql_text);
  std::vector<PgParam> Values() const;  // in the order of numbered.names
};

struct SelectInstance;
struct SelectDocuments;
struct SelectRoles;
struct SelectHasRole;
struct SelectConsent;
struct UpdateInstance;
struct InsertHistory;
struct WriteInstance;
struct SelectTimerDues;
struct DeleteTimer;
struct CancelReminders;
struct UpsertTimer;
struct SelectLastIssue;
struct InsertDocument;
struct SetDocumentStatus;
struct SelectPersonName;
struct SelectOpenPairFacts;
struct ClosePairFacts;
struct InsertPairFacts;
struct SetPairEvents;
struct SelectBirthYear;
struct LockInstances;
struct SelectInstanceIds;
struct PromoteBatchReminders;
struct DeleteClaimedTimer;
struct PromoteInstanceReminders;
struct SelectPeopleWithRole;
struct SelectBirthGuardian;
struct UpsertReminderRows;
// One reminder row to insert or re-arm (UpsertReminderRows).
struct UpsertReminderRowsRow {
  std::string instance, workflow, key, on, recipient, kind, deadline, event, template_name, subject, body, status,
      created;
  soci::indicator deadline_ind = soci::i_null, event_ind = soci::i_null;
};
struct UpdateInstanceWithHistory;
struct ClaimTimers;

// Prepared on first use, each once per session.
// Each binds the store's institution as `inst`.
struct Statements {
  Statements(soci::session& sql, bool sqlite, const std::string& institution);
  ~Statements();
  template <class T>
  T& Get(std::unique_ptr<T>& slot) {
    if (!slot) slot = std::make_unique<T>(sql_, sqlite_);
    slot->inst = institution_;
    slot->pipe = pipe;
    return *slot;
  }
  // A statement that takes `n` rows, one prepared per n.
  template <class T>
  T& Get(std::unique_ptr<T>& slot, std::size_t n) {
    if (!slot) slot = std::make_unique<T>(sql_, sqlite_, n);
    slot->inst = institution_;
    slot->pipe = pipe;
    return *slot;
  }
  PgPipeline* pipe = nullptr;  // PostgreSQL, not behind a pool: SociStore's
  std::unique_ptr<SelectInstance> select_instance;
  std::unique_ptr<SelectDocuments> select_documents;
  std::unique_ptr<SelectRoles> select_roles;
  std::unique_ptr<SelectHasRole> select_has_role;
  std::unique_ptr<SelectConsent> select_consent;
  std::unique_ptr<UpdateInstance> update_instance;
  std::unique_ptr<InsertHistory> insert_history;
  std::unique_ptr<WriteInstance> write_instance;
  std::unique_ptr<SelectTimerDues> select_timer_dues;
  std::unique_ptr<DeleteTimer> delete_timer;
  std::unique_ptr<CancelReminders> cancel_reminders;
  std::unique_ptr<UpsertTimer> upsert_timer;
  std::unique_ptr<SelectLastIssue> select_last_issue;
  std::unique_ptr<InsertDocument> insert_document;
  std::unique_ptr<SetDocumentStatus> set_document_status;
  std::unique_ptr<SelectPersonName> select_person_name;
  std::unique_ptr<SelectOpenPairFacts> select_open_pair_facts;
  std::unique_ptr<ClosePairFacts> close_pair_facts;
  std::unique_ptr<InsertPairFacts> insert_pair_facts;
  std::unique_ptr<SetPairEvents> set_pair_events;
  std::unique_ptr<SelectBirthYear> select_birth_year;
  std::unique_ptr<DeleteClaimedTimer> delete_claimed_timer;
  std::unique_ptr<PromoteInstanceReminders> promote_instance_reminders;
  std::unique_ptr<SelectPeopleWithRole> select_people_with_role;
  std::unique_ptr<SelectBirthGuardian> select_birth_guardian;
  std::unique_ptr<UpdateInstanceWithHistory> update_instance_with_history;
  std::unique_ptr<ClaimTimers> claim_timers;
  std::unique_ptr<LockInstances> lock_instances;
  std::unique_ptr<SelectInstanceIds> select_instance_ids;
  std::unique_ptr<PromoteBatchReminders> promote_batch_reminders;
  static constexpr std::size_t kReminderRows = 4;  // at most, in one statement
  std::array<std::unique_ptr<UpsertReminderRows>, kReminderRows + 1> upsert_reminder_rows;  // by row count
  void Clear();  // every one prepared goes (deallocated on the server)

 private:
  soci::session& sql_;
  bool sqlite_;
  const std::string& institution_;
};

// Whose personal data went into a stored text: person id -> "subject" (the
// text is about them) or "mentioned" (it only names them). Once a subject,
// always a subject.
class DocumentPeople {
 public:
  void Subject(const std::string& person) {
    if (!person.empty()) people_[person] = "subject";
  }
  void Mentioned(const std::string& person) {
    if (!person.empty()) people_.emplace(person, "mentioned");
  }
  void Merge(const DocumentPeople& other) {
    for (const auto& [p, c] : other.people_) c == "subject" ? Subject(p) : Mentioned(p);
  }
  const std::map<std::string, std::string>& people() const { return people_; }

 private:
  std::map<std::string, std::string> people_;
};

// The SHA-256 of `bytes` as 64 lowercase hex digits (libsodium).
std::string Sha256Hex(const std::string& bytes);

// A table of an institution as schema.cpp creates it (migrations 16, 17).
struct TableShape {
  const char* name;
  const char* columns;  // after `institution`
  const char* keys;     // the table's keys, each naming `institution`
  std::vector<const char*> indexes;  // "NAME ON TABLE (COLUMNS)"
};

class SociStore : public Store {
 public:
  SociStore(std::unique_ptr<soci::session> sql, bool sqlite, StoreOptions options);
  ~SociStore() override;

  // A write transaction: BEGIN IMMEDIATE on SQLite (a deferred BEGIN that
  // upgrades to a write fails with SQLITE_BUSY instead of waiting). Rolled
  // back unless Commit() ran. Inside Batch() it is part of the batch's
  // transaction and does nothing itself.
  class Tx {
   public:
    explicit Tx(SociStore& s);
    ~Tx();
    void Commit();

   private:
    void End(const char* end);
    SociStore& s_;
    bool nested_;
    bool done_ = false;
    bool took_context_ = false;
    std::unique_lock<std::mutex> writer_;  // SQLite: this process's writers queue here
  };
  // SQLite: the writers of this process on the file at `path` take turns on one mutex.
  void SerialiseWritersOf(const std::string& path);
  // While one lives, the transactions it spans commit without waiting for
  // the disk (SQLite: synchronous=NORMAL, set before the transaction; on
  // PostgreSQL, call Relax() inside it: synchronous_commit off). They
  // survive a killed process, not a power loss: for what may be redone,
  // such as an outbox's claims and marks (a mark lost is a message sent
  // again, under the same Message-ID).
  class LightCommits {
   public:
    explicit LightCommits(SociStore& s);
    ~LightCommits();
    void Relax();  // PostgreSQL, inside the transaction
    LightCommits(const LightCommits&) = delete;
    LightCommits& operator=(const LightCommits&) = delete;

   private:
    SociStore& s_;
    bool pragma_ = false;
  };

  // ---- Store ----
  Status Init(const Catalog& catalog, const Now& now, std::vector<std::string>* registered,
              const InitOptions& options) override;
  Status Settings(std::vector<std::pair<std::string, std::string>>* out) override;
  Status Tables(std::vector<TableVersion>* out) override;
  Status GetTable(const std::string& name, int version, TableVersion* out) override;
  Status GetSetting(const std::string& key, std::string* value) override;
  Status SetSetting(const std::string& key, const std::string& value, const std::string& actor_id,
                    const Now& now) override;
  Status AddPerson(const PersonRecord& p, const std::string& actor_id, const Now& now) override;
  Status UpdatePerson(const PersonUpdate& u, const std::string& actor_id, const Now& now) override;
  Status SetConsent(const std::string& person_id, bool given, const std::string& actor_id, const Now& now,
                    const std::string& paper_date, const std::string& purpose) override;
  // Instances that name `person_id` in a person field, oldest first: the
  // running ones, or all of them (finished too) with `running_only` false.
  std::vector<std::string> InstancesNaming(const std::string& person_id, bool running_only);
  std::vector<std::string> RunningInstancesNaming(const std::string& person_id) {
    return InstancesNaming(person_id, true);
  }
  // Consent by purpose (storage/consents.cpp). The purposes a consent may
  // be given for: the default one and each registered workflow's.
  std::vector<std::string> KnownPurposes();
  // The person's consent for `purpose` is given and not revoked (for the
  // default purpose, people.consent; else their latest consent of that
  // purpose is signed).
  bool ConsentInForce(const std::string& person_id, const std::string& purpose);
  // The purposes the person's consent is in force for.
  std::vector<std::string> PurposesInForce(const std::string& person_id);
  // Of `ids`, the instances whose workflow processes data for `purpose`.
  std::vector<std::string> OfPurpose(const std::vector<std::string>& ids, const std::string& purpose);
  // The latest consent of `person_id` for `purpose`: its issue (0: none) and status.
  long long LatestConsent(const std::string& person_id, const std::string& purpose, std::string* status = nullptr,
                          std::string* signatures = nullptr);
  // Sends `event` by system to each instance of `ids` whose state takes it;
  // those that do not (or refuse it) are passed over. Returns the ids sent to.
  Status Cascade(const std::vector<std::string>& ids, const std::string& event, const Now& now,
                 std::vector<std::string>* sent);
  Status ReadConsent(const std::string& person_id, long long issue, DocumentRecord* out);
  Status ConsentsOf(const std::string& person_id, std::vector<PurposeConsent>* out) override;
  Status ConsentMissing(const std::string& person_id, const Now& now, std::vector<MissingParticular>* out) override;
  // What art. 9 part 4 wants of a consent of `subject` signed now that is not recorded.
  std::vector<MissingParticular> MissingParticulars(const ConsentSubject& subject, Date today);
  Particulars LoadParticulars(const std::string& person_id);
  // Writes the particulars `u` gives (an empty one clears), naming each in `changed`.
  void WriteParticulars(const std::string& person_id, const PersonUpdate& u, std::vector<std::string>* changed);
  Status ErasePerson(const std::string& person_id, const std::string& actor_id, const Now& now,
                     DocumentRecord* act) override;
  Status ReadAct(const std::string& person_id, DocumentRecord* out);
  Status RequestInformation(const std::string& person_id, const std::string& actor_id, const Now& now,
                            InstanceRecord* out, const std::string& kind, const std::string& text) override;
  // The stored production calendar (weekends only when none is stored).
  WorkCalendar LoadWorkCalendar();
  // Starts the `personal_data` clock for `person_id` (when that workflow is
  // registered; otherwise nothing), as system.
  // A duty a state starts beside its instance ({start: W, set: {..}}),
  // unless one of W with those values is running already.
  Status StartBeside(const std::string& workflow, const std::vector<std::pair<std::string, std::string>>& set,
                     const Now& now);
  Status StartDuty(const std::string& person_id, const std::string& kind, Date due, const Now& now,
                   InstanceRecord* out, const std::string& request = "", const std::string& purpose = "",
                   const std::string& kept_for = "");
  // 152-FZ art. 21 part 4: `instance` of `def` (a workflow whose purpose is
  // achieved when done) has finished with `fields`; for each person it names
  // whose consent for the purpose is in force and who has no other running
  // instance of it, that consent expires and the destruction duty starts.
  Status PurposeAchieved(const Definition& def, const std::string& instance, const std::vector<Value>& fields,
                         const Now& now);
  // Ok when `purpose` is one a consent may be given for (KnownPurposes).
  Status CheckPurpose(const std::string& purpose);
  Status PersonHistory(const std::string& person_id, std::vector<HistoryRecord>* out) override;
  Status ReadPerson(const std::string& person_id, const std::string& actor_id, const Now& now,
                    PersonRecord* out) override;
  // A person's birth date and guardian, as the consent and signature rules
  // need them; false when there is no such person.
  bool LoadSubject(const std::string& person_id, ConsentSubject* out);
  // Refused unless `person`'s guardian, and `person` as the guardian of
  // each of their wards, pass MayBeGuardian on `today` (links as stored now).
  Status CheckGuardianLinks(const std::string& person, Date today);
  Status ExportPerson(const std::string& person_id, const std::string& actor_id, const Now& now,
                      std::string* json_text) override;
  Status IssueOrder(const std::string& name, const std::string& actor_id, const Now& now,
                    DocumentRecord* out) override;
  Status Order(const std::string& number, DocumentRecord* out) override;
  Status SignOrder(const std::string& number, const std::string& actor_id, const Now& now, std::string* status_out,
                   std::vector<std::string>* sent) override;
  Status ReadOrder(long long year, long long number, DocumentRecord* out);
  // PostgreSQL: the transaction's lock on orders `name` of `workflow`, which
  // issuing and signing take before any row.
  void LockOrders(const std::string& workflow, const std::string& name);
  Status RecordDocumentRead(const DocumentRecord& doc, const std::string& actor_id, const std::string& how,
                            const Now& now) override;
  Status AuthorizeRead(const ReadScope& scope, const std::string& actor_id, const Now& now) override;
  std::vector<std::string> PeopleNamedIn(const Definition& def, const InstanceRecord& rec);
  // A "read" entry in the history of each of `people` who is registered.
  Status RecordReads(const std::vector<std::string>& people, const std::string& actor_id, const std::string& capacity,
                     const std::string& note, const Now& now);
  Status Start(const std::string& workflow, const Input& input, const std::string& parent,
               const std::string& actor_id, const Now& now, InstanceRecord* out, Refusal* refusal) override;
  Status Send(const std::string& id, const std::string& event, const Input& input, const std::string& actor_id,
              const Now& now, InstanceRecord* out, Refusal* refusal) override;
  Status Sign(const std::string& id, const std::string& doc, const std::string& actor_id, const Now& now,
              std::string* status_out) override;
  Status Migrate(const std::string& workflow, int to_version, const StateMap& state_map, const std::string& actor_id,
                 const Now& now, bool dry_run, MigrationReport* report) override;
  Status Batch(const std::function<Status()>& body, bool dry_run, BatchSteps* steps) override;
  Status IssueAccountToken(const std::string& person_id, const std::string& kind, const std::string& token_hash,
                           const std::string& expires_at, const AccountMail& mail, const std::string& actor_id,
                           const Now& now) override;
  Status RedeemAccountToken(const std::string& token_hash, const std::string& password_hash, const Now& now,
                            std::string* person_id) override;
  Status FindAccount(const std::string& login, std::string* person_id, std::string* password_hash) override;
  Status ChangePassword(const std::string& person_id, const std::string& password_hash, const Now& now) override;
  Status CountLoginFailures(const std::string& scope, const std::string& subject, const std::string& since,
                            long long* n) override;
  Status RecordLoginFailure(const std::vector<std::pair<std::string, std::string>>& scopes, const Now& now) override;
  Status ClearLoginFailures(const std::string& scope, const std::string& subject) override;
  Status CreateSession(const std::string& token_hash, const std::string& person_id, const std::string& csrf,
                       const Now& now) override;
  Status TouchSession(const std::string& token_hash, const Now& now, long long idle_seconds,
                      long long absolute_seconds, SessionRecord* out) override;
  Status EndSession(const std::string& token_hash) override;
  Status CreateCalendarFeed(const std::string& person_id, const std::string& token_hash, const Now& now) override;
  Status RevokeCalendarFeeds(const std::string& person_id) override;
  Status CalendarFeedPerson(const std::string& token_hash, std::string* person_id) override;
  void SetChannel(const std::string& via) override { channel_ = via; }
  Status Together(const std::function<Status()>& body) override;
  Status Offers(const std::string& id, const std::string& actor_id, const Now& now, std::vector<int>* out) override;
  Status MaySignNow(const std::string& doc, const std::string& actor_id, const Now& now) override;
  Status ConsentPreview(const std::string& person_id, const std::string& actor_id, const Now& now,
                        std::string* xhtml, const std::string& purpose) override;
  Status MayChangeConsentNow(const std::string& person_id, bool given, const std::string& actor_id, const Now& now,
                             std::string* capacity, const std::string& purpose) override;
  Status People(const PeopleFilter& filter, std::vector<PersonSummary>* out) override;
  Status Workflow(const std::string& workflow, int version, const Definition** out) override;
  Status Names(const std::vector<std::string>& ids, std::map<std::string, std::string>* out) override;
  Status Show(const std::string& id, InstanceRecord* out) override;
  Status List(const std::string& workflow, const std::string& state, std::vector<InstanceRecord>* out) override;
  Status History(const std::string& id, std::vector<HistoryRecord>* out) override;
  Status Documents(const std::string& instance, std::vector<DocumentRecord>* out) override;
  Status Document(const std::string& instance, const std::string& doc, DocumentRecord* out) override;
  Status Tick(const Now& now, TickReport* report) override;
  Status TickSome(const Now& now, int limit, TickReport* report) override;
  Status Institutions(std::vector<std::string>* out) override;
  Status IsRegionalCentre(bool* out) override;
  void UseNoInstitution() override;
  Status InstitutionDirectory(std::vector<RegionInstitution>* out) override;
  Status ReadRegion(int year, const std::string& actor_id, RegionView* out) override;
  Status UseInstitution(const std::string& id) override;
  const std::string& institution() const override { return institution_; }
  Status AnnualStatistics(int year, const Now& now, AnnualFigures* out) override;
  Status AnnualBreakdownBy(int year, const std::string& attribute, const Now& now, AnnualBreakdown* out) override;
  Status Rating(const std::string& workflow, const std::string& group, const std::string& actor_id, const Now& now,
                RatingReport* out) override;
  // The same inside a transaction already open (a document issued with the figures).
  // `slice`: only the pairs whose mentee holds attribute `first` = `second`
  // ("" : does not hold it), and the people of those pairs. `units`: the
  // distinct values of attribute `units` among the year's mentees, into
  // `*unit_count` (a coverage that counts schools).
  Status AnnualFiguresUnlocked(int year, const Now& now, AnnualFigures* out,
                               const std::pair<std::string, std::string>* slice = nullptr,
                               const std::string& units = "", long long* unit_count = nullptr);
  Status Reminders(const ReminderFilter& filter, std::vector<ReminderRecord>* out) override;
  Status Agenda(const std::string& person, Date from, Date to, std::vector<DeadlineRecord>* deadlines,
                std::vector<ReminderRecord>* reminders) override;
  Status Ack(long long id, const std::string& actor_id, const Now& now) override;
  Status ClaimForDelivery(const Now& now, const std::string& claimer, int limit,
                          std::vector<ReminderRecord>* out) override;
  Status FinishDeliveries(std::vector<DeliveryAnswer>* answers, const std::string& claimer, const Now& now) override;
  Status ReleaseDelivery(long long id, const std::string& claimer) override;
  Status Backup(const std::string& path, long long* bytes) override;

  // ---- timers.cpp ----
  // What became of a due timer: fired (or dropped, its instance gone);
  // skipped (its instance or due date cannot be read: nothing changed, it
  // waits); gone (no longer as it was read: nothing changed).
  enum class Firing { kFired, kSkipped, kGone };
  struct DueTimer {
    std::string instance, key, state, event, due;
    bool busy = false;  // PostgreSQL: its instance is held by another transaction
    std::optional<InstanceRecord> rec;  // PostgreSQL: the instance as the claim locked it
    bool promoted = false;  // its instance's reminders due by then are pending already
  };
  // Fires one due timer inside the open transaction: deletes it and sends its
  // event as system at its moment (a refusal is a history note).
  Status FireTimer(const DueTimer& t, TickReport* report, Firing* result);
  // How many due timers a tick claims and fires in one transaction: one
  // commit for them all, and locks held for tens of milliseconds.
  static constexpr int kTickBatch = 50;
  // Up to `room` due timers at `now`, earliest first, past the first `skip`;
  // on PostgreSQL locked with their instances (SKIP LOCKED: none is waited
  // for), which are read as they are locked, and the reminders due before
  // each instance's first one promoted (counted in `promoted`).
  std::vector<DueTimer> ClaimDue(const Now& now, int room, long long skip, long long* promoted);
  Status FireBatch(const Now& now, int room, bool careful, long long skip, TickReport* part, int* claimed, int* fired,
                   long long* skipped, bool* redo, bool* last);
  // Before anything is applied to `instance` at `now`: fires its deadlines
  // already past due, in due order, in the open transaction, so that what
  // an event meets never depends on when `tick` last ran.
  Status FireOverdue(const std::string& instance, const Now& now);
  // The same as a transaction of its own (inside a batch, part of it),
  // before a command changes `instance`: its firings stand even when the
  // command is then refused. Nothing when the instance cannot be loaded.
  Status FireOverdueFirst(const std::string& instance, const Now& now);

  // ---- shared plumbing (session.cpp, schema.cpp) ----
  // Runs `body`, turning SOCI and JSON exceptions into a Status: a unique or
  // foreign key violation is a conflict (exit 4), anything else internal.
  Status Guard(const std::function<Status()>& body);
  // `--as`: a well-formed id, and never `system` — deadlines and cascades
  // act as system from inside the store (acting_as_system_), nobody else.
  Status CheckActor(const std::string& actor_id);
  bool acting_as_system_ = false;
  // While one lives, the store itself acts as system (a cascade, a duty).
  class SystemScope {
   public:
    explicit SystemScope(SociStore& s) : s_(s) { s_.acting_as_system_ = true; }
    ~SystemScope() { s_.acting_as_system_ = false; }
    SystemScope(const SystemScope&) = delete;
    SystemScope& operator=(const SystemScope&) = delete;

   private:
    SociStore& s_;
  };
  Status Ready();  // the schema is the one this binary knows
  bool SchemaTableExists();
  int SchemaVersion(bool create = false);
  std::string Setting(const std::string& key);  // stored value or the default
  std::string Zone() { return Setting("zone"); }

  // ---- the world as the database sees it, inside the current transaction ----
  class DbWorld : public World {
   public:
    explicit DbWorld(SociStore& s) : s_(s) {}
    bool HasConsent(std::string_view id, std::string_view purpose) const override;
    bool PersonHasRole(std::string_view id, std::string_view role) const override;
    std::vector<std::string> PeopleWithRole(std::string_view role) const override;
    ChildCount CountChildren(std::string_view parent, std::string_view workflow,
                             const std::vector<std::string>& states) const override;
    std::int64_t CountInstances(const Condition& c) const override;
    std::string GuardianOf(std::string_view id) const override;
    std::optional<Date> BirthOf(std::string_view id) const override;
    std::optional<ParentView> Parent(std::string_view id) const override;
    const DataTable* Table(std::string_view name) const override;

   private:
    SociStore& s_;
    mutable std::map<std::string, std::optional<DataTable>, std::less<>> tables_;  // read once a transaction
  };

  // ---- people.cpp ----
  // The attributes the latest registered workflows declare, by name.
  std::vector<AttributeDef> DeclaredAttributes();
  // `name` among `declared`, or null and `error` refusing `option`'s value
  // (listing the attributes, with the nearest name).
  static const AttributeDef* FindAttribute(const std::vector<AttributeDef>& declared, const std::string& option,
                                           const std::string& name, Status* error);
  // Checks `attrs` against the declared attributes and writes them (an empty
  // value removes one); `changed` gets "name=value" for each.
  Status WriteAttributes(const std::string& person, const std::vector<std::pair<std::string, std::string>>& attrs,
                         std::vector<std::string>* changed);
  Status CheckRoles(const std::vector<std::string>& roles);
  Status InsertPerson(const PersonRecord& p, const std::string& actor_id, const std::string& capacity, const Now& now);

  // ---- instances.cpp ----
  Actor LoadActor(const std::string& id);
  const Definition* DefinitionFor(const std::string& name, int version, Status* st);
  int LatestVersion(const std::string& name);
  std::string NextId();
  Status LoadInstance(const std::string& id, InstanceRecord* rec, const Definition** def, const std::string& actor_id,
                      Actor* actor);
  Status ShowUnlocked(const std::string& id, InstanceRecord* out, const std::string& actor_id = "",
                      Actor* actor = nullptr);
  Snapshot SnapshotOf(const Definition& def, const InstanceRecord& rec);
  // Everything a decision asks for except the instance row itself: history,
  // timers, reminders (recipients resolved, texts rendered), documents.
  // `history_written`: its history entry is in already (ApplyDecision on PostgreSQL).
  Status ApplyEffects(const Definition& def, const std::string& id, const Decision& d, long long seq, const Now& now,
                      bool history_written = false);
  // ---- pair_facts.cpp ----
  // Keeps a pair's facts with its history entry `seq` (called for every entry
  // of a mentoring_pair, in the entry's transaction).
  void RecordPairFacts(const std::string& instance, long long seq, const std::string& at, const std::string& event,
                       const std::string& from, const std::string& to, const json& changes);
  void WritePairFacts(const std::string& instance, long long seq, const std::string& at, PairFacts* facts,
                      const PairFactsStep& step);
  // Every pair's facts anew from the history (migration 9).
  void RebuildPairFacts();
  // A person's year of birth as the figures read it (kept through erasure).
  std::optional<long long> BirthYear(const std::string& person);
  // After a person's date of birth changed: their pairs' facts follow.
  void RefreshMenteeBorn(const std::string& person);
  // Writes `d` onto instance `rec` (state, fields, version) and its effects.
  Status ApplyDecision(const Definition& def, const InstanceRecord& rec, const Decision& d, const Now& now,
                       InstanceRecord* out);
  // A history entry that changes no state (a signature; a refused deadline event).
  Status AppendNote(const Definition& def, const InstanceRecord& rec, const std::string& actor, const std::string& role,
                    const std::string& event, const std::string& note, const Now& now);

  // ---- people.cpp ----
  std::string PersonName(const std::string& id);
  Status AppendPersonHistory(const std::string& person, const std::string& actor, const std::string& role,
                             const std::string& event, const std::string& note, const Now& now);
  std::vector<std::string> DeclaredRoles();

  // ---- documents.cpp ----
  std::vector<Signature> ParseSignatures(const std::string& text);
  static std::string SignaturesJson(const std::vector<Signature>& sigs);
  // Issue `issue` of document `doc` on entering a state: renders its
  // template with the instance as it now is, supersedes the previous issue.
  Status IssueDocument(const Definition& def, const DocumentDef& doc, const std::string& id,
                       const std::vector<Value>& fields, long long issue, const std::string& issued_at,
                       const Now& now);
  // The template's input. `people` (optional) gets whose personal data went
  // into it: the people the document is about as "subject", those it only
  // names (a guardian, the curator, the director) as "mentioned".
  json DocumentContext(const Definition& def, const DocumentDef& doc, const std::string& id,
                       const std::vector<Value>& fields, long long issue, const Now& now,
                       DocumentPeople* people = nullptr);
  // Stores `people` as those of the text `document` (its Id()).
  void RecordDocumentPeople(const std::string& document, const DocumentPeople& people);
  DocumentRecord ReadDocument(const soci::row& r);

  // ---- outbox.cpp ----
  Status ScheduleReminders(const Definition& def, const std::string& id, const std::vector<Value>& fields,
                           const std::vector<ReminderSpec>& specs, const Now& now);
  // Leaving a state on `today`: its reminders whose day has not come are cancelled.
  void CancelReminders(const std::string& id, const std::string& key_prefix, Date today);
  void DeferCancelReminders(const std::string& id, const std::string& key_prefix, const std::string& today);
  // Rows in statements of up to Statements::kReminderRows, no key twice in one.
  void DeferReminderRows(const std::vector<UpsertReminderRowsRow>& rows);
  // Reminders whose day is `until` or earlier become pending: the
  // institution's (once per tick), or one instance's (before a deadline of
  // it fires, so that leaving the state does not cancel them unsent).
  // Institution-wide (`instance` empty), `now` is the tick's.
  long long PromoteDueReminders(Date until, const std::string& instance, const Now* now = nullptr);

  // ---- institutions (schema.cpp, session.cpp) ----
  // The institution as an SQL literal: every statement names it. The id
  // passed CheckInstitutionId (a-z, 0-9, '-', '_'), so it needs no escaping.
  std::string I() const { return "'" + institution_ + "'"; }
  // The workflow definitions this institution reads, as a derived table `wd`
  // (name, version, source): every version of its own and of the shared
  // ones (AllDefinitions), or those that are current (CurrentDefinitions):
  // its own, and the shared ones of a name it has none of.
  std::string AllDefinitions() const;
  std::string CurrentDefinitions() const;
  void MigrateToInstitutions();  // migration 16
  void MigrateToRegion();        // migration 17
  // Registers the new versions of `catalog`'s workflows for the institution
  // `into` (an SQL literal: I(), or the shared one).
  Status RegisterDefinitions(const Catalog& catalog, const std::string& into, const Now& when,
                             std::vector<std::string>* registered);
  void CreateTable(const TableShape& t);
  void Wall(const std::string& table);
  // SQLite, no institution given: the file's one institution, once it has one.
  void AdoptFileInstitution();
  static std::vector<std::string> InstitutionTables();
  // PostgreSQL: row security shows a transaction its institution's rows
  // only once it has said which (set_config(..., true): the transaction's
  // alone, so a pooled connection carries nothing to the next client).
  std::string BeginContext() const;  // the statement that begins such a transaction
  // PostgreSQL: statements in one round trip (libpq's simple query), for
  // the transactions' own: BEGIN with the institution, COMMIT with the next.
  void Script(const std::string& text);
  // PostgreSQL, not behind a pool: writes Defer() queues while defer_ is on
  // (a tick's batch) wait here for the next statement that reads, or the
  // commit; every other statement (SOCI's query transformation, Prepared's
  // Run, Script) has them answered first, and a rollback drops them.
  std::unique_ptr<PgPipeline> pipe_;
  bool defer_ = false;
  void BeforeStatement(const std::string& text);
  // Runs `w`, or queues it while defer_ is on. `must`: the rows it must
  // change (-1: any), checked when answered; `count`: when queued, its rows
  // are counted by pipe_ (TakeCounted). Returns the rows it changed, or when
  // queued `must` (0 for any).
  long long Defer(Deferrable& w, long long must = -1, bool count = false);
  class Deferring {  // defer_ on for a scope (when there is a pipeline)
   public:
    Deferring(SociStore& s, bool on) : s_(s), was_(s.defer_) { s_.defer_ = on && s_.pipe_; }
    ~Deferring() { s_.defer_ = was_; }
    Deferring(const Deferring&) = delete;
    Deferring& operator=(const Deferring&) = delete;

   private:
    SociStore& s_;
    bool was_;
  };
 public:
  // ?pool=transaction: no statement outlives its transaction, and each
  // transaction sets the waits the URL gives.
  void Pooled(long long lock_ms, long long statement_ms);

 private:
  void ForgetPrepared();
  std::string BeginFresh() const;
  bool pooled_ = false;
  long long lock_ms_ = 0, statement_ms_ = 0;

  std::unique_ptr<soci::session> sql_;
  bool sqlite_;
  StoreOptions options_;
  std::string institution_;
  bool explicit_institution_ = false;  // --institution-id or MENTORFLOW_INSTITUTION given
  bool context_open_ = false;  // PostgreSQL: Guard's transaction is open
  int guard_depth_ = 0;
  // MaySignNow: Sign and SignOrder stop after their checks, writing nothing.
  bool check_only_ = false;
  std::string* preview_out_ = nullptr;  // ConsentPreview
  std::string channel_ = "console";  // SetChannel
  bool ready_ = false;
  bool in_batch_ = false;
  bool in_tx_ = false;  // a Tx is open: an inner one joins it
  std::mutex* writers_ = nullptr;  // SQLite: see SerialiseWritersOf
  Status batch_failure_;
  Statements q_;
  std::map<std::string, std::shared_ptr<const Definition>> defs_;
  // Each stored text parsed once, whichever institutions registered it (a
  // region's schools mostly hold the same files): the text is the key, so
  // only the same bytes share a definition.
  std::map<std::string, std::shared_ptr<const Definition>> parsed_;
  std::map<std::string, std::string> settings_cache_;

 public:
  // While a tick fires a batch (one transaction), what no firing changes is
  // read once for the batch: who holds a role, a person's birth date,
  // guardian and name. Never kept past the transaction, so a role taken
  // away is seen by the next batch; a write to people forgets it at once.
  // A timer a batch has set (or, as nullopt, deleted) and not yet written.
  struct TimerWrite {
    std::string state, event, due, recipients;
  };
  // One decision's reminder writes, in order: cancels by key prefix, then rows.
  struct ReminderStep {
    std::vector<std::string> cancels;  // prefixes
    std::string today;
    std::vector<UpsertReminderRowsRow> rows;
    bool Same(const ReminderStep& o) const;
  };
  struct Held {
    InstanceRecord rec;      // as the batch has left it
    long long stored = 0;    // the version the database holds
    std::map<std::string, std::optional<TimerWrite>> timers;  // not yet written
    std::map<std::string, std::string> dues;  // every timer it has: key -> due
    std::string since;       // the step of the first change not yet written
    std::optional<ReminderStep> last;  // the reminder writes of its latest change
  };
  struct Lookups {
    std::map<std::string, std::vector<std::string>, std::less<>> by_role;
    std::map<std::string, std::pair<std::optional<Date>, std::string>, std::less<>> birth_guardian;
    std::map<std::string, std::string, std::less<>> name;
    std::set<std::string> touched;  // instances a firing of the batch has changed
    std::set<std::pair<std::string, std::string>> timers_written;  // (instance, key) set or deleted by the batch
    // The earliest due of the timers the batch has set: a claimed timer due
    // later waits for the next batch, so that deadlines fire in due order
    // even when a firing sets one that is due already.
    std::string earliest_timer_set;
    // Store::Batch on PostgreSQL (Holding()): the instances the batch has
    // changed, each locked since its first read (select_instance), with what
    // it has not yet written of them (WriteHeld).
    std::map<std::string, Held, std::less<>> held;
    std::set<std::string> dirty;  // held instances with writes not yet queued
    // FireOverdueFirst's read of an instance's timers (key -> due), for the
    // held entry the same call then makes.
    std::optional<std::pair<std::string, std::map<std::string, std::string>>> dues_read;
    std::set<std::string, std::less<>> people;  // CheckActor: registered
    std::map<std::string, int, std::less<>> latest_version;  // LatestVersion, by workflow
    std::map<std::string, std::vector<std::string>, std::less<>> roles_of;
  };
  class LookupScope {
   public:
    explicit LookupScope(SociStore& s) : s_(s) { s_.lookups_.emplace(); }
    ~LookupScope() { s_.lookups_.reset(); }
    LookupScope(const LookupScope&) = delete;
    LookupScope& operator=(const LookupScope&) = delete;

   private:
    SociStore& s_;
  };
  void ForgetLookups() {  // what the batch has changed it still knows
    if (!lookups_) return;
    Lookups fresh;
    fresh.touched = std::move(lookups_->touched);
    fresh.timers_written = std::move(lookups_->timers_written);
    fresh.earliest_timer_set = std::move(lookups_->earliest_timer_set);
    fresh.held = std::move(lookups_->held);
    fresh.dirty = std::move(lookups_->dirty);
    fresh.dues_read = std::move(lookups_->dues_read);
    fresh.latest_version = std::move(lookups_->latest_version);
    *lookups_ = std::move(fresh);
  }
  // ---- held.cpp: Store::Batch on PostgreSQL ----
  // An instance's changes are coalesced: its row and timers are written once
  // before the next statement that is not one of the batch's own writes (and
  // at the end), not once per change; its history entries and reminders are
  // queued in the pipeline as they come. Reads of it in between are answered
  // from the held record, which the lock since its first read keeps true.
  bool Holding() const { return holding_ && defer_ && pipe_ && lookups_; }
  bool holding_ = false;  // Store::Batch, or an order's approval of its pairs
  // Holding() on for a scope, with lookups and deferred writes; what is
  // held is written out as it ends (Flush) unless an enclosing scope holds.
  class HoldingScope {
   public:
    explicit HoldingScope(SociStore& s)
        : s_(s), was_(s.holding_), lookups_(s.lookups_ ? std::nullopt : std::make_optional<int>(0)),
          deferring_(s, true) {
      if (lookups_) s_.lookups_.emplace();
      s_.holding_ = true;
    }
    ~HoldingScope() {
      // Its caller flushes before it ends; after a failure the rollback
      // drops what is held. Otherwise what is left is queued, never lost.
      if (lookups_ && s_.lookups_ && !s_.lookups_->dirty.empty() && !std::uncaught_exceptions()) try {
          s_.WriteHeld();
        } catch (...) {
        }
      s_.holding_ = was_;
      if (lookups_) s_.lookups_.reset();
    }
    HoldingScope(const HoldingScope&) = delete;
    HoldingScope& operator=(const HoldingScope&) = delete;

   private:
    SociStore& s_;
    bool was_;
    std::optional<int> lookups_;  // set: this scope made the lookups
    Deferring deferring_;
  };
  Held* HeldOf(std::string_view id);
  Held& HoldInstance(const InstanceRecord& as_read);
  // Held as read and locked elsewhere (an order's pairs), with its timers.
  void HoldAsRead(const InstanceRecord& locked, std::map<std::string, std::string> dues);
  std::vector<std::string> RolesOf(const std::string& person);  // read once a batch (until it changes people)
  std::map<std::string, std::string> ReadDues(const std::string& id);
  void WriteHeld();
  void DropHeld();
  static constexpr std::size_t kMostHeld = 1000;
  void BetweenHeldSteps();  // as each call of the batch's body begins
  // ApplyEffects of a held instance: its reminder writes are collected here
  // and queued once complete, unless they repeat its latest change's exactly
  // (cancel and re-arm the same rows to the same text: nothing would change).
  ReminderStep* collecting_ = nullptr;
  void QueueReminderStep(Held& h, ReminderStep step);
  BatchSteps* batch_steps_ = nullptr;
  std::pair<std::optional<Date>, std::string> BirthAndGuardian(std::string_view id);
  // The timer being fired (FireTimer): ApplyEffects need not delete it again.
  std::pair<std::string, std::string> firing_timer_;

 private:
  std::optional<Lookups> lookups_;

 public:
  // PostgreSQL: bounds every wait for the server (storage/watchdog.h).
  // Declared last: it stops before the connection it watches is closed.
  void Watch(std::chrono::milliseconds bound);

 private:
  std::unique_ptr<Watchdog> watchdog_;
};

}  // namespace mentorflow::storage
