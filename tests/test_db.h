// A fresh database for one test, on SQLite (a temp file) or PostgreSQL (a new
// database in the cluster `make test` starts, MENTORFLOW_TEST_PG), removed
// when the test ends, pass or fail. With CI=true a PostgreSQL database that
// cannot be had is a failure, never a skip.
#pragma once

#include <soci/soci.h>

#include <string>

namespace mentorflow::testing {

class TestDatabase {
 public:
  // `backend` is "sqlite" or "postgresql"; `name` tells tests apart.
  TestDatabase(const std::string& backend, const std::string& name);
  ~TestDatabase();
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  bool available() const { return !url_.empty(); }
  const std::string& url() const { return url_; }
  const std::string& path() const { return path_; }  // SQLite only
  const std::string& backend() const { return backend_; }
  std::string why_not() const { return why_not_; }

 private:
  std::string backend_, name_, url_, path_, admin_, why_not_;
};

// Every row of every table of the database at `url`, sorted within each
// table: equal dumps mean "the database is the same". On PostgreSQL, the
// rows of `institution` (row security shows no other).
std::string DumpTables(const std::string& url, const std::string& institution = "default");
// Runs one SQL statement on the database at `url`, behind mentorflow's back
// (a hand edit, for the tests of what the store does with it), within
// `institution` on PostgreSQL.
void ExecSql(const std::string& url, const std::string& statement, const std::string& institution = "default");
// A raw connection to the database at `url` (sqlite:PATH or postgresql://),
// on PostgreSQL within `institution` for the whole session ("" for none).
soci::session OpenRaw(const std::string& url, const std::string& institution = "default");

// The PostgreSQL cluster's URL, or "" (and, with CI=true, a test failure).
std::string PostgresAdminUrl();

// Whether the cluster of scripts/with-postgres.sh is there, with its
// superuser's URL too (MENTORFLOW_TEST_PG_SUPER); when it is not and
// CI=true, a test failure naming `what` (CI never skips them).
bool NeedClusterOrFail(const std::string& what);

}  // namespace mentorflow::testing
