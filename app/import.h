// `mentorflow import FILE`: many starts, events and signatures from a JSON
// Lines file, applied in one transaction (Store::Batch): all of the file or
// nothing of it. See README, "import".
#pragma once

#include <functional>
#include <map>
#include <cstddef>
#include <string>

#include "storage/store.h"

namespace mentorflow::app {

// An import file is read whole, so its size is bounded; so is one line (the
// longest value a line can carry is engine/text.h's kMaxValueBytes).
constexpr std::size_t kMaxImportBytes = std::size_t{64} << 20;  // 64 MiB
constexpr std::size_t kMaxImportLineBytes = 64 * 1024;

// Reads FILE (or standard input for "-"): a regular file of at most
// kMaxImportBytes; a directory, a device or a pipe by name is refused.
Status ReadImportFile(const std::string& path, std::string* text);

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
  int started = 0, events = 0, signatures = 0, issued = 0;
  std::map<std::string, std::string> refs;  // "ref" -> the id it started, or the order it issued
  std::string where;                       // "FILE:LINE" of the failure
};

// `text` is the file's content, `name` how errors call it.
Status Import(Store& store, const std::string& name, const std::string& text, const ImportOptions& opts,
              ImportResult* result);

}  // namespace mentorflow::app
