// Loading and validating workflow definitions from YAML.
//
// The loader never throws: every problem becomes a Diagnostic with the file,
// the 1-based line and column, and a message, and all problems of a file are
// reported, not just the first. A definition is returned only when a file has
// no errors. Input is untrusted: files over LoadOptions::max_bytes, bytes that
// are not UTF-8, deep nesting and alias bombs produce errors, not crashes.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/model.h"
#include "engine/table.h"

namespace mentorflow {

struct Diagnostic {
  std::string file;
  Mark mark;
  std::string message;
  bool warning = false;

  // "file:line:col: error: message" (or "warning:")
  std::string ToString() const;
};

struct LoadOptions {
  // Where document templates live; each template T must exist as T.mustache.
  // Empty: template files are not checked.
  std::string templates_dir;
  std::size_t max_bytes = 1 << 20;
  // Missing titles (a workflow, state, transition, field, enum value or
  // document people would see by its YAML name) are warnings; with
  // `strict` they are errors.
  bool strict = false;
};

struct LoadResult {
  std::shared_ptr<const Definition> definition;  // null when errors is not empty
  std::vector<Diagnostic> errors;
  std::vector<Diagnostic> warnings;
  bool ok() const { return errors.empty() && definition != nullptr; }
};

LoadResult LoadWorkflowText(std::string_view text, const std::string& file, const LoadOptions& opts);
LoadResult LoadWorkflowFile(const std::string& path, const LoadOptions& opts);

// Workflows loaded together, so that references between them ({children: W},
// {count: {workflow: W}}) are checked. A workflow name appears at most once.
class Catalog {
 public:
  const Definition* Find(std::string_view name) const;
  const std::vector<std::shared_ptr<const Definition>>& definitions() const { return defs_; }
  const std::vector<Diagnostic>& errors() const { return errors_; }
  const std::vector<Diagnostic>& warnings() const { return warnings_; }
  std::size_t files() const { return files_; }
  bool ok() const { return errors_.empty(); }
  // The data tables beside the workflows (DIR/tables/NAME.csv), in name order.
  const std::vector<DataTable>& tables() const { return tables_; }
  const DataTable* FindTable(std::string_view name) const;

  // Loads PATHs: files, or directories whose *.yaml / *.yml files are loaded
  // in name order, with the tables in their tables/ directory. Then checks
  // the references across workflows and to tables; one not found among
  // PATHs is looked up in `fallback` (e.g. the shipped workflows, when one
  // edited file is validated on its own).
  static Catalog Load(const std::vector<std::string>& paths, const LoadOptions& opts,
                      const Catalog* fallback = nullptr);

 private:
  std::vector<std::shared_ptr<const Definition>> defs_;
  std::vector<Diagnostic> errors_, warnings_;
  std::vector<DataTable> tables_;
  std::size_t files_ = 0;
};

}  // namespace mentorflow
