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
#include <utility>
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
  // Writes the caller holds back to coalesce them (Store::Batch): `write`
  // queues them, and runs at the next Flush, before anything is answered;
  // `drop` forgets them at a Discard. Hold() says that some are held.
  void OnHeld(std::function<void()> write, std::function<void()> drop) {
    write_held_ = std::move(write);
    drop_held_ = std::move(drop);
  }
  void Hold() { held_ = true; }
  // Every held write queued, then every queued write answered. On the first
  // failure the rest are dropped by the server, and this throws
  // soci::postgresql_soci_error (the server's message and SQLSTATE) or, for a
  // write that changed other than the rows it must, soci::soci_error: the
  // transaction is then to be rolled back.
  void Flush();
  // Held writes forgotten, answers read and dropped: the transaction is
  // being rolled back.
  void Discard();
  bool pending() const { return held_ || !waiting_.empty(); }
  // The step each write queued from now on belongs to (an import's line):
  // the first failed write's is kept (failed_step), so that a failure found
  // later is still reported where it was caused.
  void Step(std::string step) { step_ = std::move(step); }
  const std::string& step() const { return step_; }
  std::string TakeFailedStep() { return std::exchange(failed_step_, std::string()); }
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
    std::string step;  // of a write: see Step()
  };
  void Answer();  // every queued write answered; nothing held is queued
  // Reads every answer up to the sync; the first failure, if any, as
  // {message, sqlstate} (an empty sqlstate: a row count that did not match).
  std::optional<std::pair<std::string, std::string>> Drain(PGconn* c);

  std::function<PGconn*()> conn_;
  PGconn* prepared_on_ = nullptr;
  std::map<std::string, std::string> names_;  // text -> name of its prepared statement
  std::vector<Waiting> waiting_;
  long long counted_ = 0;
  bool held_ = false;
  std::function<void()> write_held_, drop_held_;
  std::string step_, failed_step_;
};

}  // namespace mentorflow::storage
