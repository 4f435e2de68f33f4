// Private to storage/: writes on PostgreSQL whose answers nothing waits for,
// sent without waiting (libpq's pipeline mode) and answered together just
// before the next statement that reads, or the commit. A batch of firings
// then costs one round trip for its writes instead of one per write.
#pragma once

#include <libpq-fe.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mentorflow::storage {

// A statement's parameter as text, or SQL NULL.
using PgParam = std::optional<std::string>;

// `text` with SOCI's `:name` placeholders numbered `$1`, `$2`, ... by first
// appearance (a name used twice keeps its number); `names` in that order.
struct PgNumbered {
  std::string text;
  std::vector<std::string> names;
};
PgNumbered NumberPlaceholders(const std::string& text);

class PgPipeline {
 public:
  // `conn` is asked for the connection each time: a reconnect gives a new one,
  // on which nothing is prepared yet.
  explicit PgPipeline(std::function<PGconn*()> conn) : conn_(std::move(conn)) {}
  PgPipeline(const PgPipeline&) = delete;
  PgPipeline& operator=(const PgPipeline&) = delete;

  // Queues a write: `text` (numbered placeholders, see NumberPlaceholders)
  // prepared once per connection and executed with `params`. `rows`: how
  // many rows it must change, or -1 for any number; `count`: its changed
  // rows are added to counted().
  void Send(const std::string& text, const std::vector<PgParam>& params, long long rows, bool count);
  // Every queued write answered. On the first failure the rest are dropped
  // by the server, and this throws soci::postgresql_soci_error (the server's
  // message and SQLSTATE) or, for a write that changed other than the rows it
  // must, soci::soci_error: the transaction is then to be rolled back.
  void Flush();
  // Answers read and dropped: the transaction is being rolled back.
  void Discard();
  bool pending() const { return !waiting_.empty(); }
  // Rows changed by writes queued with `count`, since the last call.
  long long TakeCounted() {
    long long n = counted_;
    counted_ = 0;
    return n;
  }

 private:
  struct Waiting {
    bool prepare = false;
    long long rows = -1;
    bool count = false;
    std::string text;  // of a prepare: forgotten should it fail
  };
  // Reads every answer up to the sync; the first failure, if any, as
  // {message, sqlstate} (an empty sqlstate: a row count that did not match).
  std::optional<std::pair<std::string, std::string>> Drain(PGconn* c);

  std::function<PGconn*()> conn_;
  PGconn* prepared_on_ = nullptr;
  std::map<std::string, std::string> names_;  // text -> name of its prepared statement
  std::vector<Waiting> waiting_;
  long long counted_ = 0;
};

}  // namespace mentorflow::storage
