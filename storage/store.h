// Persistent storage of people, workflow definitions and instances on SOCI:
// SQLite (sqlite:PATH, the default) or PostgreSQL (postgresql://...).
//
// Every command is one transaction: a Decision from the pure dispatch core is
// applied together with its history entry, timers, outbox rows and documents,
// or not at all. A concurrent change to the same instance is detected by its
// version counter and reported as Code::kConflict; the loser changed nothing.
// SQLite runs in WAL mode with synchronous=FULL (an acknowledged event
// survives kill -9 and power loss), and every write transaction starts with
// BEGIN IMMEDIATE under a busy timeout. Values are always bound, never
// concatenated into SQL. Not thread-safe: one Store per thread or process.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/dispatch.h"
#include "engine/loader.h"
#include "engine/migrate.h"
#include "engine/status.h"

namespace mentorflow {

struct PersonRecord {
  std::string id;
  std::string name;
  std::vector<std::string> roles;
  std::string birth;     // YYYY-MM-DD or empty
  std::string guardian;  // person id or empty
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
};

// "postgresql://user[:password]@host[:port]/dbname[?k=v&...]" -> libpq's
// "host=... port=... user=... dbname=..." form, which SOCI passes on as is.
// Other strings are returned unchanged.
std::string PostgresConnectionString(const std::string& url);

class Store {
 public:
  virtual ~Store() = default;

  // Opens (and for SQLite creates) the database at `url`.
  static std::unique_ptr<Store> Open(const std::string& url, Status* status);

  // Creates or upgrades the schema, then registers each definition of
  // `catalog` whose version is new. A changed file under an already
  // registered version is refused (bump `version:`). A database written by a
  // newer mentorflow is refused.
  virtual Status Init(const Catalog& catalog, const Now& now, std::vector<std::string>* registered) = 0;

  virtual Status AddPerson(const PersonRecord& p, const Now& now) = 0;
  // Records that `person_id` signed (or revoked) consent to processing, acting
  // as `actor_id`: the person themself (an adult, or a revocation), their
  // guardian, or a curator recording a paper form. A minor (under 18 on
  // `now`) cannot sign for themself; a minor with no guardian cannot consent.
  virtual Status SetConsent(const std::string& person_id, bool given, const std::string& actor_id,
                            const Now& now) = 0;

  // `refusal` receives the rule when the workflow refuses (Code::kRefused or kBadInput).
  virtual Status Start(const std::string& workflow, const Input& input, const std::string& parent,
                       const std::string& actor_id, const Now& now, InstanceRecord* out, Refusal* refusal) = 0;
  virtual Status Send(const std::string& id, const std::string& event, const Input& input,
                      const std::string& actor_id, const Now& now, InstanceRecord* out, Refusal* refusal) = 0;

  // Records `actor_id`'s signature on the latest issue of document `doc` of
  // instance `id`; the document is signed when every signer it names has signed.
  virtual Status Sign(const std::string& id, const std::string& doc, const std::string& actor_id,
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
  virtual Status Batch(const std::function<Status()>& body, bool dry_run = false) = 0;

  virtual Status Show(const std::string& id, InstanceRecord* out) = 0;
  virtual Status List(const std::string& workflow, const std::string& state, std::vector<InstanceRecord>* out) = 0;
  virtual Status History(const std::string& id, std::vector<HistoryRecord>* out) = 0;

  static constexpr int kSchemaVersion = 2;
};

}  // namespace mentorflow
