// The YAML reading layer: the file's size and UTF-8, the node budget
// (alias bombs), marks for diagnostics, and the shape checks (a map, a
// scalar, a name, a bool, an int, known keys) every other part goes through.
#include "engine/loader/loader.h"

namespace mentorflow::loading {

namespace {

Mark MarkAt(std::string_view s, size_t offset) {
  Mark m;
  LineColumnAt(s, offset, &m.line, &m.column);
  return m;
}

}  // namespace

bool IsIdentifier(std::string_view s) {
  if (s.empty() || s.size() > 64 || !(s[0] >= 'a' && s[0] <= 'z')) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

LoadResult Loader::Run(std::string_view text) {
  LoadResult r;
  if (text.size() > opts_.max_bytes) {
    Error(Mark{1, 1}, msg::FileTooLarge(text.size(), opts_.max_bytes));
  } else if (size_t bad = FirstInvalidUtf8(text); bad != std::string_view::npos) {
    Error(MarkAt(text, bad), msg::NotUtf8());
  } else {
    Parse(text);
  }
  r.errors = std::move(errors_);
  r.warnings = std::move(warnings_);
  for (auto* list : {&r.errors, &r.warnings})
    std::stable_sort(list->begin(), list->end(), [](const Diagnostic& a, const Diagnostic& b) {
      return a.mark.line != b.mark.line ? a.mark.line < b.mark.line : a.mark.column < b.mark.column;
    });
  if (r.errors.empty()) r.definition = std::make_shared<const Definition>(std::move(def_));
  return r;
}

void Loader::Untitled(Mark m, std::string message) {
  if (opts_.strict) Error(m, std::move(message));
  else warnings_.push_back({file_, m, std::move(message), true});
}

Mark Loader::M(const YAML::Node& n, Mark fallback) const {
  if (!n.IsDefined()) return fallback;
  auto m = n.Mark();
  if (m.line < 0) return fallback;
  return Mark{m.line + 1, m.column + 1};
}

bool Loader::Spend(const YAML::Node& n) {
  if (n.IsDefined()) last_mark_ = M(n, last_mark_);
  if (--budget_ >= 0) return true;
  if (!budget_reported_) Error(M(n), msg::TooManyNodes());
  budget_reported_ = true;
  return false;
}

bool Loader::IsMap(const YAML::Node& n, std::string_view what) {
  if (!n.IsDefined()) {
    Error(last_mark_, msg::Expected("a mapping", what));
    return false;
  }
  if (n.IsMap()) return true;
  Error(M(n), msg::Expected("a mapping", what));
  return false;
}

std::optional<std::string> Loader::Scalar(const YAML::Node& n, std::string_view what) {
  if (!n.IsDefined()) {
    Error(last_mark_, msg::Expected("a value", what));
    return std::nullopt;
  }
  if (!Spend(n)) return std::nullopt;
  if (n.IsScalar()) return n.Scalar();
  Error(M(n), msg::Expected("a single value", what));
  return std::nullopt;
}

std::optional<std::string> Loader::Name(const YAML::Node& n, std::string_view what) {
  auto s = Scalar(n, what);
  if (s && !IsIdentifier(*s)) {
    Error(M(n), msg::BadIdentifier(*s, what));
    return std::nullopt;
  }
  return s;
}

std::vector<std::pair<std::string, Mark>> Loader::Names(const YAML::Node& n, std::string_view what) {
  std::vector<std::pair<std::string, Mark>> out;
  if (n.IsDefined() && n.IsSequence()) {
    for (const auto& e : n)
      if (auto s = Scalar(e, what)) out.push_back({*s, M(e, M(n))});
  } else if (auto s = Scalar(n, what)) {
    out.push_back({*s, M(n)});
  }
  return out;
}

std::optional<bool> Loader::Bool(const YAML::Node& n, std::string_view what) {
  auto s = Scalar(n, what);
  if (!s) return std::nullopt;
  if (*s == "true" || *s == "yes") return true;
  if (*s == "false" || *s == "no") return false;
  Error(M(n), msg::NotBool(*s, what));
  return std::nullopt;
}

std::optional<std::int64_t> Loader::Int(const YAML::Node& n, std::string_view what) {
  auto s = Scalar(n, what);
  if (!s) return std::nullopt;
  FieldDef f;
  f.type = FieldType::kInt;
  std::string err;
  auto v = ParseValue(f, *s, &err);
  if (!v) {
    Error(M(n), msg::BadValue(what, err));
    return std::nullopt;
  }
  return std::get<std::int64_t>(*v);
}

void Loader::CheckKeys(const YAML::Node& n, const std::vector<std::string>& known, std::string_view where) {
  std::set<std::string> seen;
  for (auto it = n.begin(); it != n.end(); ++it) {
    if (!Spend(it->first)) return;
    if (!it->first.IsScalar()) {
      Error(M(it->first, M(n)), msg::Expected("a plain key", where));
      continue;
    }
    const std::string& k = it->first.Scalar();
    if (!seen.insert(k).second) Error(M(it->first), msg::DuplicateKey(k, where));
    if (std::find(known.begin(), known.end(), k) == known.end())
      Error(M(it->first), msg::UnknownKey(k, where, Closest(k, known)));
  }
}

Mark Loader::KeyMark(const YAML::Node& map, std::string_view key) {
  for (auto it = map.begin(); it != map.end(); ++it)
    if (it->first.IsScalar() && it->first.Scalar() == key) return M(it->first, M(map));
  return M(map);
}

void Loader::Parse(std::string_view text) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    Error(Mark{e.mark.line + 1, e.mark.column + 1}, msg::YamlSyntax(e.msg));
    return;
  }
  if (!root.IsDefined() || root.IsNull()) {
    Error(Mark{1, 1}, msg::EmptyFile());
    return;
  }
  if (!IsMap(root, "the file (a workflow)")) return;
  try {
    ParseRoot(root);
  } catch (const YAML::Exception& e) {
    // A shape the checks above did not foresee: still an error, never a crash.
    Error(last_mark_, msg::UnexpectedShape(e.msg));
  }
}

}  // namespace mentorflow::loading
