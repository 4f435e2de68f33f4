#include "engine/table.h"

#include <csv.h>

#include <algorithm>
#include <charconv>
#include <set>

#include "engine/text.h"

namespace mentorflow {

int DataTable::ColumnIndex(std::string_view column) const {
  auto it = std::find(columns.begin(), columns.end(), column);
  return it == columns.end() ? -1 : static_cast<int>(it - columns.begin());
}

const std::vector<std::string>* DataTable::Row(std::string_view key) const {
  auto it = index.find(key);
  return it == index.end() ? nullptr : &rows[it->second];
}

std::optional<std::string> DataTable::Cell(std::string_view key, std::string_view column) const {
  const auto* row = Row(key);
  int c = ColumnIndex(column);
  if (!row || c < 0) return std::nullopt;
  return (*row)[static_cast<size_t>(c)];
}

std::vector<std::string> DataTable::Keys() const {
  std::vector<std::string> keys;
  for (const auto& r : rows) keys.push_back(r[0]);
  return keys;
}

std::optional<std::int64_t> TableNumber(std::string_view text) {
  std::int64_t n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size() || n < 0) return std::nullopt;
  return n;
}

namespace {

bool IsName(std::string_view s) {
  if (s.empty() || s.size() > 64 || !(s[0] >= 'a' && s[0] <= 'z')) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

// What libcsv's callbacks see: the records so far, and where the field
// being read began (the byte libcsv was given when the previous one ended).
struct Reading {
  std::vector<std::vector<std::string>> records;
  std::vector<std::vector<size_t>> starts;
  std::vector<std::string> record;
  std::vector<size_t> record_starts;
  size_t offset = 0;       // the byte being fed
  size_t field_start = 0;  // where the current field began
  bool at_start = true;    // the next byte that is not a line break begins a field
};

void OnField(void* s, size_t len, void* data) {
  auto* r = static_cast<Reading*>(data);
  r->record.emplace_back(s ? static_cast<const char*>(s) : "", s ? len : 0);
  r->record_starts.push_back(r->field_start);
  r->at_start = true;
}

void OnRecord(int, void* data) {
  auto* r = static_cast<Reading*>(data);
  r->records.push_back(std::move(r->record));
  r->starts.push_back(std::move(r->record_starts));
  r->record.clear();
  r->record_starts.clear();
  r->at_start = true;
}

}  // namespace

std::optional<DataTable> ParseTable(const std::string& name, std::string_view text,
                                    std::vector<TableProblem>* problems) {
  auto mark = [&](size_t offset) {
    Mark m;
    LineColumnAt(text, offset, &m.line, &m.column);
    return m;
  };
  auto problem = [&](size_t offset, std::string message) { problems->push_back({mark(offset), std::move(message)}); };
  const size_t before = problems->size();
  if (!IsName(name))
    problems->push_back({Mark{1, 1}, "a table's file name must be NAME.csv with NAME of a-z, 0-9 and _ "
                                     "starting with a letter, not '" + EscapeControls(name) + "'"});
  if (size_t bad = FirstInvalidUtf8(text); bad != std::string_view::npos) {
    problem(bad, "not UTF-8 text (save the table as CSV in UTF-8)");
    return std::nullopt;
  }
  size_t skip = text.rfind("\xEF\xBB\xBF", 0) == 0 ? 3 : 0;  // a spreadsheet's byte order mark
  // The header decides the separator: semicolons when it has them and no comma.
  const std::string_view first = text.substr(skip, text.find('\n', skip) - skip);
  const bool semicolons = first.find(';') != std::string_view::npos && first.find(',') == std::string_view::npos;

  csv_parser p;
  csv_init(&p, CSV_STRICT | CSV_STRICT_FINI);
  if (semicolons) csv_set_delim(&p, ';');
  Reading r;
  bool parsed = true;
  for (r.offset = skip; r.offset < text.size(); ++r.offset) {
    const char c = text[r.offset];
    if (r.at_start && c != '\n' && c != '\r') {
      r.field_start = r.offset;
      r.at_start = false;
    }
    if (csv_parse(&p, text.data() + r.offset, 1, OnField, OnRecord, &r) != 1) {
      problem(r.offset, std::string("malformed CSV: ") + csv_strerror(csv_error(&p)) +
                            " (a quote inside a quoted field is written twice: \"\")");
      parsed = false;
      break;
    }
  }
  if (parsed && csv_fini(&p, OnField, OnRecord, &r) != 0) {
    problem(r.field_start, "malformed CSV: a quoted field is not closed");
    parsed = false;
  }
  csv_free(&p);
  if (!parsed) return std::nullopt;

  DataTable t;
  t.name = name;
  if (r.records.empty()) {
    problems->push_back({Mark{1, 1}, "the table is empty: its first line names the columns, the first being the key"});
    return std::nullopt;
  }
  std::set<std::string> seen_columns;
  for (size_t i = 0; i < r.records[0].size(); ++i) {
    const std::string& c = r.records[0][i];
    if (!IsName(c))
      problem(r.starts[0][i], "column '" + EscapeControls(c) +
                                  "': a column name is a-z, 0-9 and _ starting with a letter");
    else if (!seen_columns.insert(c).second)
      problem(r.starts[0][i], "column '" + c + "' is named twice");
    t.columns.push_back(c);
  }
  if (t.columns.size() < 2)
    problem(r.starts[0][0], "a table needs a key column and at least one more (a header such as "
                            "'municipality,title,register')");
  for (size_t k = 1; k < r.records.size(); ++k) {
    auto& rec = r.records[k];
    const auto& starts = r.starts[k];
    if (rec.size() != t.columns.size()) {
      problem(starts[0], "this row has " + std::to_string(rec.size()) + " fields, the header " +
                             std::to_string(t.columns.size()));
      continue;
    }
    if (rec[0].empty()) {
      problem(starts[0], "a row's key (column '" + t.columns[0] + "') cannot be empty");
      continue;
    }
    if (auto dup = t.index.find(rec[0]); dup != t.index.end()) {
      problem(starts[0], "key '" + EscapeControls(rec[0]) + "' is already the key of line " +
                             std::to_string(t.marks[dup->second][0].line));
      continue;
    }
    std::vector<Mark> marks;
    for (size_t s : starts) marks.push_back(mark(s));
    t.index.emplace(rec[0], t.rows.size());
    t.rows.push_back(std::move(rec));
    t.marks.push_back(std::move(marks));
  }
  if (problems->size() != before) return std::nullopt;
  return t;
}

}  // namespace mentorflow
