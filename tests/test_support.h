// Shared helpers for the tests: paths into the source tree and the shipped
// workflows loaded once.
#pragma once

#include <string>
#include <vector>

#include "engine/loader.h"

namespace mentorflow::testing {

std::string SourcePath(const std::string& relative);
LoadOptions Options();  // templates = the shipped templates
const Catalog& Shipped();
std::vector<std::string> FilesIn(const std::string& relative_dir, const std::string& ext = ".yaml");
std::string ReadText(const std::string& path);

// Runs a command line; returns its exit code and captures stdout and stderr.
struct Run {
  int code = -1;
  std::string out;
  std::string err;
};
Run RunCli(const std::string& args, const std::string& cwd = "");

}  // namespace mentorflow::testing
