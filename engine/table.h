// Data tables: what a programme reads from a file its curator edits rather
// than from YAML (a quota per municipality, say).
//
// A table is a CSV file `tables/NAME.csv` beside the workflows: a header row
// of column names, then one row per key; the first column is the key. Commas
// or semicolons separate the fields (a spreadsheet saved in a Russian locale
// writes semicolons); fields may be quoted. `init` stores each table in the
// database, so instances are evaluated against the table as stored, never
// against a file that may have changed since. Parsing is libcsv's.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/model.h"

namespace mentorflow {

struct DataTable {
  std::string name;                           // the file's stem: [a-z][a-z0-9_]*
  std::vector<std::string> columns;           // columns[0] is the key
  std::vector<std::vector<std::string>> rows; // in file order, each with columns.size() cells
  std::vector<std::vector<Mark>> marks;       // where each cell begins
  std::map<std::string, size_t, std::less<>> index;  // key -> row
  std::string source;       // the file's text, as `init` stores it
  std::string source_path;  // where it was read from ("" when from the database)

  int ColumnIndex(std::string_view column) const;
  // The row whose key is `key`, or nullptr.
  const std::vector<std::string>* Row(std::string_view key) const;
  // The cell of `column` in the row `key`, or nullopt.
  std::optional<std::string> Cell(std::string_view key, std::string_view column) const;
  std::vector<std::string> Keys() const;
};

struct TableProblem {
  Mark mark;
  std::string message;
};

// Parses a table's text. `name` must be an identifier. Every problem found
// is returned (a short header, a ragged row, a duplicate or empty key, bytes
// that are not UTF-8, an unterminated quote), each with the line and column
// where it is; the table is returned only when there are none.
std::optional<DataTable> ParseTable(const std::string& name, std::string_view text, std::vector<TableProblem>* problems);

// Whether `text` is a whole number from 0 (how a bound's cell must read).
std::optional<std::int64_t> TableNumber(std::string_view text);

}  // namespace mentorflow
