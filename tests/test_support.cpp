#include "tests/test_support.h"

#include <atomic>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace mentorflow::testing {

std::string SourcePath(const std::string& relative) { return std::string(MENTORFLOW_SOURCE_DIR) + "/" + relative; }

LoadOptions Options() {
  LoadOptions o;
  o.templates_dir = SourcePath("templates");
  return o;
}

const Catalog& Shipped() {
  static const Catalog c = Catalog::Load({SourcePath("workflows")}, Options());
  return c;
}

std::vector<std::string> FilesIn(const std::string& relative_dir, const std::string& ext) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(SourcePath(relative_dir)))
    if (e.path().extension() == ext) out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Run RunCli(const std::string& args, const std::string& cwd) {
  static std::atomic<int> n{0};
  std::string base = std::filesystem::temp_directory_path().string() + "/mf_cli_" + std::to_string(getpid()) + "_" +
                     std::to_string(n++);
  std::string cmd = (cwd.empty() ? std::string() : "cd '" + cwd + "' && ") + std::string(MENTORFLOW_CLI) + " " + args + " >" + base + ".out 2>" + base + ".err";
  int status = std::system(cmd.c_str());
  Run r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = ReadText(base + ".out");
  r.err = ReadText(base + ".err");
  std::filesystem::remove(base + ".out");
  std::filesystem::remove(base + ".err");
  return r;
}

}  // namespace mentorflow::testing
