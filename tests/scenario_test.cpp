// Runs every scenario file: tests/scenarios/*.yaml and the demo's school year.
#include "engine/scenario.h"

#include <gtest/gtest.h>

#include "tests/test_support.h"

namespace mentorflow {
namespace {

class Scenario : public ::testing::TestWithParam<std::string> {};

TEST_P(Scenario, EveryExpectationHolds) {
  auto report = RunScenarioFile(GetParam(), testing::Shipped());
  EXPECT_GT(report.steps, 0);
  for (const auto& f : report.failures) ADD_FAILURE() << f.ToString();
}

std::vector<std::string> AllScenarios() {
  auto files = testing::FilesIn("tests/scenarios");
  for (const auto& f : testing::FilesIn("demo")) files.push_back(f);
  return files;
}

INSTANTIATE_TEST_SUITE_P(Files, Scenario, ::testing::ValuesIn(AllScenarios()), [](const auto& info) {
  std::string n = info.param.substr(info.param.find_last_of('/') + 1);
  return n.substr(0, n.find('.'));
});

TEST(Scenario_Runner, AFailedExpectationIsReportedWithItsLine) {
  std::string path = ::testing::TempDir() + "/wrong.yaml";
  FILE* f = fopen(path.c_str(), "w");
  fputs("people:\n  c1: {roles: [curator]}\n  m1: {roles: [mentor]}\n  s1: {roles: [mentee]}\nsteps:\n"
        "  - {at: 2026-09-01, as: c1, start: mentoring_pair, name: p,\n"
        "     set: {mentor: m1, mentee: s1, form: speed, kind: volunteer_pupil}, expect: active}\n",
        f);
  fclose(f);
  auto report = RunScenarioFile(path, testing::Shipped());
  ASSERT_EQ(report.failures.size(), 1u);
  EXPECT_EQ(report.failures[0].mark.line, 6);
  EXPECT_NE(report.failures[0].message.find("expected state 'active', got 'proposed'"), std::string::npos);
}

}  // namespace
}  // namespace mentorflow
