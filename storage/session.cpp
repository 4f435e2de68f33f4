// Opening a database, transactions, and turning SOCI's exceptions into
// Status values with the right exit code.
#include <fcntl.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/sqlite3/soci-sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

#include "storage/statements.h"

namespace mentorflow {

using storage::SociStore;

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

std::unique_ptr<Store> Store::Open(const std::string& url, Status* status, const StoreOptions& options) {
  try {
    if (url.rfind("sqlite:", 0) == 0) {
      std::string path = url.substr(7);
      if (path.empty()) {
        *status = Status::BadInput("--db sqlite:PATH needs a path");
        return nullptr;
      }
      // Children's data: a new database file is readable by its owner only
      // (SQLite gives its -wal and -shm files the same mode).
      int fd = ::open(path.c_str(), O_RDWR | O_CREAT, 0600);
      if (fd < 0) {
        *status = Status::Internal("cannot open or create " + path + ": " + std::strerror(errno));
        return nullptr;
      }
      ::close(fd);
      // SOCI's sqlite3 timeout is in seconds (and 0 by default): wait for a writer.
      auto sql = std::make_unique<soci::session>(soci::sqlite3, "db=\"" + path + "\" timeout=30");
      *sql << "PRAGMA journal_mode=WAL";
      *sql << "PRAGMA synchronous=FULL";  // an acknowledged event survives a crash or power loss
      *sql << "PRAGMA foreign_keys=ON";
      return std::make_unique<SociStore>(std::move(sql), true, options);
    }
    if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0) {
      auto sql = std::make_unique<soci::session>(soci::postgresql, PostgresConnectionString(url));
      return std::make_unique<SociStore>(std::move(sql), false, options);
    }
    *status = Status::BadInput("--db: '" + url + "' is neither sqlite:PATH nor postgresql://...");
  } catch (const soci::soci_error& e) {
    *status = Status::Internal(std::string("cannot open the database: ") + e.what());
  }
  return nullptr;
}

namespace storage {

Statements::Statements(soci::session& sql, bool sqlite) : sql_(sql), sqlite_(sqlite) {}
Statements::~Statements() = default;

SociStore::SociStore(std::unique_ptr<soci::session> sql, bool sqlite, StoreOptions options)
    : sql_(std::move(sql)), sqlite_(sqlite), options_(std::move(options)), q_(*sql_, sqlite) {}

SociStore::~SociStore() = default;

SociStore::Tx::Tx(SociStore& s) : s_(s), nested_(s.in_batch_ || s.in_tx_) {
  if (nested_) return;
  *s_.sql_ << (s_.sqlite_ ? "BEGIN IMMEDIATE" : "BEGIN");
  s_.in_tx_ = true;
}

SociStore::Tx::~Tx() {
  if (done_ || nested_) return;
  s_.in_tx_ = false;
  s_.settings_cache_.clear();  // what this transaction read may not have happened
  try {
    *s_.sql_ << "ROLLBACK";
  } catch (...) {
  }
}

void SociStore::Tx::Commit() {
  if (!nested_) {
    *s_.sql_ << "COMMIT";
    s_.in_tx_ = false;
  }
  done_ = true;
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

Status SociStore::Guard(const std::function<Status()>& body) {
  Status st;
  try {
    st = body();
  } catch (const soci::soci_error& e) {
    // Two writers inserting the same key at once (a person, a reminder, a
    // history entry): the loser changed nothing and may retry.
    if (IsConstraintViolation(e))
      st = Status::Conflict(std::string("changed concurrently, nothing was applied; try again (") + e.what() + ")");
    else
      st = Status::Internal(std::string("storage: ") + e.what());
  } catch (const json::exception& e) {
    st = Status::Internal(std::string("storage: corrupt JSON: ") + e.what());
  }
  // Inside a batch the first failure fails the batch, whatever its body
  // does next: a half-applied call must never be committed.
  if (in_batch_ && !st.ok() && batch_failure_.ok()) batch_failure_ = st;
  return st;
}

Status SociStore::Batch(const std::function<Status()>& body, bool dry_run) {
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

}  // namespace storage
}  // namespace mentorflow
