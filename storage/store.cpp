#include "storage/store.h"

#include <nlohmann/json.hpp>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <fstream>
#include <map>
#include <sstream>

namespace mentorflow {
namespace {

using nlohmann::json;

// ---- values <-> JSON, by the field's declared type ----------------------------
json ToJson(const FieldDef& f, const Value& v) {
  if (!IsSet(v) && f.type != FieldType::kList) return nullptr;
  switch (f.type) {
    case FieldType::kInt: return std::get<std::int64_t>(v);
    case FieldType::kBool: return std::get<bool>(v);
    case FieldType::kDate: return FormatDate(std::get<Date>(v));
    case FieldType::kList: {
      json arr = json::array();
      if (const auto* l = std::get_if<List>(&v))
        for (const auto& item : *l) {
          json o = {{"id", item.id}};
          for (size_t k = 0; k < f.item_fields.size(); ++k) o[f.item_fields[k].name] = ToJson(f.item_fields[k], item.values[k]);
          arr.push_back(o);
        }
      return arr;
    }
    default: return std::get<std::string>(v);
  }
}

Value FromJson(const FieldDef& f, const json& j) {
  if (j.is_null()) return f.type == FieldType::kList ? Value{List{}} : Value{};
  switch (f.type) {
    case FieldType::kInt: return j.get<std::int64_t>();
    case FieldType::kBool: return j.get<bool>();
    case FieldType::kDate: return *ParseDate(j.get<std::string>());
    case FieldType::kList: {
      List l;
      for (const auto& o : j) {
        Item item;
        item.id = o.at("id").get<std::string>();
        for (const auto& sub : f.item_fields) item.values.push_back(FromJson(sub, o.value(sub.name, json())));
        l.push_back(std::move(item));
      }
      return l;
    }
    default: return j.get<std::string>();
  }
}

json FieldsJson(const Definition& def, const std::vector<Value>& fields) {
  json o = json::object();
  for (size_t i = 0; i < def.fields.size(); ++i) o[def.fields[i].name] = ToJson(def.fields[i], fields[i]);
  return o;
}

std::vector<Value> FieldsFromJson(const Definition& def, const std::string& text) {
  json o = json::parse(text);
  std::vector<Value> out;
  for (const auto& f : def.fields) out.push_back(FromJson(f, o.value(f.name, json())));
  return out;
}

json ChangesJson(const Definition& def, const std::vector<FieldChange>& changes) {
  json arr = json::array();
  for (const auto& c : changes) {
    const FieldDef& f = def.fields[c.field];
    arr.push_back({{"field", f.name}, {"before", ToJson(f, c.before)}, {"after", ToJson(f, c.after)}});
  }
  return arr;
}

std::string Fnv1a(const std::string& s) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  std::ostringstream os;
  os << std::hex << h;
  return os.str();
}

// ---- schema ----------------------------------------------------------------------
// Migration N brings the schema from version N-1 to N. Append, never edit.
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
};

// ---- statements prepared once per session -------------------------------------
// The hot path (start, send, sign) runs these again and again. SOCI reads the
// bound variables at every execute, so each statement owns the variables it
// binds: assign them, then Run(). On PostgreSQL this is a server-side
// prepared statement reused for the life of the session (one round trip per
// execute instead of prepare + execute + deallocate).
struct Prepared {
  soci::statement st;
  explicit Prepared(soci::details::prepare_temp_type p) : st(std::move(p)) {}
  // Executes; for a query, fetches the first row and reports whether there
  // was one, then reads to the end so that SQLite does not keep the statement
  // (and its read snapshot) open until the next execute.
  bool Run() {
    st.execute(true);
    bool got = st.got_data();
    while (got && st.fetch()) {
    }
    return got;
  }
  // Executes a query and calls `row()` with each row in the bound variables.
  template <class F>
  void ForEach(F row) {
    st.execute(true);
    if (!st.got_data()) return;
    do row();
    while (st.fetch());
  }
};

// The instance and, in the same round trip, the roles of whoever acts on it:
// one row per role (one row with a null role when they hold none).
struct SelectInstance : Prepared {
  std::string actor, id, r_id, workflow, state, fields, parent, created, updated, role;
  long long workflow_version = 0, version = 0;
  soci::indicator parent_ind = soci::i_null, role_ind = soci::i_null;
  explicit SelectInstance(soci::session& sql)
      : Prepared((sql.prepare << "SELECT i.id, i.workflow, i.workflow_version, i.state, i.fields, i.parent, i.version,"
                                 " i.created, i.updated, r.role FROM instances i"
                                 " LEFT JOIN person_roles r ON r.person = :actor WHERE i.id = :id",
                  soci::into(r_id), soci::into(workflow), soci::into(workflow_version), soci::into(state),
                  soci::into(fields), soci::into(parent, parent_ind), soci::into(version), soci::into(created),
                  soci::into(updated), soci::into(role, role_ind), soci::use(actor), soci::use(id))) {}
};

struct SelectDocuments : Prepared {  // every issue, oldest first: the last one per name wins
  std::string instance, name, status;
  explicit SelectDocuments(soci::session& sql)
      : Prepared((sql.prepare << "SELECT name, status FROM documents WHERE instance = :i ORDER BY name, issue",
                  soci::into(name), soci::into(status), soci::use(instance))) {}
};

struct SelectRoles : Prepared {
  std::string person, role;
  explicit SelectRoles(soci::session& sql)
      : Prepared((sql.prepare << "SELECT role FROM person_roles WHERE person = :p", soci::into(role), soci::use(person))) {}
};

struct SelectHasRole : Prepared {
  std::string person, role;
  int n = 0;
  explicit SelectHasRole(soci::session& sql)
      : Prepared((sql.prepare << "SELECT COUNT(*) FROM person_roles WHERE person = :p AND role = :r", soci::into(n),
                  soci::use(person), soci::use(role))) {}
};

struct SelectConsent : Prepared {
  std::string person;
  int consent = 0;
  explicit SelectConsent(soci::session& sql)
      : Prepared((sql.prepare << "SELECT consent FROM people WHERE id = :id", soci::into(consent), soci::use(person))) {}
};

struct UpdateInstance : Prepared {
  std::string state, fields, updated, id;
  long long version = 0;
  explicit UpdateInstance(soci::session& sql)
      : Prepared((sql.prepare << "UPDATE instances SET state = :s, fields = :f, version = version + 1, updated = :u"
                                 " WHERE id = :id AND version = :v",
                  soci::use(state), soci::use(fields), soci::use(updated), soci::use(id), soci::use(version))) {}
};

struct InsertHistory : Prepared {
  std::string instance, at, actor, role, event, from, to, changes;
  long long seq = 0, workflow_version = 0;
  soci::indicator from_ind = soci::i_ok;
  explicit InsertHistory(soci::session& sql)
      : Prepared((sql.prepare << "INSERT INTO history (instance, seq, at, actor, role, event, from_state, to_state, changes,"
                                 " workflow_version) VALUES (:i, :s, :a, :ac, :r, :e, :f, :t, :c, :wv)",
                  soci::use(instance), soci::use(seq), soci::use(at), soci::use(actor), soci::use(role),
                  soci::use(event), soci::use(from, from_ind), soci::use(to), soci::use(changes),
                  soci::use(workflow_version))) {}
};

struct DeleteTimer : Prepared {
  std::string instance, key;
  explicit DeleteTimer(soci::session& sql)
      : Prepared((sql.prepare << "DELETE FROM timers WHERE instance = :i AND timer_key = :k", soci::use(instance),
                  soci::use(key))) {}
};

struct DeletePendingReminders : Prepared {  // of one timer: reminder keys "TIMER:N"
  std::string instance, prefix;
  explicit DeletePendingReminders(soci::session& sql)
      : Prepared((sql.prepare << "DELETE FROM outbox WHERE instance = :i AND status = 'pending' AND reminder_key LIKE :k",
                  soci::use(instance), soci::use(prefix))) {}
};

struct UpsertTimer : Prepared {
  std::string instance, key, state, event, due;
  explicit UpsertTimer(soci::session& sql)
      : Prepared((sql.prepare << "INSERT INTO timers (instance, timer_key, state, event, due) VALUES (:i, :k, :s, :e, :d)"
                                 " ON CONFLICT (instance, timer_key) DO UPDATE SET state = excluded.state,"
                                 " event = excluded.event, due = excluded.due",
                  soci::use(instance), soci::use(key), soci::use(state), soci::use(event), soci::use(due))) {}
};

struct UpsertReminder : Prepared {
  std::string instance, key, on, notify, template_name, event, due;
  soci::indicator event_ind = soci::i_ok, due_ind = soci::i_ok;
  explicit UpsertReminder(soci::session& sql)
      : Prepared((sql.prepare << "INSERT INTO outbox (instance, reminder_key, send_on, notify, template, event, due, status)"
                                 " VALUES (:i, :k, :o, :n, :t, :e, :d, 'pending')"
                                 " ON CONFLICT (instance, reminder_key, send_on) DO UPDATE SET notify = excluded.notify,"
                                 " template = excluded.template, event = excluded.event, due = excluded.due,"
                                 " status = 'pending'",
                  soci::use(instance), soci::use(key), soci::use(on), soci::use(notify), soci::use(template_name),
                  soci::use(event, event_ind), soci::use(due, due_ind))) {}
};

struct SelectLastIssue : Prepared {
  std::string instance, name;
  long long issue = 0;
  soci::indicator issue_ind = soci::i_null;
  explicit SelectLastIssue(soci::session& sql)
      : Prepared((sql.prepare << "SELECT MAX(issue) FROM documents WHERE instance = :i AND name = :n",
                  soci::into(issue, issue_ind), soci::use(instance), soci::use(name))) {}
};

struct InsertDocument : Prepared {
  std::string instance, name, template_name, issued_at;
  long long issue = 0;
  explicit InsertDocument(soci::session& sql)
      : Prepared((sql.prepare << "INSERT INTO documents (instance, name, issue, template, issued_at, status, signatures)"
                                 " VALUES (:i, :n, :s, :t, :a, 'issued', '[]')",
                  soci::use(instance), soci::use(name), soci::use(issue), soci::use(template_name),
                  soci::use(issued_at))) {}
};

// Prepared on first use, each once per session.
struct Statements {
  explicit Statements(soci::session& sql) : sql_(sql) {}
  template <class T>
  T& Get(std::unique_ptr<T>& slot) {
    if (!slot) slot = std::make_unique<T>(sql_);
    return *slot;
  }
  std::unique_ptr<SelectInstance> select_instance;
  std::unique_ptr<SelectDocuments> select_documents;
  std::unique_ptr<SelectRoles> select_roles;
  std::unique_ptr<SelectHasRole> select_has_role;
  std::unique_ptr<SelectConsent> select_consent;
  std::unique_ptr<UpdateInstance> update_instance;
  std::unique_ptr<InsertHistory> insert_history;
  std::unique_ptr<DeleteTimer> delete_timer;
  std::unique_ptr<DeletePendingReminders> delete_pending_reminders;
  std::unique_ptr<UpsertTimer> upsert_timer;
  std::unique_ptr<UpsertReminder> upsert_reminder;
  std::unique_ptr<SelectLastIssue> select_last_issue;
  std::unique_ptr<InsertDocument> insert_document;

 private:
  soci::session& sql_;
};

class SociStore : public Store {
 public:
  SociStore(std::unique_ptr<soci::session> sql, bool sqlite) : sql_(std::move(sql)), sqlite_(sqlite), q_(*sql_) {}

  // A write transaction: BEGIN IMMEDIATE on SQLite (a deferred BEGIN that
  // upgrades to a write fails with SQLITE_BUSY instead of waiting). Rolled
  // back unless Commit() ran. Inside Batch() it is part of the batch's
  // transaction and does nothing itself.
  class Tx {
   public:
    explicit Tx(SociStore& s) : s_(s), nested_(s.in_batch_) {
      if (!nested_) *s_.sql_ << (s_.sqlite_ ? "BEGIN IMMEDIATE" : "BEGIN");
    }
    ~Tx() {
      if (!done_ && !nested_) try {
          *s_.sql_ << "ROLLBACK";
        } catch (...) {
        }
    }
    void Commit() {
      if (!nested_) *s_.sql_ << "COMMIT";
      done_ = true;
    }

   private:
    SociStore& s_;
    bool nested_;
    bool done_ = false;
  };

  Status Batch(const std::function<Status()>& body, bool dry_run) override {
    if (in_batch_) return Status::Internal("Batch() cannot be nested");
    return Guard([&]() -> Status {
      if (Status s = Ready(); !s.ok()) return s;
      Tx tx(*this);
      in_batch_ = true;
      batch_failure_ = Status::Ok();
      Status st;
      try {
        st = body();
      } catch (...) {
        in_batch_ = false;
        throw;
      }
      in_batch_ = false;
      if (st.ok()) st = batch_failure_;
      if (st.ok() && !dry_run) tx.Commit();
      return st;
    });
  }

  Status Guard(const std::function<Status()>& body) {
    Status st;
    try {
      st = body();
    } catch (const soci::soci_error& e) {
      st = Status::Internal(std::string("storage: ") + e.what());
    } catch (const json::exception& e) {
      st = Status::Internal(std::string("storage: corrupt JSON: ") + e.what());
    }
    // Inside a batch the first failure fails the batch, whatever its body
    // does next: a half-applied call must never be committed.
    if (in_batch_ && !st.ok() && batch_failure_.ok()) batch_failure_ = st;
    return st;
  }

  bool SchemaTableExists() {
    int n = 0;
    if (sqlite_)
      *sql_ << "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'", soci::into(n);
    else
      *sql_ << "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()"
               " AND table_name = 'schema_version'",
          soci::into(n);
    return n > 0;
  }

  // 0 for an empty database. `create` makes the version table if missing.
  int SchemaVersion(bool create = false) {
    if (!SchemaTableExists()) {
      if (!create) return 0;
      *sql_ << "CREATE TABLE schema_version (version BIGINT NOT NULL)";
    }
    long long v = 0;
    soci::indicator ind = soci::i_null;
    *sql_ << "SELECT MAX(version) FROM schema_version", soci::into(v, ind);
    return ind == soci::i_ok ? static_cast<int>(v) : 0;
  }

  Status Init(const Catalog& catalog, const Now& when, std::vector<std::string>* registered) override {
    return Guard([&]() -> Status {
      Tx tx(*this);
      int have = SchemaVersion(true);
      if (have > kSchemaVersion)
        return Status::BadInput("the database has schema version " + std::to_string(have) +
                                ", newer than this mentorflow (" + std::to_string(kSchemaVersion) + "); upgrade mentorflow");
      for (int v = have; v < kSchemaVersion; ++v) {
        for (const char* stmt : kMigrations[v]) *sql_ << stmt;
        long long next = v + 1;
        *sql_ << "INSERT INTO schema_version (version) VALUES (:v)", soci::use(next);
      }
      for (const auto& def : catalog.definitions()) {
        std::ifstream in(def->source_path, std::ios::binary);
        std::stringstream ss;
        ss << in.rdbuf();
        std::string source = ss.str(), hash = Fnv1a(source), old_hash;
        long long version = def->version;
        soci::indicator ind = soci::i_null;
        *sql_ << "SELECT hash FROM workflow_definitions WHERE name = :n AND version = :v", soci::into(old_hash, ind),
            soci::use(def->name), soci::use(version);
        if (ind == soci::i_ok) {
          if (old_hash != hash)
            return Status::BadInput(def->source_path + ": workflow '" + def->name + "' version " +
                                    std::to_string(def->version) +
                                    " is already registered with different content; bump 'version:'");
          continue;
        }
        std::string now = FormatInstant(when.instant);
        *sql_ << "INSERT INTO workflow_definitions (name, version, source, hash, registered_at)"
                 " VALUES (:n, :v, :s, :h, :t)",
            soci::use(def->name), soci::use(version), soci::use(source), soci::use(hash), soci::use(now);
        if (registered) registered->push_back(def->name + " v" + std::to_string(def->version));
      }
      tx.Commit();
      return Status::Ok();
    });
  }

  // Checked once per session: a schema change needs `init`, which runs alone.
  Status Ready() {
    if (ready_) return Status::Ok();
    int v = SchemaVersion();
    if (v == 0) return Status::BadInput("the database is not initialised: run 'mentorflow init'");
    if (v != kSchemaVersion)
      return Status::BadInput("the database has schema version " + std::to_string(v) + "; this mentorflow needs " +
                              std::to_string(kSchemaVersion) + " (run 'mentorflow init')");
    ready_ = true;
    return Status::Ok();
  }

  Status AddPerson(const PersonRecord& p, const Now& now) override {
    return Guard([&]() -> Status {
      if (Status s = Ready(); !s.ok()) return s;
      if (p.id.empty()) return Status::BadInput("a person id cannot be empty");
      if (p.roles.empty()) return Status::BadInput("a person needs at least one --role");
      if (!p.birth.empty() && !ParseDate(p.birth)) return Status::BadInput("--birth: '" + p.birth + "' is not a date");
      Tx tx(*this);
      int n = 0;
      *sql_ << "SELECT COUNT(*) FROM people WHERE id = :id", soci::into(n), soci::use(p.id);
      if (n > 0) return Status::Conflict("person '" + p.id + "' already exists");
      if (!p.guardian.empty()) {
        *sql_ << "SELECT COUNT(*) FROM people WHERE id = :id", soci::into(n), soci::use(p.guardian);
        if (n == 0) return Status::NotFound("no person '" + p.guardian + "' (the guardian)");
      }
      std::string created = FormatInstant(now.instant);
      soci::indicator gi = p.guardian.empty() ? soci::i_null : soci::i_ok;
      *sql_ << "INSERT INTO people (id, guardian, consent, created) VALUES (:id, :g, 0, :c)", soci::use(p.id),
          soci::use(p.guardian, gi), soci::use(created);
      for (const auto& r : p.roles)
        *sql_ << "INSERT INTO person_roles (person, role) VALUES (:p, :r)", soci::use(p.id), soci::use(r);
      soci::indicator bi = p.birth.empty() ? soci::i_null : soci::i_ok;
      *sql_ << "INSERT INTO person_data (id, name, birth) VALUES (:id, :n, :b)", soci::use(p.id), soci::use(p.name),
          soci::use(p.birth, bi);
      tx.Commit();
      return Status::Ok();
    });
  }

  Status SetConsent(const std::string& person_id, bool given, const std::string& actor_id, const Now& now) override {
    return Guard([&]() -> Status {
      if (Status s = Ready(); !s.ok()) return s;
      Tx tx(*this);
      std::string guardian, birth;
      soci::indicator gi = soci::i_null, bi = soci::i_null;
      int found = 0;
      *sql_ << "SELECT COUNT(*) FROM people WHERE id = :id", soci::into(found), soci::use(person_id);
      if (found == 0) return Status::NotFound("no person '" + person_id + "'");
      *sql_ << "SELECT p.guardian, d.birth FROM people p LEFT JOIN person_data d ON d.id = p.id WHERE p.id = :id",
          soci::into(guardian, gi), soci::into(birth, bi), soci::use(person_id);
      bool minor = false;
      if (bi == soci::i_ok) {
        if (auto b = ParseDate(birth)) minor = AddDuration(*b, Duration{18, 0, 0}) > now.today;
      }
      bool is_guardian = gi == soci::i_ok && guardian == actor_id;
      bool is_curator = DbWorld(*this).PersonHasRole(actor_id, "curator");
      bool is_self = actor_id == person_id;
      if (given && minor && gi != soci::i_ok)
        return Status::Refused("consent: " + person_id + " is a minor with no guardian registered; add the guardian first");
      bool allowed = is_guardian || is_curator || (is_self && (!given || !minor));
      if (!allowed)
        return Status::Refused("role: " + (actor_id.empty() ? std::string("nobody") : actor_id) + " may not " +
                               (given ? "sign" : "revoke") + " consent for " + person_id +
                               (minor ? " (a minor: their guardian or a curator does)" : " (only they, their guardian or a curator)"));
      int v = given ? 1 : 0;
      *sql_ << "UPDATE people SET consent = :c WHERE id = :id", soci::use(v), soci::use(person_id);
      tx.Commit();
      return Status::Ok();
    });
  }

  // ---- the world as the database sees it, inside the current transaction ---------
  class DbWorld : public World {
   public:
    explicit DbWorld(SociStore& s) : s_(s) {}
    bool HasConsent(std::string_view id) const override {
      auto& q = s_.q_.Get(s_.q_.select_consent);
      q.person = id;
      return q.Run() && q.consent != 0;
    }
    bool PersonHasRole(std::string_view id, std::string_view role) const override {
      auto& q = s_.q_.Get(s_.q_.select_has_role);
      q.person = id;
      q.role = role;
      q.Run();
      return q.n > 0;
    }
    ChildCount CountChildren(std::string_view parent, std::string_view workflow,
                             const std::vector<std::string>& states) const override {
      ChildCount c;
      std::string p(parent), w(workflow);
      soci::rowset<std::string> rs = (s_.sql_->prepare << "SELECT state FROM instances WHERE parent = :p AND workflow = :w",
                                      soci::use(p), soci::use(w));
      for (const auto& st : rs) {
        ++c.total;
        if (std::find(states.begin(), states.end(), st) != states.end()) ++c.in_states;
      }
      return c;
    }
    std::int64_t CountInstances(const Condition& c) const override {
      std::int64_t n = 0;
      soci::rowset<soci::row> rs = (s_.sql_->prepare << "SELECT state, fields FROM instances WHERE workflow = :w",
                                    soci::use(c.workflow));
      for (const auto& row : rs) {
        std::string state = row.get<std::string>(0);
        if (!c.states.empty() && std::find(c.states.begin(), c.states.end(), state) == c.states.end()) continue;
        json f = json::parse(row.get<std::string>(1));
        bool match = true;
        for (const auto& [k, v] : c.where) {
          const json& x = f.value(k, json());
          std::string text = x.is_string() ? x.get<std::string>() : x.dump();
          if (text != v) match = false;
        }
        if (match) ++n;
      }
      return n;
    }

   private:
    SociStore& s_;
  };

  Actor LoadActor(const std::string& id) {
    Actor a{id, {}};
    auto& q = q_.Get(q_.select_roles);
    q.person = id;
    q.ForEach([&] { a.roles.push_back(q.role); });
    return a;
  }

  const Definition* DefinitionFor(const std::string& name, int version, Status* st) {
    auto key = name + "@" + std::to_string(version);
    auto it = defs_.find(key);
    if (it != defs_.end()) return it->second.get();
    std::string source;
    long long v = version;
    soci::indicator ind = soci::i_null;
    *sql_ << "SELECT source FROM workflow_definitions WHERE name = :n AND version = :v", soci::into(source, ind),
        soci::use(name), soci::use(v);
    if (ind != soci::i_ok) {
      *st = Status::NotFound("workflow '" + name + "' version " + std::to_string(version) + " is not registered");
      return nullptr;
    }
    auto r = LoadWorkflowText(source, name + " v" + std::to_string(version) + " (stored)", LoadOptions{});
    if (!r.ok()) {
      *st = Status::Internal("stored workflow does not load: " + r.errors.front().ToString());
      return nullptr;
    }
    defs_[key] = r.definition;
    return r.definition.get();
  }

  int LatestVersion(const std::string& name) {
    long long v = 0;
    soci::indicator ind = soci::i_null;
    *sql_ << "SELECT MAX(version) FROM workflow_definitions WHERE name = :n", soci::into(v, ind), soci::use(name);
    return ind == soci::i_ok ? static_cast<int>(v) : 0;
  }

  std::string NextId() {
    long long v = 0;
    soci::indicator ind = soci::i_null;
    std::string name = "instance";
    *sql_ << "SELECT value FROM counters WHERE name = :n", soci::into(v, ind), soci::use(name);
    if (ind != soci::i_ok) {
      v = 1;
      *sql_ << "INSERT INTO counters (name, value) VALUES (:n, :v)", soci::use(name), soci::use(v);
    } else {
      ++v;
      *sql_ << "UPDATE counters SET value = :v WHERE name = :n", soci::use(v), soci::use(name);
    }
    return std::to_string(v);
  }

  // Everything a decision asks for except the instance row itself.
  void ApplyEffects(const Definition& def, const std::string& id, const Decision& d, long long seq) {
    const auto& h = d.history;
    auto& hist = q_.Get(q_.insert_history);
    hist.instance = id;
    hist.seq = seq;
    hist.at = FormatInstant(h.at);
    hist.actor = h.actor;
    hist.role = h.role;
    hist.event = h.event;
    hist.from = h.from;
    hist.from_ind = h.from.empty() ? soci::i_null : soci::i_ok;
    hist.to = h.to;
    hist.changes = ChangesJson(def, h.changes).dump();
    hist.workflow_version = def.version;
    hist.Run();
    for (const auto& key : d.cancel_timers) {
      bool rearmed = std::any_of(d.timers.begin(), d.timers.end(), [&](const TimerSpec& t) { return t.key == key; });
      if (!rearmed) {  // a re-armed timer is overwritten below
        auto& del = q_.Get(q_.delete_timer);
        del.instance = id;
        del.key = key;
        del.Run();
      }
      auto& rem = q_.Get(q_.delete_pending_reminders);
      rem.instance = id;
      rem.prefix = key + ":%";
      rem.Run();
    }
    for (const auto& t : d.timers) {
      auto& up = q_.Get(q_.upsert_timer);
      up.instance = id;
      up.key = t.key;
      up.state = def.states[t.state].name;
      up.event = t.event;
      up.due = FormatDate(t.due);
      up.Run();
    }
    for (const auto& r : d.reminders) {
      auto& up = q_.Get(q_.upsert_reminder);
      up.instance = id;
      up.key = r.key;
      up.on = FormatDate(r.on);
      up.notify = json(r.notify).dump();
      up.template_name = r.template_name;
      up.event = r.event;
      up.event_ind = r.event.empty() ? soci::i_null : soci::i_ok;
      up.due = r.due ? FormatDate(*r.due) : "";
      up.due_ind = r.due ? soci::i_ok : soci::i_null;
      up.Run();
    }
    for (int doc : d.documents) {
      const DocumentDef& dd = def.documents[doc];
      auto& last = q_.Get(q_.select_last_issue);
      last.instance = id;
      last.name = dd.name;
      last.issue_ind = soci::i_null;
      last.Run();
      auto& ins = q_.Get(q_.insert_document);
      ins.instance = id;
      ins.name = dd.name;
      ins.issue = (last.issue_ind == soci::i_ok ? last.issue : 0) + 1;
      ins.template_name = dd.template_name;
      ins.issued_at = hist.at;
      ins.Run();
    }
  }

  Status Start(const std::string& workflow, const Input& input, const std::string& parent,
               const std::string& actor_id, const Now& now, InstanceRecord* out, Refusal* refusal) override {
    return Guard([&]() -> Status {
      if (Status s = Ready(); !s.ok()) return s;
      Tx tx(*this);
      int version = LatestVersion(workflow);
      if (version == 0) return Status::NotFound("workflow '" + workflow + "' is not registered (run 'mentorflow init')");
      Status st;
      const Definition* def = DefinitionFor(workflow, version, &st);
      if (!def) return st;
      if (!parent.empty()) {
        int n = 0;
        *sql_ << "SELECT COUNT(*) FROM instances WHERE id = :p", soci::into(n), soci::use(parent);
        if (n == 0) return Status::NotFound("no instance '" + parent + "' (the parent)");
      }
      DbWorld world(*this);
      Outcome o = mentorflow::Start(*def, input, parent, LoadActor(actor_id), now, world);
      if (!o.ok()) {
        if (refusal) *refusal = o.refusal;
        return Status(o.refusal.code, o.refusal.message);
      }
      std::string id = NextId(), fields = FieldsJson(*def, o.decision->fields).dump(), at = FormatInstant(now.instant);
      std::string state = def->states[o.decision->to].name;
      long long wv = version;
      soci::indicator pi = parent.empty() ? soci::i_null : soci::i_ok;
      *sql_ << "INSERT INTO instances (id, workflow, workflow_version, state, fields, parent, version, created, updated)"
               " VALUES (:id, :w, :wv, :s, :f, :p, 1, :c, :u)",
          soci::use(id), soci::use(workflow), soci::use(wv), soci::use(state), soci::use(fields), soci::use(parent, pi),
          soci::use(at), soci::use(at);
      ApplyEffects(*def, id, *o.decision, 1);
      tx.Commit();
      if (out) *out = InstanceRecord{id, workflow, version, state, fields, parent, 1, at, at};
      return Status::Ok();
    });
  }

  Status Send(const std::string& id, const std::string& event, const Input& input, const std::string& actor_id,
              const Now& now, InstanceRecord* out, Refusal* refusal) override {
    return Guard([&]() -> Status {
      if (Status s = Ready(); !s.ok()) return s;
      Tx tx(*this);
      InstanceRecord rec;
      const Definition* def = nullptr;
      Actor actor;
      if (Status s = LoadInstance(id, &rec, &def, actor_id, &actor); !s.ok()) return s;
      Snapshot snap;
      snap.id = rec.id;
      snap.parent = rec.parent;
      snap.state = def->StateIndex(rec.state);
      snap.fields = FieldsFromJson(*def, rec.fields_json);
      snap.signed_documents.assign(def->documents.size(), 0);
      if (!def->documents.empty()) {
        auto& docs = q_.Get(q_.select_documents);
        docs.instance = id;
        docs.ForEach([&] {  // issues come oldest first: the latest decides
          int d = def->DocumentIndex(docs.name);
          if (d >= 0) snap.signed_documents[d] = docs.status == "signed";
        });
      }
      DbWorld world(*this);
      Outcome o = Dispatch(*def, snap, event, input, actor, now, world);
      if (!o.ok()) {
        if (refusal) *refusal = o.refusal;
        return Status(o.refusal.code, o.refusal.message);
      }
      auto& upd = q_.Get(q_.update_instance);
      upd.state = def->states[o.decision->to].name;
      upd.fields = FieldsJson(*def, o.decision->fields).dump();
      upd.updated = FormatInstant(now.instant);
      upd.id = id;
      upd.version = rec.version;
      upd.Run();
      if (upd.st.get_affected_rows() != 1)
        return Status::Conflict("instance " + id + " was changed by someone else meanwhile; nothing was applied, try again");
      // Every change of an instance adds one history entry and one to its
      // version, so the next entry's number is the new version.
      ApplyEffects(*def, id, *o.decision, rec.version + 1);
      tx.Commit();
      if (out) {
        *out = rec;
        out->state = upd.state;
        out->fields_json = upd.fields;
        out->version = rec.version + 1;
        out->updated = upd.updated;
      }
      return Status::Ok();
    });
  }

  Status Sign(const std::string& id, const std::string& doc, const std::string& actor_id,
              std::string* status_out) override {
    return Guard([&]() -> Status {
      if (Status s = Ready(); !s.ok()) return s;
      Tx tx(*this);
      InstanceRecord rec;
      const Definition* def = nullptr;
      if (Status s = LoadInstance(id, &rec, &def, "", nullptr); !s.ok()) return s;
      int di = def->DocumentIndex(doc);
      long long issue = 0;
      soci::indicator ind = soci::i_null;
      *sql_ << "SELECT MAX(issue) FROM documents WHERE instance = :i AND name = :n", soci::into(issue, ind),
          soci::use(id), soci::use(doc);
      if (di < 0 || ind != soci::i_ok)
        return Status::NotFound("document '" + doc + "' has not been issued for instance " + id);
      auto fields = FieldsFromJson(*def, rec.fields_json);
      // Each signer is a person field (that person) or a role (anyone holding it).
      auto satisfied = [&](const std::string& signer, const std::vector<std::string>& who) {
        int fi = def->FieldIndex(signer);
        if (fi >= 0 && def->fields[fi].type == FieldType::kPerson) {
          const auto* p = std::get_if<std::string>(&fields[fi]);
          return p && std::find(who.begin(), who.end(), *p) != who.end();
        }
        DbWorld world(*this);
        for (const auto& w : who)
          if (world.PersonHasRole(w, signer)) return true;
        return false;
      };
      bool may = false;
      for (const auto& signer : def->documents[di].signers) may = may || satisfied(signer, {actor_id});
      if (!may) return Status::Refused("role: " + actor_id + " is not a signer of '" + doc + "'");
      std::string sigs_text;
      *sql_ << "SELECT signatures FROM documents WHERE instance = :i AND name = :n AND issue = :s",
          soci::into(sigs_text), soci::use(id), soci::use(doc), soci::use(issue);
      std::vector<std::string> sigs = json::parse(sigs_text).get<std::vector<std::string>>();
      if (std::find(sigs.begin(), sigs.end(), actor_id) == sigs.end()) sigs.push_back(actor_id);
      bool all = true;
      for (const auto& signer : def->documents[di].signers) all = all && satisfied(signer, sigs);
      std::string status = all ? "signed" : "issued", text = json(sigs).dump();
      *sql_ << "UPDATE documents SET signatures = :g, status = :s WHERE instance = :i AND name = :n AND issue = :v",
          soci::use(text), soci::use(status), soci::use(id), soci::use(doc), soci::use(issue);
      tx.Commit();
      if (status_out) *status_out = status;
      return Status::Ok();
    });
  }

  Status Migrate(const std::string& workflow, int to_version, const StateMap& state_map, const std::string& actor_id,
                 const Now& now, bool dry_run, MigrationReport* report) override {
    return Guard([&]() -> Status {
      if (Status s = Ready(); !s.ok()) return s;
      Tx tx(*this);
      std::vector<int> versions;
      {
        soci::rowset<long long> rs = (sql_->prepare << "SELECT version FROM workflow_definitions WHERE name = :n"
                                                       " ORDER BY version",
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
        soci::rowset<std::string> rs = (sql_->prepare << "SELECT id FROM instances WHERE workflow = :w"
                                                         " AND workflow_version <> :v ORDER BY created, id",
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
                                                " version = version + 1, updated = :u WHERE id = :id AND version = :v",
                               soci::use(tv), soci::use(state), soci::use(fields), soci::use(at), soci::use(id),
                               soci::use(version));
        upd.execute(true);
        if (upd.get_affected_rows() != 1)
          return Status::Conflict("instance " + id + " was changed by someone else during the migration; nothing was"
                                  " migrated, try again");
        ApplyEffects(*to, id, *o.decision, rec.version + 1);
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

  // The instance's row and the definition of the version it runs.
  Status LoadInstance(const std::string& id, InstanceRecord* rec, const Definition** def, const std::string& actor_id,
                      Actor* actor) {
    if (Status s = ShowUnlocked(id, rec, actor_id, actor); !s.ok()) return s;
    Status st;
    *def = DefinitionFor(rec->workflow, rec->workflow_version, &st);
    return *def ? Status::Ok() : st;
  }

  static InstanceRecord FromRow(const soci::row& r) {
    InstanceRecord rec;
    rec.id = r.get<std::string>(0);
    rec.workflow = r.get<std::string>(1);
    rec.workflow_version = static_cast<int>(r.get<long long>(2));
    rec.state = r.get<std::string>(3);
    rec.fields_json = r.get<std::string>(4);
    rec.parent = r.get_indicator(5) == soci::i_null ? "" : r.get<std::string>(5);
    rec.version = static_cast<long>(r.get<long long>(6));
    rec.created = r.get<std::string>(7);
    rec.updated = r.get<std::string>(8);
    return rec;
  }

  static constexpr const char* kColumns =
      "SELECT id, workflow, workflow_version, state, fields, parent, version, created, updated FROM instances";

  // `actor`, when given, receives `actor_id` and their roles.
  Status ShowUnlocked(const std::string& id, InstanceRecord* out, const std::string& actor_id = "",
                      Actor* actor = nullptr) {
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
      *out = InstanceRecord{q.r_id,   q.workflow,
                            static_cast<int>(q.workflow_version), q.state,
                            q.fields, q.parent_ind == soci::i_ok ? q.parent : std::string(),
                            static_cast<long>(q.version),         q.created,
                            q.updated};
    return Status::Ok();
  }

  Status Show(const std::string& id, InstanceRecord* out) override {
    return Guard([&]() -> Status {
      if (Status s = Ready(); !s.ok()) return s;
      return ShowUnlocked(id, out);
    });
  }

  Status List(const std::string& workflow, const std::string& state, std::vector<InstanceRecord>* out) override {
    return Guard([&]() -> Status {
      if (Status s = Ready(); !s.ok()) return s;
      // Only the filters given, so that the (workflow, state) index serves them.
      std::string w = workflow, s = state;
      std::string where;
      if (!w.empty()) where += " WHERE workflow = :w";
      if (!s.empty()) where += (where.empty() ? " WHERE" : " AND") + std::string(" state = :s");
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

  Status History(const std::string& id, std::vector<HistoryRecord>* out) override {
    return Guard([&]() -> Status {
      if (Status s = Ready(); !s.ok()) return s;
      if (Status s = ShowUnlocked(id, nullptr); !s.ok()) return s;
      soci::rowset<soci::row> rs =
          (sql_->prepare << "SELECT seq, at, actor, role, event, from_state, to_state, changes, workflow_version FROM history"
                            " WHERE instance = :i ORDER BY seq",
           soci::use(id));
      for (const auto& r : rs) {
        HistoryRecord h;
        h.seq = static_cast<long>(r.get<long long>(0));
        h.at = r.get<std::string>(1);
        h.actor = r.get<std::string>(2);
        h.role = r.get<std::string>(3);
        h.event = r.get<std::string>(4);
        h.from = r.get_indicator(5) == soci::i_null ? "" : r.get<std::string>(5);
        h.to = r.get<std::string>(6);
        h.changes_json = r.get<std::string>(7);
        h.workflow_version = static_cast<int>(r.get<long long>(8));
        out->push_back(std::move(h));
      }
      return Status::Ok();
    });
  }

 private:
  std::unique_ptr<soci::session> sql_;
  bool sqlite_;
  bool ready_ = false;
  bool in_batch_ = false;
  Status batch_failure_;
  Statements q_;
  std::map<std::string, std::shared_ptr<const Definition>> defs_;
};

}  // namespace

std::string PostgresConnectionString(const std::string& url) {
  std::string rest;
  for (const char* scheme : {"postgresql://", "postgres://"})
    if (url.rfind(scheme, 0) == 0) rest = url.substr(std::string(scheme).size());
  if (rest.empty()) return url;
  auto quote = [](const std::string& v) {
    std::string out = "'";
    for (char c : v) {
      if (c == '\\' || c == '\'') out += '\\';
      out += c;
    }
    return out + "'";
  };
  std::string params;
  if (auto q = rest.find('?'); q != std::string::npos) {
    std::string query = rest.substr(q + 1);
    rest = rest.substr(0, q);
    std::istringstream in(query);
    std::string kv;
    while (std::getline(in, kv, '&'))
      if (auto eq = kv.find('='); eq != std::string::npos) params += " " + kv.substr(0, eq) + "=" + quote(kv.substr(eq + 1));
  }
  std::string out, hostport = rest, db;
  if (auto slash = rest.find('/'); slash != std::string::npos) {
    hostport = rest.substr(0, slash);
    db = rest.substr(slash + 1);
  }
  if (auto at = hostport.rfind('@'); at != std::string::npos) {
    std::string user = hostport.substr(0, at);
    hostport = hostport.substr(at + 1);
    if (auto colon = user.find(':'); colon != std::string::npos) {
      out += " password=" + quote(user.substr(colon + 1));
      user = user.substr(0, colon);
    }
    if (!user.empty()) out += " user=" + quote(user);
  }
  if (auto colon = hostport.rfind(':'); colon != std::string::npos) {
    out += " port=" + quote(hostport.substr(colon + 1));
    hostport = hostport.substr(0, colon);
  }
  if (!hostport.empty()) out += " host=" + quote(hostport);
  if (!db.empty()) out += " dbname=" + quote(db);
  out += params;
  return out.empty() ? out : out.substr(1);
}

std::unique_ptr<Store> Store::Open(const std::string& url, Status* status) {
  try {
    if (url.rfind("sqlite:", 0) == 0) {
      std::string path = url.substr(7);
      if (path.empty()) {
        *status = Status::BadInput("--db sqlite:PATH needs a path");
        return nullptr;
      }
      // SOCI's sqlite3 timeout is in seconds (and 0 by default): wait for a writer.
      auto sql = std::make_unique<soci::session>(soci::sqlite3, "db=\"" + path + "\" timeout=30");
      *sql << "PRAGMA journal_mode=WAL";
      *sql << "PRAGMA synchronous=FULL";  // an acknowledged event survives a crash or power loss
      *sql << "PRAGMA foreign_keys=ON";
      return std::make_unique<SociStore>(std::move(sql), true);
    }
    if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0) {
      auto sql = std::make_unique<soci::session>(soci::postgresql, PostgresConnectionString(url));
      return std::make_unique<SociStore>(std::move(sql), false);
    }
    *status = Status::BadInput("--db: '" + url + "' is neither sqlite:PATH nor postgresql://...");
  } catch (const soci::soci_error& e) {
    *status = Status::Internal(std::string("cannot open the database: ") + e.what());
  }
  return nullptr;
}

}  // namespace mentorflow
