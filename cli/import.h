// `mentorflow import FILE`: many starts, events and signatures from a JSON
// Lines file, applied in one transaction (Store::Batch): all of the file or
// nothing of it. See README, "import".
#pragma once

#include <functional>
#include <map>
#include <string>

#include "storage/store.h"

namespace mentorflow::cli {

struct ImportOptions {
  std::string actor;  // --as: who acts where a line names nobody
  Now now;            // --now: when, where a line gives no "at"
  std::string zone;
  bool dry_run = false;
  // Called after every `progress_every` lines applied, with their number.
  std::function<void(int)> progress;
  int progress_every = 10000;
};

struct ImportResult {
  int lines = 0;  // lines applied
  int started = 0, events = 0, signatures = 0;
  std::map<std::string, std::string> refs;  // "ref" -> the id it started
  std::string where;                       // "FILE:LINE" of the failure
};

// `text` is the file's content, `name` how errors call it.
Status Import(Store& store, const std::string& name, const std::string& text, const ImportOptions& opts,
              ImportResult* result);

}  // namespace mentorflow::cli
