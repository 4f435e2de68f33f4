// The README is the user's manual: its examples must work. Every ```yaml
// block that is a workflow must validate; every "$ mentorflow ..." line in a
// ```sh block runs from the source directory, and the lines printed under it
// in the README must appear in its output (exit 1 when they show errors).
#include <gtest/gtest.h>

#include <filesystem>

#include <sstream>
#include <unistd.h>

#include "tests/test_support.h"

namespace mentorflow {
namespace {

struct Block {
  std::string lang;
  std::string text;
  int line;
};

std::vector<Block> Blocks() {
  std::vector<Block> out;
  std::istringstream in(testing::ReadText(testing::SourcePath("README.md")));
  std::string line;
  int n = 0;
  Block* open = nullptr;
  while (std::getline(in, line)) {
    ++n;
    if (line.rfind("```", 0) == 0) {
      if (open) {
        open = nullptr;
      } else {
        out.push_back({line.substr(3), "", n});
        open = &out.back();
      }
    } else if (open) {
      open->text += line + "\n";
    }
  }
  return out;
}

TEST(Readme_Yaml, EveryWorkflowExampleValidates) {
  int checked = 0;
  for (const auto& b : Blocks()) {
    if (b.lang != "yaml" || b.text.rfind("workflow:", 0) != 0) continue;
    auto r = LoadWorkflowText(b.text, "README.md block at line " + std::to_string(b.line), testing::Options());
    for (const auto& e : r.errors) ADD_FAILURE() << e.ToString();
    ++checked;
  }
  EXPECT_GE(checked, 1);
}

TEST(Readme_Commands, EveryCommandRunsAsShown) {
  // The examples share one fresh database and one date, as a reader would.
  std::string db = ::testing::TempDir() + "/mf_readme_" + std::to_string(getpid()) + ".db";
  struct RemoveDb {  // the examples' database goes away with the test, pass or fail
    std::string path;
    ~RemoveDb() {
      for (const char* ext : {"", "-wal", "-shm"}) std::filesystem::remove(path + ext);
    }
  } remove_db{db};
  setenv("MENTORFLOW_DB", ("sqlite:" + db).c_str(), 1);
  setenv("MENTORFLOW_NOW", "2026-09-01", 1);
  // Run where the reader would, beside the project's directories, but in a
  // scratch directory of the test's own, so files the examples write
  // (`doc render --out`) land there and go away with it.
  struct Scratch {
    std::string dir = ::testing::TempDir() + "/mf_readme_dir_" + std::to_string(getpid());
    Scratch() {
      std::filesystem::create_directories(dir);
      for (const char* d : {"examples", "tests", "workflows", "templates", "demo"})
        std::filesystem::create_directory_symlink(testing::SourcePath(d), dir + "/" + d);
    }
    ~Scratch() { std::filesystem::remove_all(dir); }
  } scratch;
  int checked = 0;
  for (const auto& b : Blocks()) {
    if (b.lang != "sh") continue;
    std::istringstream in(b.text);
    std::string line, cmd;
    std::vector<std::string> expected;
    auto run = [&] {
      if (cmd.empty()) return;
      bool errors = false;
      for (const auto& e : expected) errors = errors || e.find(": error: ") != std::string::npos;
      int code = errors ? 1 : 0;
      if (auto hash = cmd.find("   # exit "); hash != std::string::npos) {
        code = std::stoi(cmd.substr(hash + 10));
        cmd = cmd.substr(0, hash);
      }
      auto r = testing::RunCli(cmd, scratch.dir);
      EXPECT_EQ(r.code, code) << "README line " << b.line << ": mentorflow " << cmd << "\n" << r.out << r.err;
      for (const auto& e : expected)
        EXPECT_NE((r.out + r.err).find(e), std::string::npos)
            << "README: mentorflow " << cmd << "\nmissing: " << e << "\ngot: " << r.out << r.err;
      ++checked;
      cmd.clear();
      expected.clear();
    };
    while (std::getline(in, line)) {
      if (line.rfind("$ mentorflow ", 0) == 0) {
        run();
        cmd = line.substr(13);
      } else if (!cmd.empty() && !line.empty()) {
        expected.push_back(line);
      }
    }
    run();
  }
  EXPECT_GE(checked, 4);
}

}  // namespace
}  // namespace mentorflow
