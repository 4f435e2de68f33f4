// A database on one backend, set up through the command line as a user
// would: init in Europe/Saratov, a director, two curators with e-mail
// addresses. For the tests of tick, the outbox and delivery.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/test_db.h"
#include "tests/test_support.h"

namespace mentorflow::testing {

using CliRun = ::mentorflow::testing::Run;

class CliDatabase : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "postgresql" && PostgresAdminUrl().empty()) {
      if (std::getenv("CI") && std::string(std::getenv("CI")) == "true") FAIL() << "CI=true: PostgreSQL tests must run";
      GTEST_SKIP() << "MENTORFLOW_TEST_PG not set";
    }
    db_ = std::make_unique<TestDatabase>(GetParam(), ::testing::UnitTest::GetInstance()->current_test_info()->name());
    ASSERT_TRUE(db_->available()) << db_->why_not();
    ASSERT_EQ(Db("init --zone Europe/Saratov --institution 'Центр «Радуга»' --director d1 --name 'Ольга Карпова'",
                 "2026-09-01").code, 0);
    ASSERT_EQ(Db("person add c1 --as d1 --name 'Мария Петрова' --role curator --email c1@example.org", "2026-09-01").code, 0);
    ASSERT_EQ(Db("person add c2 --as d1 --name 'Иван Сидоров' --role curator --email c2@example.org", "2026-09-01").code, 0);
  }
  // Brings a programme to its pairs stage (the director d1, curator c1), as a
  // pair may be proposed only then. Returns the programme's id.
  std::string ProgrammeAtWork(const std::string& now = "2026-09-01") {
    auto r = Db("start programme --as d1 --set year=2026/2027", now);
    EXPECT_EQ(r.code, 0) << r.err;
    const std::string id = r.out.substr(0, r.out.find('\n'));
    for (const std::string& step :
         {"send " + id + " approve_regulation --as d1", "send " + id + " appoint_curator --set curator=c1 --as d1",
          "doc sign " + id + ":roadmap --as d1", "send " + id + " start_mentee_bank --as c1",
          "send " + id + " mentee_bank_ready --as c1", "send " + id + " mentor_bank_ready --as c1",
          "send " + id + " training_done --as c1"}) {
      auto s = Db(step, now);
      EXPECT_EQ(s.code, 0) << step << ": " << s.err;
    }
    return id;
  }
  CliRun Db(const std::string& args, const std::string& now) {
    return RunCli("--db '" + db_->url() + "' --now " + now + " " + args);
  }
  nlohmann::json Json(const std::string& args, const std::string& now) {
    auto r = Db(args + " --json", now);
    EXPECT_EQ(r.code, 0) << args << ": " << r.err << r.out;
    return nlohmann::json::parse(r.out.empty() ? "null" : r.out);
  }
  std::unique_ptr<TestDatabase> db_;
};

}  // namespace mentorflow::testing
