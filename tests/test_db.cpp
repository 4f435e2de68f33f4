#include "tests/test_db.h"

#include <gtest/gtest.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <unistd.h>

#include <cctype>
#include <filesystem>

#include "storage/store.h"

namespace mentorflow::testing {

std::string PostgresAdminUrl() {
  const char* v = std::getenv("MENTORFLOW_TEST_PG");
  return v ? v : "";
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

}  // namespace mentorflow::testing
