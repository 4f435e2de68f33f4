// Opening a database, transactions, and turning SOCI's exceptions into
// Status values with the right exit code.
#include <fcntl.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/sqlite3/soci-sqlite3.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <thread>

#include "storage/statements.h"
#include "engine/text.h"

namespace mentorflow {

using storage::SociStore;

namespace {

// "2s", "500ms", "2min", "1h" or a bare number of milliseconds -> milliseconds.
bool ParseDurationMs(const std::string& text, long long* ms) {
  std::size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits == 0 || digits > 9) return false;
  const long long n = std::stoll(text.substr(0, digits));
  const std::string unit = text.substr(digits);
  static const std::pair<const char*, long long> kUnits[] = {{"", 1}, {"ms", 1}, {"s", 1000}, {"min", 60000}, {"h", 3600000}};
  for (const auto& [name, factor] : kUnits)
    if (unit == name) {
      *ms = n * factor;
      return true;
    }
  return false;
}

std::string FirstLine(const std::string& s) {  // PostgreSQL's DETAIL lines quote key values
  return s.substr(0, s.find('\n'));
}

// URL -> (what comes before '?', its k=v parameters in order).
std::pair<std::string, std::vector<std::pair<std::string, std::string>>> SplitQuery(const std::string& url) {
  std::vector<std::pair<std::string, std::string>> params;
  auto q = url.find('?');
  if (q == std::string::npos) return {url, params};
  std::istringstream in(url.substr(q + 1));
  std::string kv;
  while (std::getline(in, kv, '&')) {
    auto eq = kv.find('=');
    params.emplace_back(kv.substr(0, eq), eq == std::string::npos ? std::string() : kv.substr(eq + 1));
  }
  return {url.substr(0, q), params};
}

// How long a command waits before it gives up (exit 5), from the URL's
// parameters: ?lock_timeout= (both backends: a lock held elsewhere),
// ?statement_timeout= (PostgreSQL: one statement) and ?connect_timeout=
// (PostgreSQL: seconds until the server answers).
// How much longer than statement_timeout the client waits for a server
// that sends nothing before it gives up on the connection (watchdog.h).
constexpr long long kWatchdogMarginMs = 5000;

struct Waits {
  long long lock_ms = 30000, statement_ms = 120000, connect_s = 10;
  // ?pool=transaction: the connection goes through a pool that hands each
  // transaction to any server connection (PgBouncer's transaction mode).
  bool pooled = false;
};

Status ReadWaits(const std::vector<std::pair<std::string, std::string>>& params, bool postgres, Waits* w) {
  for (const auto& [key, value] : params) {
    if (postgres && key == "pool") {
      if (value != "transaction" && value != "none")
        return Status::BadInput("--db: pool='" + value + "': transaction (behind PgBouncer's transaction mode) or none");
      w->pooled = value == "transaction";
      continue;
    }
    const bool known = key == "lock_timeout" || (postgres && (key == "statement_timeout" || key == "connect_timeout"));
    if (!known) {
      if (postgres) continue;  // libpq's own keywords (sslmode, ...) pass through
      return Status::BadInput("--db: sqlite: URLs take only ?lock_timeout=DURATION, not '" + key + "'");
    }
    long long ms = 0;
    const bool seconds = key == "connect_timeout" && !value.empty() &&
                         value.find_first_not_of("0123456789") == std::string::npos;  // libpq's unit
    if (!ParseDurationMs(value, &ms) || ms == 0)
      return Status::BadInput("--db: " + key + "='" + value + "' is not a duration such as 500ms, 5s or 2min");
    if (key == "lock_timeout") w->lock_ms = ms;
    if (key == "statement_timeout") w->statement_ms = ms;
    if (key == "connect_timeout") w->connect_s = seconds ? ms : std::max(1LL, ms / 1000);
  }
  return Status();
}

}  // namespace

std::string PostgresConnectionString(const std::string& url, const std::string& institution) {
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
  auto [base, query] = SplitQuery(rest);
  rest = base;
  // Bounded waits by default: a server that accepts and stays silent, or a
  // lock held elsewhere, ends the command (exit 5) instead of hanging it.
  Waits waits;
  ReadWaits(query, true, &waits);  // Store::Open has refused a malformed one
  std::string params;
  for (const auto& [key, value] : query)
    if (key != "lock_timeout" && key != "statement_timeout" && key != "connect_timeout" && key != "pool")
      params += " " + key + "=" + quote(value);
  params += " connect_timeout=" + quote(std::to_string(waits.connect_s));
  // A pool passes no startup options on: each transaction sets its own
  // (SociStore::BeginContext).
  if (!waits.pooled)
    params += " options=" + quote((institution.empty() || (institution != "*" && !CheckInstitutionId(institution).ok())
                                     ? std::string()
                                     : "-c mentorflow.institution=" + institution + " ") +
                                "-c lock_timeout=" + std::to_string(waits.lock_ms) +
                                " -c statement_timeout=" + std::to_string(waits.statement_ms));
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

std::unique_ptr<Store> Store::Open(const std::string& url, Status* status, const StoreOptions& wanted) {
  if (!wanted.institution.empty())
    if (Status s = CheckInstitutionId(wanted.institution); !s.ok()) {
      *status = s;
      return nullptr;
    }
  try {
    if (url.rfind("sqlite:", 0) == 0) {
      auto [path, query] = SplitQuery(url.substr(7));
      // A read is recorded (who read whose data) wherever the file can be
      // written; read-only only where it cannot.
      StoreOptions options = wanted;
      if (options.read_only && ::access(path.c_str(), W_OK) == 0) {
        const auto slash = path.rfind('/');
        const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
        if (::access(dir.c_str(), W_OK) == 0) options.read_only = false;
      }
      Waits waits;
      if (Status s = ReadWaits(query, false, &waits); !s.ok()) {
        *status = s;
        return nullptr;
      }
      if (path.empty()) {
        *status = Status::BadInput("--db sqlite:PATH needs a path");
        return nullptr;
      }
      // The file is never opened here to be looked at: closing a descriptor
      // of it would drop every POSIX lock this process holds on it, and with
      // them the locks of another connection of the process (a server's).
      if (options.read_only) {
        if (::access(path.c_str(), R_OK) != 0) {
          *status = errno == ENOENT ? Status::BadInput("the database is not initialised: run 'mentorflow init' (no " +
                                                       path + ")")
                                    : Status::Internal("cannot read " + path + ": " + std::strerror(errno));
          return nullptr;
        }
      } else if (::access(path.c_str(), F_OK) != 0) {
        // Children's data: a new database file is readable by its owner only
        // (SQLite gives its -wal and -shm files the same mode).
        int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
        if (fd < 0 && errno != EEXIST) {  // EEXIST: another process made it first
          *status = Status::Internal("cannot open or create " + path + ": " + std::strerror(errno));
          return nullptr;
        }
        if (fd >= 0) ::close(fd);  // nobody holds a lock on a file just made
      } else if (::access(path.c_str(), R_OK | W_OK) != 0) {
        *status = Status::Internal("cannot open or create " + path + ": " + std::strerror(errno));
        return nullptr;
      }
      // A file others may read exposes children's data: say so every time.
      for (const char* ext : {"", "-wal", "-shm"}) {
        struct stat st {};
        const std::string file = path + ext;
        if (::stat(file.c_str(), &st) == 0 && (st.st_mode & 0077) != 0) {
          char mode[8];
          std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
          spdlog::warn("{} is readable by other users (mode {}); it holds personal data: chmod 600 {}", file, mode,
                       file);
        }
      }
      auto sql = std::make_unique<soci::session>(
          soci::sqlite3, "db=\"" + path + "\"" + (options.read_only ? " readonly=1" : ""));
      // Wait for a writer at most lock_timeout, then give up (exit 5).
      *sql << "PRAGMA busy_timeout=" + std::to_string(waits.lock_ms);
      if (options.read_only) {
        try {
          int n = 0;
          *sql << "SELECT COUNT(*) FROM sqlite_master", soci::into(n);
        } catch (const soci::soci_error& e) {
          *status = Status::Internal(
              "cannot read " + path + ": " + e.get_error_message() +
              " (to read a WAL database SQLite needs its -wal and -shm files, or a writable directory to create"
              " them; copy the file to a directory you can write)");
          return nullptr;
        }
        return std::make_unique<SociStore>(std::move(sql), true, options);
      }
      // Processes opening a new file at once race to switch it to WAL, and
      // there SQLite may answer "locked" at once instead of calling the busy
      // handler: wait here as busy_timeout would.
      for (const auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(waits.lock_ms);;) {
        try {
          *sql << "PRAGMA journal_mode=WAL";
          break;
        } catch (const soci::soci_error&) {
          if (std::chrono::steady_clock::now() >= give_up) throw;
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
      }
      *sql << "PRAGMA synchronous=FULL";  // an acknowledged event survives a crash or power loss
      *sql << "PRAGMA foreign_keys=ON";
      // Deleted and overwritten content is zeroed in the file, not left in
      // free space: erased personal data must not survive in the bytes.
      *sql << "PRAGMA secure_delete=ON";
      auto store = std::make_unique<SociStore>(std::move(sql), true, options);
      store->SerialiseWritersOf(path);
      return store;
    }
    if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0) {
      Waits waits;
      if (Status s = ReadWaits(SplitQuery(url).second, true, &waits); !s.ok()) {
        *status = s;
        return nullptr;
      }
      auto sql = std::make_unique<soci::session>(soci::postgresql, PostgresConnectionString(url));
      StoreOptions options = wanted;
      options.read_only = false;  // a server: what its role may not write, it is told so
      auto store = std::make_unique<SociStore>(std::move(sql), false, options);
      if (waits.pooled) store->Pooled(waits.lock_ms, waits.statement_ms);
      // The server bounds a statement by statement_timeout; the client
      // bounds its wait for a server that no longer answers at all.
      store->Watch(std::chrono::milliseconds(waits.statement_ms + kWatchdogMarginMs));
      return store;
    }
    *status = Status::BadInput("--db: '" + url + "' is neither sqlite:PATH nor postgresql://...");
  } catch (const soci::soci_error& e) {
    std::string message = e.get_error_message();
    if (message.find("unsupported startup parameter") != std::string::npos)
      message = FirstLine(message.substr(std::min(message.find("FATAL:"), message.size()))) +
                " (a connection pool? behind PgBouncer's transaction mode add ?pool=transaction to --db)";
    *status = Status::Internal(std::string("cannot open the database: ") + message);
  }
  return nullptr;
}

namespace storage {

Statements::Statements(soci::session& sql, bool sqlite, const std::string& institution)
    : sql_(sql), sqlite_(sqlite), institution_(institution) {}
Statements::~Statements() = default;

void Statements::Clear() {
  select_instance.reset(), select_documents.reset(), select_roles.reset(), select_has_role.reset();
  select_consent.reset(), update_instance.reset(), insert_history.reset(), delete_timer.reset();
  cancel_reminders.reset(), upsert_timer.reset(), select_last_issue.reset();
  insert_document.reset(), set_document_status.reset(), select_person_name.reset();
  select_open_pair_facts.reset(), close_pair_facts.reset(), insert_pair_facts.reset(), set_pair_events.reset();
  select_birth_year.reset(), delete_claimed_timer.reset(), promote_instance_reminders.reset();
  select_people_with_role.reset(), select_birth_guardian.reset();
  for (auto& rows : upsert_reminder_rows) rows.reset();
  update_instance_with_history.reset(), claim_timers.reset();
  lock_instances.reset(), select_instance_ids.reset(), promote_batch_reminders.reset();
  write_instance.reset(), select_timer_dues.reset();
}

SociStore::SociStore(std::unique_ptr<soci::session> sql, bool sqlite, StoreOptions options)
    : sql_(std::move(sql)),
      sqlite_(sqlite),
      options_(std::move(options)),
      institution_(options_.institution.empty() ? kDefaultInstitution : options_.institution),
      explicit_institution_(!options_.institution.empty()),
      q_(*sql_, sqlite, institution_) {
  if (sqlite_) return;
  pipe_ = std::make_unique<PgPipeline>(
      [this] { return static_cast<soci::postgresql_session_backend*>(sql_->get_backend())->conn_; });
  q_.pipe = pipe_.get();
  pipe_->OnHeld([this] { WriteHeld(); }, [this] { DropHeld(); });
  sql_->set_query_transformation([this](const std::string& text) {
    BeforeStatement(text);
    return text;
  });
}

void SociStore::BeforeStatement(const std::string& text) {
  if (!pipe_ || !pipe_->pending()) return;
  if (text.rfind("ROLLBACK", 0) == 0)
    pipe_->Discard();
  else
    pipe_->Flush();
}

long long SociStore::Defer(Deferrable& w, long long must, bool count) {
  if (defer_ && pipe_) {
    if (w.numbered.text.empty()) w.numbered = NumberPlaceholders(w.text);
    pipe_->Send(w.numbered.text, w.Values(), must, count);
    return must < 0 ? 0 : must;
  }
  w.Run();
  return w.st->get_affected_rows();
}

void Deferrable::PrepareText(soci::session& sql, std::string sql_text) {
  text = std::move(sql_text);
  soci::details::prepare_temp_type p = (sql.prepare << text, soci::use(inst, "inst"));
  for (Bind& b : binds) {
    if (b.number) p, soci::use(*b.number, b.name);
    else if (b.ind) p, soci::use(*b.text, *b.ind, b.name);
    else p, soci::use(*b.text, b.name);
  }
  Prepare(std::move(p));
}

std::vector<PgParam> Deferrable::Values() const {
  std::vector<PgParam> out;
  out.reserve(numbered.names.size());
  for (const std::string& name : numbered.names) {
    if (name == "inst") {
      out.emplace_back(inst);
      continue;
    }
    auto b = std::find_if(binds.begin(), binds.end(), [&](const Bind& x) { return x.name == name; });
    if (b == binds.end()) throw soci::soci_error("storage: no value bound for :" + name);
    if (b->ind && *b->ind == soci::i_null) out.emplace_back(std::nullopt);
    else if (b->number) out.emplace_back(std::to_string(*b->number));
    else out.emplace_back(*b->text);
  }
  return out;
}

std::string SociStore::BeginContext() const {
  if (!pooled_) return "SELECT set_config('mentorflow.institution', " + I() + ", true)";
  // Behind a pool the waits are this transaction's own.
  return "SELECT set_config('mentorflow.institution', " + I() + ", true), set_config('lock_timeout', '" +
         std::to_string(lock_ms_) + "ms', true), set_config('statement_timeout', '" + std::to_string(statement_ms_) +
         "ms', true)";
}

void SociStore::Pooled(long long lock_ms, long long statement_ms) {
  pooled_ = true;
  // Nothing may stay prepared past a transaction behind a pool: no writes wait.
  pipe_.reset();
  q_.pipe = nullptr;
  lock_ms_ = lock_ms;
  statement_ms_ = statement_ms;
}

// Behind a pool, a statement prepared in one transaction may not be there
// in the next (another server connection): the prepared ones go before the
// transaction ends, on its own connection. (Within a Guard, COMMIT and the
// next BEGIN go in one query, which keeps the server connection.)
void SociStore::ForgetPrepared() {
  if (pooled_) q_.Clear();
}

// BEGIN on what may be another client's server connection: behind a pool,
// whatever that client left prepared (a transaction that failed before its
// statements were deallocated) goes first.
std::string SociStore::BeginFresh() const {
  return std::string(pooled_ ? "BEGIN; DEALLOCATE ALL; " : "BEGIN; ") + BeginContext();
}

SociStore::~SociStore() = default;

void SociStore::Watch(std::chrono::milliseconds bound) {
  // SOCI's backend classes export no type information: ask its name.
  if (sql_->get_backend_name() != "postgresql") return;
  auto* backend = static_cast<soci::postgresql_session_backend*>(sql_->get_backend());
  if (!backend || !backend->conn_) return;
  PGconn* conn = backend->conn_;
  // libpq keeps whether a command awaits its result in a plain field, which
  // PQtransactionStatus reads (a word read while the owning thread may write
  // it; the watchdog acts only when it has not changed for `bound`).
  watchdog_ = std::make_unique<Watchdog>(
      PQsocket(conn), [conn] { return PQtransactionStatus(conn) == PQTRANS_ACTIVE; }, bound);
}

SociStore::Tx::Tx(SociStore& s) : s_(s), nested_(s.in_batch_ || s.in_tx_) {
  if (nested_) return;
  if (s_.writers_) writer_ = std::unique_lock<std::mutex>(*s_.writers_);
  if (s_.context_open_) {
    took_context_ = true;  // Guard's transaction, with what it read, becomes this one
  } else if (s_.sqlite_) {
    *s_.sql_ << "BEGIN IMMEDIATE";
  } else {
    s_.Script(s_.BeginFresh());
  }
  s_.in_tx_ = true;
}

// Ends this transaction (`end`: COMMIT or ROLLBACK); when it was Guard's,
// Guard's body goes on in a new one of the same institution, begun in the
// same round trip (PostgreSQL).
void SociStore::Tx::End(const char* end) {
  if (!took_context_ || !s_.context_open_) {
    s_.ForgetPrepared();
    *s_.sql_ << end;
    return;
  }
  try {
    s_.Script(std::string(end) + "; BEGIN; " + s_.BeginContext());
  } catch (...) {
    s_.context_open_ = false;
    throw;
  }
}

void SociStore::Script(const std::string& text) {
  BeforeStatement(text);
  auto* backend = static_cast<soci::postgresql_session_backend*>(sql_->get_backend());
  PGresult* r = PQexec(backend->conn_, text.c_str());
  const ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
    PQclear(r);
    return;
  }
  const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  const std::string message = r ? PQresultErrorMessage(r) : PQerrorMessage(backend->conn_);
  const std::string sqlstate = state ? state : "";
  if (r) PQclear(r);
  throw soci::postgresql_soci_error(message, sqlstate.c_str());
}

// SQLite lets one writer in at a time, and a writer kept waiting polls with
// growing sleeps (the busy handler): threads of one process sharing a file
// queue on a mutex instead, and wake the moment the writer before is done.
void SociStore::SerialiseWritersOf(const std::string& path) {
  static std::mutex guard;
  static std::map<std::string, std::unique_ptr<std::mutex>> by_path;
  std::error_code ec;
  const std::string key = std::filesystem::weakly_canonical(path, ec).string();
  std::lock_guard<std::mutex> lock(guard);
  auto& m = by_path[ec ? path : key];
  if (!m) m = std::make_unique<std::mutex>();
  writers_ = m.get();
}

SociStore::LightCommits::LightCommits(SociStore& s) : s_(s) {
  if (!s_.sqlite_ || s_.in_tx_ || s_.in_batch_) return;  // within a transaction: it decides
  *s_.sql_ << "PRAGMA synchronous=NORMAL";
  pragma_ = true;
}

SociStore::LightCommits::~LightCommits() {
  if (!pragma_) return;
  try {
    *s_.sql_ << "PRAGMA synchronous=FULL";
  } catch (...) {
  }
}

void SociStore::LightCommits::Relax() {
  if (!s_.sqlite_) *s_.sql_ << "SET LOCAL synchronous_commit = off";
}

SociStore::Tx::~Tx() {
  if (done_ || nested_) return;
  s_.in_tx_ = false;
  s_.settings_cache_.clear();  // what this transaction read may not have happened
  try {
    End("ROLLBACK");
  } catch (...) {
    s_.context_open_ = false;
  }
}

void SociStore::Tx::Commit() {
  if (!nested_) {
    done_ = true;  // a COMMIT that fails ends the transaction too
    s_.in_tx_ = false;
    End("COMMIT");
    if (writer_.owns_lock()) writer_.unlock();
  }
  done_ = true;  // nested: the outer transaction commits
}

namespace {

// SOCI 4.0's categories are not filled in by every backend: ask the backend's
// own error (SQLite's result code, PostgreSQL's SQLSTATE class 23) too.
bool IsConstraintViolation(const soci::soci_error& e) {
  if (e.get_error_category() == soci::soci_error::constraint_violation) return true;
  if (const auto* s = dynamic_cast<const soci::sqlite3_soci_error*>(&e)) return (s->result() & 0xff) == 19;  // SQLITE_CONSTRAINT
  if (const auto* p = dynamic_cast<const soci::postgresql_soci_error*>(&e)) return p->sqlstate().rfind("23", 0) == 0;
  return false;
}

}  // namespace

Status SociStore::CheckActor(const std::string& actor_id) {
  if (actor_id == "system" && !acting_as_system_)
    return Status(Code::kRefused, "role: 'system' is reserved: only deadlines and cascades act as it", "role");
  if (Status s = CheckId("--as", actor_id); !s.ok()) return s;
  if (actor_id == "system" || !ready_) return Status::Ok();
  if (lookups_ && lookups_->people.count(actor_id)) return Status::Ok();  // until the batch changes people
  // Someone who is not registered is nobody: not found, not a role refusal.
  int n = 0;
  *sql_ << "SELECT COUNT(*) FROM people WHERE institution = " + I() + " AND id = :id", soci::into(n),
      soci::use(actor_id);
  if (n == 0) return Status::NotFound("--as: no person '" + actor_id + "'");
  if (lookups_) lookups_->people.insert(actor_id);
  return Status::Ok();
}

Status SociStore::Guard(const std::function<Status()>& body) {
  // PostgreSQL: the outermost Guard runs its body in a transaction of the
  // store's institution, so that every statement, reads too, sees that
  // institution's rows and no other's (row security); committed at the end.
  const bool context = !sqlite_ && guard_depth_ == 0 && !in_tx_ && !context_open_;
  ++guard_depth_;
  struct Depth {
    int& depth;
    ~Depth() { --depth; }
  } depth{guard_depth_};
  auto end_context = [&](bool commit) {
    if (!context || !context_open_) return;
    context_open_ = false;
    ForgetPrepared();
    if (commit) {
      *sql_ << "COMMIT";
      return;
    }
    try {
      *sql_ << "ROLLBACK";
    } catch (...) {
    }
  };
  Status st;
  try {
    if (context) {
      context_open_ = true;  // so that a failure here rolls back too
      Script(BeginFresh());
    }
    // In a batch, each of the body's calls is a step: what it queues in the
    // pipeline is marked with it (Store::BatchSteps).
    if (in_batch_ && guard_depth_ == 2) BetweenHeldSteps();
    st = body();
    end_context(true);
  } catch (const soci::soci_error& e) {
    end_context(false);
    // Two writers inserting the same key at once (a person, a reminder, a
    // history entry): the loser changed nothing and may retry.
    // The message is the server's own, never SOCI's what(): that appends
    // the statement's bound values, which may be a child's name.
    const auto* pg = dynamic_cast<const soci::postgresql_soci_error*>(&e);
    const auto* lite = dynamic_cast<const soci::sqlite3_soci_error*>(&e);
    if (watchdog_ && watchdog_->fired())
      st = Status::Internal("storage: the database server did not answer for " +
                            std::to_string(watchdog_->bound().count() / 1000) +
                            " s (statement_timeout in --db, plus a margin); gave up waiting: what was not committed"
                            " is not applied");
    else if (IsConstraintViolation(e))
      st = Status::Conflict("changed concurrently, nothing was applied; try again");
    else if ((pg && pg->sqlstate() == "55P03") || (lite && ((lite->result() & 0xff) == 5 || (lite->result() & 0xff) == 6)))
      st = Status::Internal("storage: gave up waiting for a lock another process holds (lock_timeout in --db);"
                            " nothing was applied, try again later");
    else if (pg && pg->sqlstate() == "57014")
      st = Status::Internal("storage: a statement ran longer than statement_timeout (in --db) and was cancelled;"
                            " nothing was applied");
    else
      st = Status::Internal(std::string("storage: ") + FirstLine(e.get_error_message()));
  } catch (const json::exception& e) {
    end_context(false);
    st = Status::Internal(std::string("storage: corrupt JSON: ") + e.what());
  } catch (const StoredStateError& e) {
    end_context(false);
    st = Status::Internal(std::string("storage: ") + e.what() + "; nothing was changed");
  } catch (...) {
    end_context(false);
    throw;
  }
  // Inside a batch the first failure fails the batch, whatever its body
  // does next: a half-applied call must never be committed.
  if (in_batch_ && !st.ok() && batch_failure_.ok()) batch_failure_ = st;
  return st;
}

Status SociStore::Together(const std::function<Status()>& body) {
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    Tx tx(*this);
    Status st = body();
    if (st.ok()) tx.Commit();
    return st;
  });
}

Status SociStore::Batch(const std::function<Status()>& body, bool dry_run, BatchSteps* steps) {
  if (in_batch_) return Status::Internal("Batch() cannot be nested");
  return Guard([&]() -> Status {
    if (Status s = Ready(); !s.ok()) return s;
    Tx tx(*this);
    // One transaction: its calls' writes wait in the pipeline (PostgreSQL)
    // until each call ends, and what no call changes is read once.
    LookupScope lookups(*this);
    Deferring deferring(*this, true);
    in_batch_ = true;
    holding_ = true;
    batch_failure_ = Status::Ok();
    batch_steps_ = steps;
    if (pipe_) pipe_->TakeFailedStep();
    struct End {
      SociStore& s;
      ~End() {
        s.in_batch_ = false;
        s.holding_ = false;
        s.batch_steps_ = nullptr;
        if (s.pipe_) s.pipe_->Step({});
      }
    } end{*this};
    Status st;
    try {
      st = body();
      if (pipe_) pipe_->Flush();
    } catch (...) {
      if (steps && pipe_) steps->failed = pipe_->TakeFailedStep();
      throw;
    }
    if (st.ok()) st = batch_failure_;
    // A write refused after its call had ended: its own step says where.
    if (!st.ok() && steps && pipe_) steps->failed = pipe_->TakeFailedStep();
    if (st.ok() && !dry_run) tx.Commit();
    return st;
  });
}

}  // namespace storage
}  // namespace mentorflow
