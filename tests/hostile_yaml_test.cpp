// Untrusted YAML: every input gets a clear error or loads, bounded in time
// and memory; none crashes. (The fuzzer in tests/fuzz_loader.cpp explores
// further; these are the known-bad shapes.)
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "tests/test_support.h"

namespace mentorflow {
namespace {

LoadResult Load(const std::string& text) { return LoadWorkflowText(text, "hostile.yaml", testing::Options()); }

std::string FirstError(const LoadResult& r) { return r.errors.empty() ? "" : r.errors.front().ToString(); }

TEST(HostileYaml_Nesting, DeepFlowNestingIsAnErrorNotAStackOverflow) {
  std::string text = "workflow: x\nversion: 1\nroles: " + std::string(100000, '[') + std::string(100000, ']') + "\n";
  auto r = Load(text);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(FirstError(r).find("hostile.yaml:3:"), std::string::npos) << FirstError(r);
}

TEST(HostileYaml_Nesting, DeepConditionNestingIsRefused) {
  std::string cond;
  for (int i = 0; i < 200; ++i) cond += "{not: ";
  cond += "{present: a}" + std::string(200, '}');
  std::string text = "workflow: x\nversion: 1\nroles: [r]\nfields: {a: {type: string}}\nstates:\n  s: {initial: true}\n"
                     "  e: {final: true}\ntransitions:\n  - {on: go, from: s, to: e, by: r, when: " + cond + "}\n";
  auto r = Load(text);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(FirstError(r).find("nested deeper than 32"), std::string::npos) << FirstError(r);
}

TEST(HostileYaml_Aliases, BillionLaughsIsBoundedInTime) {
  // Each level refers to the previous one nine times: 9^9 leaves if expanded.
  std::string text = "a0: &a0 [x]\n";
  for (int i = 1; i <= 9; ++i) {
    text += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int k = 0; k < 9; ++k) text += (k ? ", *a" : "*a") + std::to_string(i - 1);
    text += "]\n";
  }
  std::string wf = "workflow: x\nversion: 1\nroles: *a9\nstates:\n  s: {initial: true}\n";
  auto start = std::chrono::steady_clock::now();
  auto r = Load(text + wf);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  ASSERT_FALSE(r.ok());
  EXPECT_LT(ms, 5000) << "aliases were expanded";
  // The bomb's own keys are unknown, and the roles are not names.
  EXPECT_NE(FirstError(r).find("unknown key 'a0'"), std::string::npos) << FirstError(r);
}

TEST(HostileYaml_Aliases, AliasBombInsideConditionsStopsAtTheNodeBudget) {
  std::string text = "workflow: x\nversion: 1\nroles: [r]\nfields: {a: {type: string}}\n"
                     "c0: &c0 {present: a}\n";
  for (int i = 1; i <= 8; ++i) {
    text += "c" + std::to_string(i) + ": &c" + std::to_string(i) + " {all: [";
    for (int k = 0; k < 10; ++k) text += (k ? ", *c" : "*c") + std::to_string(i - 1);
    text += "]}\n";
  }
  text += "states:\n  s: {initial: true}\n  e: {final: true}\ntransitions:\n  - {on: go, from: s, to: e, by: r, when: *c8}\n";
  auto start = std::chrono::steady_clock::now();
  auto r = Load(text);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  ASSERT_FALSE(r.ok());
  EXPECT_LT(ms, 5000);
  bool budget = false;
  for (const auto& e : r.errors) budget = budget || e.message.find("expands too many aliases") != std::string::npos;
  EXPECT_TRUE(budget) << FirstError(r);
}

TEST(HostileYaml_Size, HugeScalarIsRefusedBeforeParsing) {
  std::string text = "workflow: x\nversion: 1\ntitle: " + std::string(2 << 20, 'a') + "\n";
  auto r = Load(text);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].message.find("file is too large"), std::string::npos);
}

TEST(HostileYaml_Encoding, NonUtf8BytesArePinpointed) {
  std::string text = "workflow: x\nversion: 1\ntitle: \xd0\x9f\xd1\x80\xff\xfe\n";
  auto r = Load(text);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].mark.line, 3);
  EXPECT_EQ(r.errors[0].mark.column, 10);  // after "title: Пр"
  EXPECT_NE(r.errors[0].message.find("UTF-8"), std::string::npos);
}

TEST(HostileYaml_Empty, EmptyAndBlankFilesSayWhatIsExpected) {
  for (const char* text : {"", "\n\n", "# only a comment\n", "---\n"}) {
    auto r = Load(text);
    ASSERT_EQ(r.errors.size(), 1u) << text;
    EXPECT_NE(r.errors[0].message.find("file is empty"), std::string::npos) << r.errors[0].message;
  }
  auto scalar = Load("just a sentence\n");
  ASSERT_FALSE(scalar.ok());
  EXPECT_NE(FirstError(scalar).find("expected a mapping"), std::string::npos);
}

TEST(HostileYaml_WrongShapes, EveryKeyWithTheWrongShapeIsAnError) {
  auto r = Load("workflow: [x]\nversion: {a: 1}\nroles: {r: 1}\nfields: [a]\nstates: 7\ntransitions: {a: b}\n");
  ASSERT_FALSE(r.ok());
  EXPECT_GE(r.errors.size(), 5u);
}

TEST(HostileYaml_Directory, AThousandFilesAreAllChecked) {
  namespace fs = std::filesystem;
  fs::path dir = fs::path(::testing::TempDir()) / "mf_thousand";
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (int i = 0; i < 1000; ++i) {
    std::ofstream f(dir / ("w" + std::to_string(i) + ".yaml"));
    f << "workflow: w" << i << "\nversion: 1\nroles: [r]\nstates:\n  s: {initial: true}\n  e: {final: true}\n"
      << "transitions:\n  - {on: go, from: s, to: " << (i % 10 == 0 ? "nowhere" : "e") << ", by: r}\n";
  }
  auto start = std::chrono::steady_clock::now();
  auto c = Catalog::Load({dir.string()}, testing::Options());
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(c.files(), 1000u);
  EXPECT_EQ(c.definitions().size(), 900u);
  EXPECT_EQ(c.errors().size(), 100u);
  EXPECT_LT(ms, 30000);
  fs::remove_all(dir);
}

TEST(HostileYaml_Directory, ADirectoryGivenAsAFileIsAnError) {
  auto r = LoadWorkflowFile(testing::SourcePath("workflows"), testing::Options());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].message.find("is a directory"), std::string::npos);
}

TEST(HostileYaml_FuzzFindings, EveryCrashTheFuzzerFoundIsNowAnError) {
  // Inputs that once crashed the loader (tests/fixtures/fuzz/), kept as regressions.
  auto files = testing::FilesIn("tests/fixtures/fuzz");
  ASSERT_FALSE(files.empty());
  for (const auto& f : files) {
    LoadResult r;
    EXPECT_NO_THROW(r = LoadWorkflowFile(f, testing::Options())) << f;
    EXPECT_FALSE(r.errors.empty()) << f;
  }
}

TEST(HostileYaml_WrongShapes, MissingKeysInsideValuesAreErrorsNotExceptions) {
  const std::string base = "workflow: x\nversion: 1\nroles: [r]\nfields: {a: {type: string}, d: {type: date}}\n"
                           "states:\n  s: {initial: true}\n  e: {final: true}\ntransitions:\n";
  for (const char* t : {"  - {on: go, from: s, to: e, by: r, set: {a: {fieldd: a}}}\n",
                        "  - {on: go, from: s, to: e, by: r, when: {count: {where: {a: b}}, lt: 3}}\n",
                        "  - {on: go, from: s, to: e, by: r, when: {children: }}\n",
                        "  - {on: go, from: s, to: e, by: r, when: {every: a}}\n",
                        "  - {on: go, from: s, to: e, by: r, input: {a: {type: }}}\n"}) {
    LoadResult r;
    EXPECT_NO_THROW(r = Load(base + t)) << t;
    EXPECT_FALSE(r.ok()) << t;
  }
}

}  // namespace
}  // namespace mentorflow
