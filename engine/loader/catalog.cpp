// Files and the catalog: a workflow file read (bounded), loaded, and the
// catalog of every file in the given paths, with the references across
// workflows (a state another workflow names, a workflow a count looks at)
// checked once all are loaded.
#include "engine/loader/loader.h"

namespace mentorflow {

using loading::Loader;
namespace fs = std::filesystem;

std::string Diagnostic::ToString() const {
  std::ostringstream os;
  os << file << ':' << mark.line << ':' << mark.column << (warning ? ": warning: " : ": error: ") << message;
  return os.str();
}

namespace {

std::optional<std::string> ReadFile(const std::string& path, size_t max_bytes, std::string* error) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    *error = msg::IsDirectory();
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = msg::CannotRead();
    return std::nullopt;
  }
  std::string text;
  char buf[65536];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, static_cast<size_t>(in.gcount()));
    if (text.size() > max_bytes) break;  // Loader reports the size
  }
  return text;
}

struct Loaded {
  LoadResult result;
  std::vector<Loader::CrossRef> refs;
  std::vector<Loader::TableRef> table_refs;
};

Loaded LoadWithRefs(std::string_view text, const std::string& file, const LoadOptions& opts) {
  Loader l(file, opts);
  Loaded out;
  out.result = l.Run(text);
  out.refs = std::move(l.cross_refs_);
  out.table_refs = std::move(l.table_refs_);
  return out;
}

// DIR/tables/*.csv, in name order.
void LoadTables(const std::string& dir, const LoadOptions& opts, std::vector<DataTable>* tables,
                std::vector<Diagnostic>* errors) {
  std::error_code ec;
  const fs::path tdir = fs::path(dir) / "tables";
  if (!fs::is_directory(tdir, ec)) return;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(tdir, ec))
    if (e.is_regular_file() && e.path().extension() == ".csv") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    std::string err;
    auto text = ReadFile(f.string(), opts.max_bytes, &err);
    if (text && text->size() > opts.max_bytes) err = "the table is larger than " + std::to_string(opts.max_bytes) + " bytes";
    if (!text || !err.empty()) {
      errors->push_back({f.string(), Mark{1, 1}, err});
      continue;
    }
    std::vector<TableProblem> problems;
    auto t = ParseTable(f.stem().string(), *text, &problems);
    for (auto& p : problems) errors->push_back({f.string(), p.mark, std::move(p.message)});
    if (!t) continue;
    auto same = std::find_if(tables->begin(), tables->end(), [&](const DataTable& o) { return o.name == t->name; });
    if (same != tables->end()) {
      errors->push_back({f.string(), Mark{1, 1}, msg::DuplicateTable(t->name, same->source_path)});
      continue;
    }
    t->source = std::move(*text);
    t->source_path = f.string();
    tables->push_back(std::move(*t));
  }
}

}  // namespace

LoadResult LoadWorkflowText(std::string_view text, const std::string& file, const LoadOptions& opts) {
  return LoadWithRefs(text, file, opts).result;
}

LoadResult LoadWorkflowFile(const std::string& path, const LoadOptions& opts) {
  std::string err;
  auto text = ReadFile(path, opts.max_bytes, &err);
  if (!text) {
    LoadResult r;
    r.errors.push_back({path, Mark{1, 1}, err});
    return r;
  }
  auto r = LoadWorkflowText(*text, path, opts);
  if (r.definition) std::const_pointer_cast<Definition>(r.definition)->source_path = path;
  return r;
}

const DataTable* Catalog::FindTable(std::string_view name) const {
  for (const auto& t : tables_)
    if (t.name == name) return &t;
  return nullptr;
}

const Definition* Catalog::Find(std::string_view name) const {
  for (const auto& d : defs_)
    if (d->name == name) return d.get();
  return nullptr;
}

Catalog Catalog::Load(const std::vector<std::string>& paths, const LoadOptions& opts, const Catalog* fallback) {
  Catalog c;
  std::vector<std::string> files;
  for (const auto& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      std::vector<std::string> in_dir;
      for (const auto& e : fs::directory_iterator(p, ec)) {
        auto ext = e.path().extension().string();
        if (e.is_regular_file() && (ext == ".yaml" || ext == ".yml")) in_dir.push_back(e.path().string());
      }
      std::sort(in_dir.begin(), in_dir.end());
      files.insert(files.end(), in_dir.begin(), in_dir.end());
      LoadTables(p, opts, &c.tables_, &c.errors_);
    } else if (!fs::exists(p, ec)) {
      c.errors_.push_back({p, Mark{1, 1}, msg::NoSuchFile()});
    } else {
      files.push_back(p);
    }
  }
  struct Ref {
    std::string file;
    Loader::CrossRef ref;
  };
  std::vector<Ref> refs;
  struct TableRefIn {
    std::string file;
    Loader::TableRef ref;
  };
  std::vector<TableRefIn> table_refs;
  for (const auto& f : files) {
    ++c.files_;
    std::string err;
    auto text = ReadFile(f, opts.max_bytes, &err);
    if (!text) {
      c.errors_.push_back({f, Mark{1, 1}, err});
      continue;
    }
    auto loaded = LoadWithRefs(*text, f, opts);
    for (auto& e : loaded.result.errors) c.errors_.push_back(std::move(e));
    for (auto& w : loaded.result.warnings) c.warnings_.push_back(std::move(w));
    if (!loaded.result.definition) continue;
    std::const_pointer_cast<Definition>(loaded.result.definition)->source_path = f;
    if (const Definition* prev = c.Find(loaded.result.definition->name)) {
      c.errors_.push_back({f, Mark{1, 1}, msg::DuplicateWorkflow(prev->name, prev->source_path)});
      continue;
    }
    c.defs_.push_back(loaded.result.definition);
    for (auto& r : loaded.refs) refs.push_back({f, std::move(r)});
    for (auto& r : loaded.table_refs) table_refs.push_back({f, std::move(r)});
  }
  // An attribute is the people's, not a workflow's: declared in several
  // workflows, it must be declared alike.
  std::map<std::string, std::pair<const AttributeDef*, const Definition*>> attributes;
  for (const auto& d : c.defs_)
    for (const auto& a : d->attributes) {
      auto [it, fresh] = attributes.emplace(a.field.name, std::make_pair(&a, d.get()));
      if (fresh) continue;
      const AttributeDef& b = *it->second.first;
      if (b.field.type != a.field.type || b.field.values != a.field.values || b.share != a.share ||
          b.coverage != a.coverage)
        c.errors_.push_back({d->source_path, a.mark, msg::AttributeDiffers(a.field.name, it->second.second->source_path)});
    }
  for (const auto& [file, r] : table_refs) {
    const DataTable* t = c.FindTable(r.table);
    if (!t && fallback) t = fallback->FindTable(r.table);
    if (!t) {
      std::vector<std::string> names;
      for (const auto& o : c.tables_) names.push_back(o.name);
      c.errors_.push_back({file, r.table_mark, msg::UnknownTable(r.table, Closest(r.table, names))});
      continue;
    }
    int col = t->ColumnIndex(r.column);
    if (col < 0) {
      c.errors_.push_back({file, r.column_mark, msg::UnknownColumn(r.table, r.column, Closest(r.column, t->columns))});
      continue;
    }
    for (size_t i = 0; i < t->rows.size(); ++i) {
      const std::string& cell = t->rows[i][static_cast<size_t>(col)];
      if (!TableNumber(cell))
        c.errors_.push_back({t->source_path, t->marks[i][static_cast<size_t>(col)],
                             msg::CellNotNumber(r.column, t->rows[i][0], EscapeControls(cell), file, r.column_mark.line)});
    }
  }
  for (const auto& [file, r] : refs) {
    const Definition* d = c.Find(r.workflow);
    if (!d && fallback) d = fallback->Find(r.workflow);
    if (!d) {
      if (r.state.empty() && r.where.empty() && r.field.empty()) {
        std::vector<std::string> names;
        for (const auto& def : c.defs_) names.push_back(def->name);
        c.errors_.push_back({file, r.mark, msg::Unknown("workflow", r.workflow, Closest(r.workflow, names))});
      }
      continue;
    }
    if (!r.state.empty() && d->StateIndex(r.state) < 0) {
      std::vector<std::string> names;
      for (const auto& s : d->states) names.push_back(s.name);
      c.errors_.push_back({file, r.mark, msg::Unknown("state of " + d->name, r.state, Closest(r.state, names))});
    }
    if (!r.field.empty()) {  // {F: {field: G}}: F exists there, of G's type
      int fi = d->FieldIndex(r.field);
      if (fi < 0) {
        std::vector<std::string> names;
        for (const auto& f : d->fields) names.push_back(f.name);
        c.errors_.push_back({file, r.mark, msg::Unknown("field of " + d->name, r.field, Closest(r.field, names))});
      } else if (d->fields[fi].type != r.own_type ||
                 (r.own_type == FieldType::kEnum && d->fields[fi].values != r.own_values)) {
        c.errors_.push_back({file, r.mark, msg::WhereFieldTypes(r.field, FieldTypeName(d->fields[fi].type),
                                                                FieldTypeName(r.own_type))});
      }
    }
    if (!r.where.empty()) {
      auto eq = r.where.find('=');
      std::string field = r.where.substr(0, eq), value = r.where.substr(eq + 1);
      int fi = d->FieldIndex(field);
      if (fi < 0) {
        c.errors_.push_back({file, r.mark, msg::Unknown("field of " + d->name, field, "")});
      } else {
        std::string err;
        if (!ParseValue(d->fields[fi], value, &err))
          c.errors_.push_back({file, r.mark, msg::ConditionType(field, FieldTypeName(d->fields[fi].type), err)});
      }
    }
  }
  return c;
}

}  // namespace mentorflow
