#include "tests/test_db.h"

#include <gtest/gtest.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "storage/store.h"

namespace mentorflow::testing {

std::string PostgresAdminUrl() {
  const char* v = std::getenv("MENTORFLOW_TEST_PG");
  return v ? v : "";
}

bool NeedClusterOrFail(const std::string& what) {
  const char* super = std::getenv("MENTORFLOW_TEST_PG_SUPER");
  if (!PostgresAdminUrl().empty() && super && *super) return true;
  const char* ci = std::getenv("CI");
  if (ci && std::string(ci) == "true")
    ADD_FAILURE() << "CI=true: " << what << " must run on PostgreSQL (scripts/with-postgres.sh)";
  return false;
}

TestDatabase::TestDatabase(const std::string& backend, const std::string& name) : backend_(backend) {
  name_ = "mf_";
  for (char c : name.substr(0, 40)) name_ += std::isalnum(static_cast<unsigned char>(c)) ? std::tolower(c) : '_';
  name_ += "_" + std::to_string(getpid());
  if (backend == "sqlite") {
    path_ = ::testing::TempDir() + "/" + name_ + ".db";
    for (const char* ext : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + ext);
    url_ = "sqlite:" + path_;
    return;
  }
  admin_ = PostgresAdminUrl();
  if (admin_.empty()) {
    why_not_ = "MENTORFLOW_TEST_PG is not set (make test starts a PostgreSQL)";
    return;
  }
  soci::session s(soci::postgresql, PostgresConnectionString(admin_));
  s << "DROP DATABASE IF EXISTS " + name_;
  s << "CREATE DATABASE " + name_;
  url_ = admin_.substr(0, admin_.rfind('/') + 1) + name_;
  // MENTORFLOW_TEST_PG_POOLED: mentorflow reaches it through PgBouncer in
  // transaction mode (scripts/with-postgres.sh starts one).
  if (const char* pooled = std::getenv("MENTORFLOW_TEST_PG_POOLED"); pooled && *pooled) {
    const char* bouncer = std::getenv("MENTORFLOW_TEST_PGBOUNCER");
    if (!bouncer || !*bouncer) {
      why_not_ = "MENTORFLOW_TEST_PG_POOLED is set but no PgBouncer runs (MENTORFLOW_TEST_PGBOUNCER)";
      url_.clear();
      return;
    }
    const auto scheme = admin_.find("://") + 3;
    const std::string user = admin_.substr(scheme, admin_.find('@', scheme) - scheme);
    url_ = "postgresql://" + user + "@" + bouncer + "/" + name_ + "?pool=transaction";
  }
}

TestDatabase::~TestDatabase() {
  try {
    if (backend_ == "sqlite") {
      for (const char* ext : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + ext);
    } else if (!url_.empty()) {
      soci::session s(soci::postgresql, PostgresConnectionString(admin_));
      s << "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)";
    }
  } catch (...) {
  }
}

namespace {

// A database reached through PgBouncer, reached directly: raw connections
// set the institution for the whole session, which a pool does not carry.
std::string Direct(const std::string& url) {
  if (url.find("pool=transaction") == std::string::npos) return url;
  const std::string admin = PostgresAdminUrl();
  const auto slash = url.rfind('/');
  return admin.substr(0, admin.rfind('/') + 1) + url.substr(slash + 1, url.find('?', slash) - slash - 1);
}

}  // namespace

soci::session OpenRaw(const std::string& url, const std::string& institution) {
  if (url.rfind("sqlite:", 0) == 0) return soci::session(soci::sqlite3, "db=" + url.substr(7, url.find('?') - 7));
  return soci::session(soci::postgresql, PostgresConnectionString(Direct(url), institution));  // within it from the start
}

void ExecSql(const std::string& url, const std::string& statement, const std::string& institution) {
  soci::session s = OpenRaw(url, institution);
  s << statement;
}

std::string DumpTables(const std::string& url, const std::string& institution) {
  soci::session s = OpenRaw(url, institution);
  std::string out;
  for (const char* t : {"schema_version", "institutions", "workflow_definitions", "people", "person_roles",
                        "person_data", "counters", "instances", "history", "timers", "reminders", "documents",
                        "settings", "person_history", "orders", "order_items", "consents", "destruction_acts",
                        "pair_facts", "accounts", "account_tokens", "sessions", "login_failures", "calendar_feeds",
                        "calendar", "data_tables", "person_attributes", "document_people", "regional_centres",
                        "annual_reports"}) {
    soci::rowset<soci::row> rs = (s.prepare << std::string("SELECT * FROM ") + t);
    out += std::string("## ") + t + "\n";
    std::vector<std::string> lines;
    for (const auto& row : rs) {
      std::string line;
      for (size_t i = 0; i < row.size(); ++i) {
        if (row.get_indicator(i) == soci::i_null) line += "NULL|";
        else if (row.get_properties(i).get_data_type() == soci::dt_string) line += row.get<std::string>(i) + "|";
        else if (row.get_properties(i).get_data_type() == soci::dt_integer) line += std::to_string(row.get<int>(i)) + "|";
        else if (row.get_properties(i).get_data_type() == soci::dt_long_long)
          line += std::to_string(row.get<long long>(i)) + "|";
        else line += "?|";
      }
      lines.push_back(line);
    }
    std::sort(lines.begin(), lines.end());
    for (const auto& l : lines) out += l + "\n";
  }
  return out;
}

}  // namespace mentorflow::testing
