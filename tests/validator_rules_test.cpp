// One fixture per validator rule (tests/fixtures/invalid/*.yaml). Each file
// ends with "# expect: LINE:COL message" comments: the validator must report
// exactly those errors, in that order, at those positions.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <regex>
#include <sstream>

#include <unistd.h>

#include "engine/table.h"
#include "tests/test_support.h"

namespace mentorflow {
namespace {

struct Expected {
  int line, column;
  std::string message;
};

std::vector<Expected> ExpectationsOf(const std::string& text) {
  std::vector<Expected> out;
  std::regex re("^# expect: ([0-9]+):([0-9]+) (.*)$");
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_match(line, m, re)) out.push_back({std::stoi(m[1]), std::stoi(m[2]), m[3]});
  }
  return out;
}

class ValidatorRule : public ::testing::TestWithParam<std::string> {};

TEST_P(ValidatorRule, ReportsEveryErrorWithLineAndColumn) {
  const std::string path = GetParam();
  auto expected = ExpectationsOf(testing::ReadText(path));
  ASSERT_FALSE(expected.empty()) << path << " has no '# expect:' lines";
  auto r = LoadWorkflowFile(path, testing::Options());
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.definition, nullptr);
  ASSERT_EQ(r.errors.size(), expected.size()) << [&] {
    std::string all;
    for (const auto& e : r.errors) all += e.ToString() + "\n";
    return all;
  }();
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(r.errors[i].mark.line, expected[i].line) << r.errors[i].ToString();
    EXPECT_EQ(r.errors[i].mark.column, expected[i].column) << r.errors[i].ToString();
    EXPECT_EQ(r.errors[i].message.rfind(expected[i].message, 0), 0u)
        << "got:      " << r.errors[i].message << "\nexpected: " << expected[i].message;
    EXPECT_EQ(r.errors[i].file, path);
  }
}

std::string NameOf(const ::testing::TestParamInfo<std::string>& info) {
  std::string n = info.param.substr(info.param.find_last_of('/') + 1);
  n = n.substr(0, n.find('.'));
  return n;
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ValidatorRule, ::testing::ValuesIn(testing::FilesIn("tests/fixtures/invalid")),
                         NameOf);

// Rules that need the whole catalog (a table beside the workflows, a field
// of another workflow): each directory of tests/fixtures/catalogs holds
// workflows, their tables/ and expect.txt, one "FILE:LINE:COL message" line
// per error in the order reported, FILE relative to the directory.
class CatalogRule : public ::testing::TestWithParam<std::string> {};

TEST_P(CatalogRule, ReportsEveryErrorWithFileLineAndColumn) {
  const std::string dir = GetParam();
  std::vector<std::string> expected;
  std::istringstream in(testing::ReadText(dir + "/expect.txt"));
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] != '#') expected.push_back(dir + "/" + line);
  ASSERT_FALSE(expected.empty()) << dir << "/expect.txt lists no error";
  auto c = Catalog::Load({dir}, testing::Options());
  EXPECT_FALSE(c.ok());
  ASSERT_EQ(c.errors().size(), expected.size()) << [&] {
    std::string all;
    for (const auto& e : c.errors()) all += e.ToString() + "\n";
    return all;
  }();
  for (size_t i = 0; i < expected.size(); ++i) {
    const Diagnostic& e = c.errors()[i];
    const std::string got = e.file + ":" + std::to_string(e.mark.line) + ":" + std::to_string(e.mark.column) + " " +
                            e.message;
    EXPECT_EQ(got.rfind(expected[i], 0), 0u) << "got:      " << got << "\nexpected: " << expected[i];
  }
}

std::vector<std::string> CatalogFixtures() {
  std::vector<std::string> dirs;
  for (const auto& e : std::filesystem::directory_iterator(testing::SourcePath("tests/fixtures/catalogs")))
    if (e.is_directory()) dirs.push_back(e.path().string());
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}

INSTANTIATE_TEST_SUITE_P(Fixtures, CatalogRule, ::testing::ValuesIn(CatalogFixtures()), NameOf);

// A table as a spreadsheet saves it: a byte order mark, semicolons, CRLF
// line ends, a quoted field with the separator and a doubled quote in it.
TEST(DataTables, ReadAsASpreadsheetWritesThem) {
  std::vector<TableProblem> problems;
  auto t = ParseTable("quota", "\xEF\xBB\xBF" "area;title;register\r\nnorth;\"Север; \"\"центр\"\"\";4\r\n\r\nsouth;Юг;6\r\n",
                      &problems);
  ASSERT_TRUE(t) << problems.at(0).message;
  EXPECT_EQ(t->columns, (std::vector<std::string>{"area", "title", "register"}));
  EXPECT_EQ(t->Cell("north", "title"), std::optional<std::string>("Север; \"центр\""));
  EXPECT_EQ(t->Cell("south", "register"), std::optional<std::string>("6"));
  EXPECT_EQ(t->Cell("west", "register"), std::nullopt);
  EXPECT_EQ(t->marks[1][2].line, 4);  // the empty line is skipped, not miscounted
  EXPECT_EQ(t->marks[1][2].column, 10);  // in characters, not bytes
  EXPECT_EQ(TableNumber("12"), std::optional<std::int64_t>(12));
  EXPECT_EQ(TableNumber("-1"), std::nullopt);
  EXPECT_EQ(TableNumber("1.5"), std::nullopt);
  EXPECT_FALSE(ParseTable("quota", "area,n\nnorth,\xFF\n", &problems));
  EXPECT_EQ(problems.back().message.rfind("not UTF-8", 0), 0u);
  EXPECT_EQ(problems.back().mark.line, 2);
  EXPECT_EQ(problems.back().mark.column, 7);
}

TEST(ValidatorRule_Coverage, EveryRuleHasItsFixture) {
  // The rules the issue lists, by fixture name; a missing file is a missing test.
  for (const char* rule : {"yaml_syntax", "unknown_key", "unknown_state", "unknown_role", "unknown_field",
                           "unknown_document", "unknown_template", "unknown_event", "no_initial",
                           "several_initial", "unreachable", "no_way_out", "ambiguous", "enum_value",
                           "condition_type", "deadline_neither", "bad_duration", "several_errors", "empty",
                           "final_left", "deadline_event_not_system", "missing_keys"}) {
    EXPECT_FALSE(testing::ReadText(testing::SourcePath(std::string("tests/fixtures/invalid/") + rule + ".yaml")).empty())
        << rule;
  }
}

TEST(Validator_Valid, ExclusiveGuardsOnOneEventAreAccepted) {
  for (const auto& f : testing::FilesIn("tests/fixtures/valid")) {
    auto r = LoadWorkflowFile(f, testing::Options());
    EXPECT_TRUE(r.ok()) << (r.errors.empty() ? f : r.errors.front().ToString());
  }
}

TEST(Validator_CrossWorkflow, UnknownChildWorkflowAndStateAreReported) {
  const std::string text =
      "workflow: parent_wf\nversion: 1\nroles: [curator]\nstates:\n  open: {initial: true}\n  done: {final: true}\n"
      "transitions:\n"
      "  - {on: a, from: open, to: done, by: curator, when: {children: mentoring_pair, all_in: [finished]}}\n"
      "  - {on: b, from: open, to: done, by: curator, when: {children: no_such_flow, all_in: [x]}}\n";
  // The file goes when the test ends, pass or fail.
  struct File {
    std::string path = ::testing::TempDir() + "/mf_parent_wf_" + std::to_string(::getpid()) + ".yaml";
    ~File() { std::remove(path.c_str()); }
  } file;
  const std::string& path = file.path;
  FILE* f = fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr) << path;
  fputs(text.c_str(), f);
  fclose(f);
  auto c = Catalog::Load({path}, testing::Options(), &testing::Shipped());
  ASSERT_EQ(c.errors().size(), 2u);
  EXPECT_EQ(c.errors()[0].mark.line, 8);
  EXPECT_NE(c.errors()[0].message.find("unknown state of mentoring_pair 'finished'"), std::string::npos)
      << c.errors()[0].message;
  EXPECT_EQ(c.errors()[1].mark.line, 9);
  EXPECT_NE(c.errors()[1].message.find("unknown workflow 'no_such_flow'"), std::string::npos);
}

}  // namespace
}  // namespace mentorflow
