// The regional centre's roll-up: the region's signed annual reports summed,
// with small counts withheld, as JSON, CSV, XLSX and a document to sign.
#include "app/rollup.h"

#include <xlsxwriter.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "app/documents.h"
#include "app/stats.h"
#include "engine/calendar.h"
#include "engine/render.h"
#include "engine/text.h"

namespace mentorflow::app {

using nlohmann::json;

std::vector<std::vector<bool>> Suppress(const std::vector<std::vector<long long>>& cells,
                                        const std::vector<SuppressionLine>& lines, long long threshold) {
  std::vector<std::vector<bool>> hidden(cells.size());
  for (std::size_t r = 0; r < cells.size(); ++r) {
    hidden[r].resize(cells[r].size());
    for (std::size_t c = 0; c < cells[r].size(); ++c) hidden[r][c] = cells[r][c] < threshold;
  }
  for (bool changed = true; changed;) {
    changed = false;
    for (const auto& line : lines) {
      std::size_t withheld = 0;
      for (const auto& [r, c] : line) withheld += hidden[r][c] ? 1 : 0;
      if (withheld != 1) continue;
      // The smallest published part; the total only when every part is withheld.
      std::size_t pick = line.size();
      for (std::size_t i = 0; i + 1 < line.size(); ++i) {
        const auto& [r, c] = line[i];
        if (!hidden[r][c] && (pick == line.size() || cells[r][c] < cells[line[pick].first][line[pick].second])) pick = i;
      }
      if (pick == line.size()) pick = line.size() - 1;
      hidden[line[pick].first][line[pick].second] = true;
      changed = true;
    }
  }
  return hidden;
}

namespace {

// The counts of a report (AnnualFiguresJson) by column key.
std::map<std::string, long long> Counts(const json& f) {
  std::map<std::string, long long> out;
  for (const char* k : {"mentors", "mentees", "mentees_minors"})
    if (f.contains(k) && f[k].is_number_integer()) out[k] = f[k].get<long long>();
  for (const char* group : {"pairs", "monitoring"})
    if (f.contains(group) && f[group].is_object())
      for (const auto& [k, v] : f[group].items())
        if (v.is_number_integer()) out[std::string(group) + "." + k] = v.get<long long>();
  for (const char* group : {"by_form", "by_kind", "terminated_by_reason"})
    if (f.contains(group) && f[group].is_object())
      for (const auto& [k, v] : f[group].items())
        if (v.is_number_integer()) out[std::string(group) + "." + k] = v.get<long long>();
  return out;
}

// A breakdown and the figure it adds up to, within one row.
struct Breakdown {
  const char* prefix;  // "by_form."
  const char* total;   // "pairs.active"
};
constexpr Breakdown kBreakdowns[] = {{"by_form.", "pairs.active"},
                                     {"by_kind.", "pairs.active"},
                                     {"terminated_by_reason.", "pairs.terminated"},
                                     {"monitoring.on_time", "monitoring.due"},
                                     {"monitoring.late", "monitoring.due"},
                                     {"monitoring.missed", "monitoring.due"}};

std::string Yaml(const YAML::Node& n, const char* key, const std::string& fallback) {
  return n && n[key] && n[key].IsScalar() ? n[key].as<std::string>() : fallback;
}

}  // namespace

Result<Rollup> RegionRollup(Context& ctx, int year) {
  if (Status s = NeedActor(ctx); !s.ok()) return s;
  Store::RegionView view;
  if (Status s = ctx.store.ReadRegion(year, ctx.actor, &view); !s.ok()) return s;
  YAML::Node titles;
  if (Status s = LoadFigureTitles(ctx.templates, &titles); !s.ok()) return s;
  const YAML::Node annual = titles["annual"];
  Rollup r;
  r.year = year;
  r.today = FormatDate(ctx.now.today);
  r.titles = json::object();
  if (titles["region"] && titles["region"].IsMap())
    for (const auto& kv : titles["region"]) r.titles[kv.first.as<std::string>()] = kv.second.as<std::string>();

  // The columns: the fixed figures in the order of `stats annual`, each
  // breakdown's values as the reports name them.
  std::map<std::string, std::map<std::string, long long>> counts;  // institution -> key -> n
  std::map<std::string, std::string> value_titles;                  // "by_form.virtual" -> its title
  std::map<std::string, std::set<std::string>> group_values;
  for (const auto& rep : view.reports) {
    counts[rep.institution] = Counts(rep.figures);
    for (const auto& [key, n] : counts[rep.institution]) {
      const auto dot = key.find('.');
      const std::string group = key.substr(0, dot);
      if (group == "by_form" || group == "by_kind" || group == "terminated_by_reason")
        group_values[group].insert(key.substr(dot + 1));
    }
    if (rep.figures.contains("titles") && rep.figures["titles"].is_object())
      for (const auto& [group, values] : rep.figures["titles"].items())
        if (values.is_object())
          for (const auto& [value, title] : values.items())
            if (title.is_string()) value_titles.emplace(group + "." + value, title.get<std::string>());
  }
  auto title = [&](const std::string& key) { return Yaml(annual, key.c_str(), key); };
  auto add = [&](const std::string& key) { r.columns.push_back({key, title(key)}); };
  auto values = [&](const std::string& group) {
    for (const auto& v : group_values[group]) {
      const std::string key = group + "." + v;
      auto t = value_titles.find(key);
      r.columns.push_back({key, FillTitle(title(group), t == value_titles.end() ? v : t->second)});
    }
  };
  for (const char* k : {"mentors", "mentees", "mentees_minors", "pairs.formed", "pairs.active"}) add(k);
  values("by_form");
  values("by_kind");
  add("pairs.completed");
  add("pairs.terminated");
  values("terminated_by_reason");
  for (const char* k : {"pairs.extended", "monitoring.due", "monitoring.on_time", "monitoring.late", "monitoring.missed"})
    add(k);

  std::map<std::string, const Store::RegionReport*> by_id;
  for (const auto& rep : view.reports) by_id[rep.institution] = &rep;
  const bool past_due = FormatDate(ctx.now.today) > std::to_string(year) + "-12-30";
  std::vector<std::vector<long long>> cells;
  std::vector<std::size_t> rows_of;  // cells' row -> index in r.institutions
  for (const auto& inst : view.institutions) {
    Rollup::Line line{inst.id, inst.name};
    auto rep = by_id.find(inst.id);
    if (rep != by_id.end()) {
      line.submitted = true;
      line.signed_on = LocalDay(rep->second->signed_at, ctx.zone);
      for (const auto& c : r.columns) {
        auto it = counts[inst.id].find(c.key);
        line.values.push_back(it == counts[inst.id].end() ? 0 : it->second);
      }
      rows_of.push_back(r.institutions.size());
      cells.push_back(line.values);
      ++r.submitted;
    } else {
      line.late = past_due;
      ++(past_due ? r.late : r.pending);
    }
    r.institutions.push_back(std::move(line));
  }
  r.total.values.assign(r.columns.size(), 0);
  for (const auto& row : cells)
    for (std::size_t c = 0; c < row.size(); ++c) r.total.values[c] += row[c];
  r.total.submitted = true;
  cells.push_back(r.total.values);

  // The lines a withheld cell could be recovered from.
  std::vector<SuppressionLine> lines;
  const std::size_t total_row = cells.size() - 1;
  if (total_row > 0)
    for (std::size_t c = 0; c < r.columns.size(); ++c) {
      SuppressionLine line;
      for (std::size_t row = 0; row < total_row; ++row) line.push_back({row, c});
      line.push_back({total_row, c});
      lines.push_back(std::move(line));
    }
  auto column = [&](const std::string& key) {
    for (std::size_t c = 0; c < r.columns.size(); ++c)
      if (r.columns[c].key == key) return c;
    return r.columns.size();
  };
  for (std::size_t row = 0; row < cells.size(); ++row) {
    std::map<std::string, SuppressionLine> parts;  // total key -> parts (a breakdown per prefix)
    for (const auto& b : kBreakdowns) {
      const std::size_t t = column(b.total);
      if (t == r.columns.size()) continue;
      const std::string group = std::string(b.prefix).back() == '.' ? b.prefix : "monitoring";
      auto& line = parts[group + "|" + b.total];
      for (std::size_t c = 0; c < r.columns.size(); ++c)
        if (r.columns[c].key.rfind(b.prefix, 0) == 0) line.push_back({row, c});
    }
    for (auto& [key, line] : parts) {
      const std::size_t t = column(key.substr(key.find('|') + 1));
      long long sum = 0;
      for (const auto& [rr, c] : line) sum += cells[rr][c];
      // Only a breakdown that adds up to its figure lets one recover a part.
      if (line.empty() || sum != cells[row][t]) continue;
      line.push_back({row, t});
      lines.push_back(line);
    }
  }
  const auto hidden = Suppress(cells, lines);
  for (std::size_t i = 0; i + 1 < cells.size(); ++i) r.institutions[rows_of[i]].hidden = hidden[i];
  r.total.hidden = hidden.back();
  return r;
}

namespace {

std::string Word(const Rollup& r, const char* key) {
  return r.titles.contains(key) && r.titles[key].is_string() ? r.titles[key].get<std::string>() : key;
}

}  // namespace

std::string Cell(const Rollup& r, const Rollup::Line& line, std::size_t c) {
  if (!line.submitted) return "";
  return line.hidden[c] ? Word(r, "suppressed") : std::to_string(line.values[c]);
}

std::string StatusText(const Rollup& r, const Rollup::Line& line) {
  if (line.submitted) return FillTitle(Word(r, "submitted"), RussianDate(line.signed_on));
  return Word(r, line.late ? "late" : "pending");
}

namespace {

json DocumentContext(const Context& ctx, const Rollup& r) {
  std::string centre;
  ctx.store.GetSetting("institution", &centre);
  json j = {{"year", r.year}, {"today", RussianDate(r.today)}, {"centre", centre},
            {"submitted", r.submitted}, {"late", r.late}, {"pending", r.pending},
            {"count", r.institutions.size()}, {"rows", json::array()}, {"sent", json::array()},
            {"missing", json::array()}};
  for (std::size_t c = 0; c < r.columns.size(); ++c)
    j["rows"].push_back({{"title", r.columns[c].title}, {"value", Cell(r, r.total, c)}});
  for (const auto& line : r.institutions) {
    json item = {{"id", line.id}, {"name", line.name.empty() ? line.id : line.name}, {"status", StatusText(r, line)}};
    (line.submitted ? j["sent"] : j["missing"]).push_back(std::move(item));
  }
  j["has_missing"] = !j["missing"].empty();
  return j;
}

Status WriteXlsx(const Rollup& r, const std::string& path) {
  lxw_workbook* wb = workbook_new(path.c_str());
  if (!wb) return Status::Internal("cannot create the workbook " + path);
  lxw_worksheet* ws = workbook_add_worksheet(wb, Word(r, "sheet").c_str());
  lxw_format* head = workbook_add_format(wb);
  format_set_bold(head);
  format_set_text_wrap(head);
  format_set_align(head, LXW_ALIGN_VERTICAL_TOP);
  lxw_format* total = workbook_add_format(wb);
  format_set_bold(total);
  worksheet_write_string(ws, 0, 0, Word(r, "id").c_str(), head);
  worksheet_write_string(ws, 0, 1, Word(r, "institution").c_str(), head);
  worksheet_write_string(ws, 0, 2, Word(r, "status").c_str(), head);
  for (std::size_t c = 0; c < r.columns.size(); ++c)
    worksheet_write_string(ws, 0, static_cast<lxw_col_t>(c + 3), r.columns[c].title.c_str(), head);
  worksheet_set_column(ws, 0, 0, 14, nullptr);
  worksheet_set_column(ws, 1, 2, 36, nullptr);
  worksheet_set_column(ws, 3, static_cast<lxw_col_t>(r.columns.size() + 2), 16, nullptr);
  worksheet_freeze_panes(ws, 1, 3);
  auto write = [&](lxw_row_t row, const Rollup::Line& line, const std::string& id, const std::string& name,
                   const std::string& status, lxw_format* f) {
    worksheet_write_string(ws, row, 0, id.c_str(), f);
    worksheet_write_string(ws, row, 1, name.c_str(), f);
    worksheet_write_string(ws, row, 2, status.c_str(), f);
    if (!line.submitted) return;
    for (std::size_t c = 0; c < r.columns.size(); ++c) {
      const auto col = static_cast<lxw_col_t>(c + 3);
      if (line.hidden[c]) worksheet_write_string(ws, row, col, Word(r, "suppressed").c_str(), f);
      else worksheet_write_number(ws, row, col, static_cast<double>(line.values[c]), f);
    }
  };
  lxw_row_t row = 1;
  for (const auto& line : r.institutions) write(row++, line, line.id, line.name, StatusText(r, line), nullptr);
  write(row, r.total, "", Word(r, "total"), "", total);
  if (lxw_error e = workbook_close(wb); e != LXW_NO_ERROR)
    return Status::Internal("cannot write the workbook " + path + ": " + lxw_strerror(e));
  return Status::Ok();
}

}  // namespace

Status RollupFile(const Context& ctx, const Rollup& r, const std::string& format, const std::string& path,
                  std::string* out) {
  if (format == "csv") {
    std::string csv = CsvField(Word(r, "id")) + "," + CsvField(Word(r, "institution")) + "," +
                      CsvField(Word(r, "status"));
    for (const auto& c : r.columns) csv += "," + CsvField(c.title);
    csv += "\r\n";
    auto row = [&](const Rollup::Line& line, const std::string& id, const std::string& name, const std::string& status) {
      csv += CsvField(id) + "," + CsvField(name) + "," + CsvField(status);
      for (std::size_t c = 0; c < r.columns.size(); ++c) csv += "," + CsvField(Cell(r, line, c));
      csv += "\r\n";
    };
    for (const auto& line : r.institutions) row(line, line.id, line.name, StatusText(r, line));
    row(r.total, "", Word(r, "total"), "");
    *out = std::move(csv);
    return Status::Ok();
  }
  if (format == "xlsx") {
    if (path.empty()) return Status::BadInput("--format xlsx writes a file: give --out FILE.xlsx");
    return WritePrivateFile(path, [&](const std::string& tmp) { return WriteXlsx(r, tmp); });
  }
  if (format != "html" && format != "odt" && format != "pdf")
    return Status::BadInput("--format: expected json, csv, xlsx, html, odt or pdf, got '" + format + "'");
  if (format != "html" && path.empty()) return Status::BadInput("--format " + format + " writes a file: give --out FILE");
  PrintableDocument doc;
  const json j = DocumentContext(ctx, r);
  doc.title = FillTitle(Word(r, "document"), std::to_string(r.year));
  if (Status s = RenderDocumentTemplate(ctx.templates, "region_rollup", j, &doc.body); !s.ok()) return s;
  if (Status s = RenderDocumentTemplate(ctx.templates, "region_rollup_signatures", j, &doc.signatures); !s.ok())
    return s;
  if (format == "html") return HtmlPage(doc, out);
  if (format == "odt") return WritePrivateFile(path, [&](const std::string& tmp) { return WriteOdt(doc, tmp); });
  return WritePrivateFile(path, [&](const std::string& tmp) {
    const std::string odt = tmp + ".odt";
    Status s = WriteOdt(doc, odt);
    if (s.ok()) s = ConvertToPdf(odt, tmp);
    std::remove(odt.c_str());
    return s;
  });
}

Result<RollupDownload> RollupBytes(const Context& ctx, const Rollup& r, const std::string& format) {
  static const std::map<std::string, std::string> kTypes = {
      {"csv", "text/csv; charset=utf-8"},
      {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
      {"html", "text/html; charset=utf-8"},
      {"odt", "application/vnd.oasis.opendocument.text"},
      {"pdf", "application/pdf"}};
  auto type = kTypes.find(format);
  if (type == kTypes.end()) return Status::BadInput("format: csv, xlsx, html, odt or pdf, got '" + format + "'");
  RollupDownload out{"", type->second, "region-" + std::to_string(r.year) + "." + format};
  if (format == "csv" || format == "html") {
    if (Status s = RollupFile(ctx, r, format, "", &out.bytes); !s.ok()) return s;
    return out;
  }
  char dir_template[] = "/tmp/mentorflow-rollup-XXXXXX";
  if (!::mkdtemp(dir_template)) return Status::Internal("cannot make a temporary directory");
  const std::string dir = dir_template, path = dir + "/" + out.filename;
  std::string unused;
  Status st = RollupFile(ctx, r, format, path, &unused);
  if (st.ok()) {
    std::ifstream in(path, std::ios::binary);
    if (!in.is_open()) st = Status::Internal("cannot read back " + out.filename);
    std::stringstream ss;
    ss << in.rdbuf();
    out.bytes = ss.str();
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  if (!st.ok()) return st;
  return out;
}

}  // namespace mentorflow::app
