// The command-line contract: exit codes, file:line:col errors, --json, and
// global options anywhere on the line.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/test_support.h"

namespace mentorflow {
namespace {

using testing::RunCli;
using testing::SourcePath;

TEST(Cli_Validate, ShippedWorkflowsAreValid) {
  auto r = RunCli("validate");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("6 file(s), 6 workflow(s): valid"), std::string::npos) << r.out;
}

TEST(Cli_Validate, ABadFileExitsOneWithFileLineColumn) {
  std::string f = SourcePath("tests/fixtures/invalid/unknown_state.yaml");
  auto r = RunCli("validate " + f);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find(f + ":8:34: error: unknown state 'don' (did you mean 'done'?)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(f + ":9:24: error: unknown state 'opne'"), std::string::npos) << r.err;
}

TEST(Cli_Validate, OneShippedFileAloneResolvesItsReferences) {
  auto r = RunCli("validate " + SourcePath("workflows/programme.yaml"));
  EXPECT_EQ(r.code, 0) << r.err;
}

TEST(Cli_Validate, JsonListsErrorsWithPositions) {
  auto r = RunCli("--json validate " + SourcePath("tests/fixtures/invalid/bad_duration.yaml"));
  EXPECT_EQ(r.code, 1);
  auto j = nlohmann::json::parse(r.out);
  EXPECT_FALSE(j["ok"].get<bool>());
  ASSERT_EQ(j["errors"].size(), 2u);
  EXPECT_EQ(j["errors"][0]["line"], 7);
  EXPECT_EQ(j["errors"][0]["column"], 23);
}

TEST(Cli_Validate, MissingPathIsAnError) {
  auto r = RunCli("validate /no/such/file.yaml");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("/no/such/file.yaml:1:1: error: no such file or directory"), std::string::npos) << r.err;
}

TEST(Cli_Graph, GlobalOptionsMayStandAnywhere) {
  auto a = RunCli("graph mentoring_pair --format dot --json");
  EXPECT_EQ(a.code, 0) << a.err;
  auto j = nlohmann::json::parse(a.out);
  EXPECT_EQ(j["workflow"], "mentoring_pair");
  EXPECT_EQ(j["graph"].get<std::string>().rfind("digraph", 0), 0u);
  auto b = RunCli("--workflows " + SourcePath("workflows") + " graph monitoring");
  EXPECT_EQ(b.code, 0);
  EXPECT_NE(b.out.find("stateDiagram-v2"), std::string::npos);
}

TEST(Cli_Graph, UnknownWorkflowExitsTwo) {
  auto r = RunCli("graph no_such_workflow");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("no workflow 'no_such_workflow'"), std::string::npos);
  auto j = RunCli("graph no_such_workflow --json");
  EXPECT_EQ(nlohmann::json::parse(j.out)["error"]["code"], 2);
}

TEST(Cli_Usage, BadUsageExitsOneAndEveryCommandHasHelp) {
  EXPECT_EQ(RunCli("").code, 1);
  EXPECT_EQ(RunCli("graph mentoring_pair --format png").code, 1);
  for (const char* cmd : {"validate", "graph", "demo"}) {
    auto r = RunCli(std::string(cmd) + " --help");
    EXPECT_EQ(r.code, 0) << cmd;
    EXPECT_NE(r.out.find("--json"), std::string::npos) << cmd;
  }
}

TEST(Cli_Demo, RunsTheSchoolYear) {
  std::string dir = ::testing::TempDir() + "/mf_demo";
  auto r = RunCli("demo --dir " + dir);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("0 unexpected outcome(s)"), std::string::npos);
  EXPECT_NE(r.out.find("reminder [overdue_escalation]"), std::string::npos);
  EXPECT_FALSE(testing::ReadText(dir + "/graphs/mentoring_pair.mmd").empty());
}

}  // namespace
}  // namespace mentorflow
