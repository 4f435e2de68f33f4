#include "engine/loader.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "engine/messages.h"

namespace mentorflow {

std::string Diagnostic::ToString() const {
  std::ostringstream os;
  os << file << ':' << mark.line << ':' << mark.column << (warning ? ": warning: " : ": error: ") << message;
  return os.str();
}

namespace {

namespace fs = std::filesystem;

constexpr int kMaxConditionDepth = 32;
constexpr long kNodeBudget = 200000;

const std::vector<std::string> kTopKeys = {"workflow", "version", "title", "description", "roles",
                                           "started_by", "start_when", "fields", "distinct", "documents", "states",
                                           "transitions"};
const std::vector<std::string> kFieldKeys = {"type", "title", "role", "required", "default",
                                             "min", "max", "values", "item", "guardian_of", "from_parent", "remind"};
const std::vector<std::string> kDocumentKeys = {"template", "signers", "title", "collects", "issued_by", "on_signed",
                                                "statistics"};
const std::vector<std::string> kStateKeys = {"initial", "final", "title", "description", "on_enter",
                                             "deadline"};
const std::vector<std::string> kActionKeys = {"issue", "notify", "template", "after"};
const std::vector<std::string> kDeadlineKeys = {"after", "at", "event", "remind", "notify", "template", "period"};
const std::vector<std::string> kTransitionKeys = {"on", "from", "to", "by", "when", "input",
                                                  "set", "append", "update", "item", "title"};
const std::vector<std::string> kTypes = {"string", "int", "bool", "date", "enum", "person", "list"};
const std::vector<std::string> kCompareOps = {"eq", "ne", "lt", "le", "gt", "ge", "in"};

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// The closest candidate, if close enough to be a likely typo.
std::string Closest(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = std::max<size_t>(2, word.size() / 3) + 1;
  for (const auto& c : candidates) {
    size_t d = EditDistance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

bool IsIdentifier(std::string_view s) {
  if (s.empty() || s.size() > 64 || !(s[0] >= 'a' && s[0] <= 'z')) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

// Position of the first byte that is not valid UTF-8, or npos.
size_t FirstInvalidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size()) return i;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return i;
    if (n == 2 && c < 0xC2) return i;  // overlong
    i += n;
  }
  return std::string_view::npos;
}

Mark MarkAt(std::string_view s, size_t offset) {
  Mark m{1, 1};
  for (size_t i = 0; i < offset && i < s.size(); ++i) {
    if (s[i] == '\n') {
      ++m.line;
      m.column = 1;
    } else if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      ++m.column;
    }
  }
  return m;
}

class Loader {
 public:
  Loader(std::string file, const LoadOptions& opts) : file_(std::move(file)), opts_(opts) {}

  LoadResult Run(std::string_view text) {
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

 private:
  // ---- diagnostics -------------------------------------------------------
  void Error(Mark m, std::string message) { errors_.push_back({file_, m, std::move(message)}); }
  // What people would see in English: a warning, or with --strict an error.
  void Untitled(Mark m, std::string message) {
    if (opts_.strict) Error(m, std::move(message));
    else warnings_.push_back({file_, m, std::move(message), true});
  }
  Mark M(const YAML::Node& n, Mark fallback = {}) const {
    if (!n.IsDefined()) return fallback;
    auto m = n.Mark();
    if (m.line < 0) return fallback;
    return Mark{m.line + 1, m.column + 1};
  }
  // Counts a visited node against the budget (alias bombs), and remembers
  // where we are for errors about values that are missing altogether.
  bool Spend(const YAML::Node& n) {
    if (n.IsDefined()) last_mark_ = M(n, last_mark_);
    if (--budget_ >= 0) return true;
    if (!budget_reported_) Error(M(n), msg::TooManyNodes());
    budget_reported_ = true;
    return false;
  }

  // ---- shapes ------------------------------------------------------------
  // yaml-cpp throws when a missing key's node is asked its type: every shape
  // check goes through these helpers, which test IsDefined() first.
  bool IsMap(const YAML::Node& n, std::string_view what) {
    if (!n.IsDefined()) {
      Error(last_mark_, msg::Expected("a mapping", what));
      return false;
    }
    if (n.IsMap()) return true;
    Error(M(n), msg::Expected("a mapping", what));
    return false;
  }
  std::optional<std::string> Scalar(const YAML::Node& n, std::string_view what) {
    if (!n.IsDefined()) {
      Error(last_mark_, msg::Expected("a value", what));
      return std::nullopt;
    }
    if (!Spend(n)) return std::nullopt;
    if (n.IsScalar()) return n.Scalar();
    Error(M(n), msg::Expected("a single value", what));
    return std::nullopt;
  }
  std::optional<std::string> Name(const YAML::Node& n, std::string_view what) {
    auto s = Scalar(n, what);
    if (s && !IsIdentifier(*s)) {
      Error(M(n), msg::BadIdentifier(*s, what));
      return std::nullopt;
    }
    return s;
  }
  // A scalar or a sequence of scalars.
  std::vector<std::pair<std::string, Mark>> Names(const YAML::Node& n, std::string_view what) {
    std::vector<std::pair<std::string, Mark>> out;
    if (n.IsDefined() && n.IsSequence()) {
      for (const auto& e : n)
        if (auto s = Scalar(e, what)) out.push_back({*s, M(e, M(n))});
    } else if (auto s = Scalar(n, what)) {
      out.push_back({*s, M(n)});
    }
    return out;
  }
  std::optional<bool> Bool(const YAML::Node& n, std::string_view what) {
    auto s = Scalar(n, what);
    if (!s) return std::nullopt;
    if (*s == "true" || *s == "yes") return true;
    if (*s == "false" || *s == "no") return false;
    Error(M(n), msg::NotBool(*s, what));
    return std::nullopt;
  }
  std::optional<std::int64_t> Int(const YAML::Node& n, std::string_view what) {
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
  // Reports keys not in `known` (with a suggestion) and duplicated keys.
  void CheckKeys(const YAML::Node& n, const std::vector<std::string>& known, std::string_view where) {
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
  Mark KeyMark(const YAML::Node& map, std::string_view key) {
    for (auto it = map.begin(); it != map.end(); ++it)
      if (it->first.IsScalar() && it->first.Scalar() == key) return M(it->first, M(map));
    return M(map);
  }

  // ---- top level ---------------------------------------------------------
  void Parse(std::string_view text) {
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

  void ParseRoot(const YAML::Node& root) {
    CheckKeys(root, kTopKeys, "a workflow");

    if (!root["workflow"]) Error(M(root), msg::MissingKey("workflow", "a workflow"));
    else if (auto n = Name(root["workflow"], "workflow")) def_.name = *n;
    if (!root["version"]) {
      Error(M(root), msg::MissingKey("version", "a workflow"));
    } else if (auto v = Int(root["version"], "version")) {
      if (*v < 1 || *v > 1000000) Error(M(root["version"]), msg::BadVersion());
      else def_.version = static_cast<int>(*v);
    }
    if (root["title"]) def_.title = Scalar(root["title"], "title").value_or("");

    ParseRoles(root["roles"], M(root));
    ParseFields(root["fields"]);
    ParseItemReminders(root["fields"]);
    ParseDistinct(root["distinct"]);
    ParseDocuments(root["documents"]);
    if (!root["states"]) Error(M(root), msg::MissingKey("states", "a workflow"));
    else PreParseStates(root["states"]);
    if (root["started_by"]) {
      for (auto& [r, m] : Names(root["started_by"], "started_by")) {
        CheckRole(r, m, /*allow_system=*/true);  // started by mentorflow itself
        def_.started_by.push_back(r);
      }
    }
    if (!root["transitions"]) Error(M(root), msg::MissingKey("transitions", "a workflow"));
    else PreParseInputs(root["transitions"]);
    if (root["start_when"]) {
      // Read on the fields the instance is started with: a new instance has
      // no documents and no children yet, so those conditions never hold.
      def_.start_when = ParseCondition(root["start_when"], def_.fields, 0);
      if (def_.start_when) CheckStartCondition(*def_.start_when);
    }
    if (root["states"]) ParseStates(root["states"]);
    if (root["transitions"]) ParseTransitions(root["transitions"]);
    if (!errors_.empty()) return;
    def_.BuildTable();
    CheckCollectiveDocuments();
    if (!errors_.empty()) return;
    CheckMachine();
    CheckTitles(M(root));
  }

  void ParseRoles(const YAML::Node& n, Mark root_mark) {
    if (!n) {
      Error(root_mark, msg::MissingKey("roles", "a workflow"));
      return;
    }
    // roles: [a, b] or, with the titles people see, roles: {a: Title, b: Title}
    auto add = [&](const std::string& r, Mark m, std::string title) {
      if (!IsIdentifier(r)) Error(m, msg::BadIdentifier(r, "role"));
      else if (r == "system") Error(m, msg::SystemRoleDeclared());
      else if (def_.HasRole(r)) Error(m, msg::Duplicate("role", r));
      else {
        def_.roles.push_back(r);
        def_.role_titles.push_back(std::move(title));
        role_marks_.push_back(m);
      }
    };
    if (n.IsMap()) {
      for (const auto& it : n) {
        auto r = Scalar(it.first, "role");
        auto t = Scalar(it.second, "role title");
        if (r) add(*r, M(it.first), t.value_or(""));
      }
      return;
    }
    for (auto& [r, m] : Names(n, "roles")) add(r, m, "");
  }

  // A list field's `remind: {at: DATE_ITEM_FIELD, before: [DURATIONS],
  // notify: [..], while: CONDITION_ON_ITEM}`: each record's own date reminds.
  void ParseItemReminders(const YAML::Node& fields) {
    if (!fields || !fields.IsMap()) return;
    for (auto it = fields.begin(); it != fields.end(); ++it) {
      if (!it->first.IsScalar() || !it->second.IsMap() || !it->second["remind"]) continue;
      const int li = def_.FieldIndex(it->first.Scalar());
      if (li < 0 || def_.fields[li].type != FieldType::kList) continue;  // reported by ParseField
      const YAML::Node n = it->second["remind"];
      if (!IsMap(n, "remind")) continue;
      CheckKeys(n, {"at", "before", "notify", "while", "template"}, "a list's remind");
      ItemReminderDef r;
      r.list_field = li;
      r.mark = M(n);
      const FieldDef& lf = def_.fields[li];
      bool ok = true;
      if (!n["at"]) {
        Error(M(n), msg::MissingKey("at", "a list's remind"));
        ok = false;
      } else if (auto a = Scalar(n["at"], "at")) {
        const FieldDef* f = ResolveField(*a, M(n["at"]), lf.item_fields, &r.at);
        if (!f) ok = false;
        else if (f->type != FieldType::kDate) {
          Error(M(n["at"]), msg::DeadlineFieldNotDate(*a, FieldTypeName(f->type)));
          ok = false;
        }
      }
      if (n["before"]) {
        for (auto& [b, m] : Names(n["before"], "before")) {
          if (auto d = ParseDuration(b)) {
            r.before.push_back(*d);
          } else {
            Error(m, msg::BadDuration(b));
            ok = false;
          }
        }
      }
      if (r.before.empty()) r.before.push_back(Duration{});  // on the day itself
      if (!n["notify"]) {
        Error(M(n), msg::MissingKey("notify", "a list's remind"));
        ok = false;
      }
      if (n["notify"])
        for (auto& [who, m] : Names(n["notify"], "notify"))
          if (CheckRecipient(who, m)) r.notify.push_back(who);
      if (n["while"]) {
        r.while_ = ParseCondition(n["while"], lf.item_fields, 0);
        if (!r.while_) ok = false;
      }
      if (n["template"]) {
        if (auto t = Scalar(n["template"], "template")) r.template_name = *t;
      }
      CheckReminderTemplate(r.template_name, n["template"] ? M(n["template"]) : M(n));
      if (ok) def_.item_reminders.push_back(std::move(r));
    }
  }

  bool CheckRole(const std::string& r, Mark m, bool allow_system = false) {
    if (def_.HasRole(r) || (allow_system && r == "system")) return true;
    auto all = def_.roles;
    if (allow_system) all.push_back("system");
    Error(m, msg::Unknown("role", r, Closest(r, all)));
    return false;
  }

  // ---- fields ------------------------------------------------------------
  // `for_input`: an input that declares a new field; its `required` is the
  // transition's, not the field's.
  std::optional<FieldDef> ParseField(const std::string& name, const YAML::Node& key, const YAML::Node& n,
                                     bool in_list, bool for_input = false) {
    FieldDef f;
    f.name = name;
    f.mark = M(key);
    if (!IsMap(n, "a field")) return std::nullopt;
    CheckKeys(n, kFieldKeys, "a field");
    if (!n["type"]) {
      Error(M(n), msg::MissingKey("type", "field '" + name + "'"));
      return std::nullopt;
    }
    auto t = Scalar(n["type"], "type");
    if (!t) return std::nullopt;
    auto ti = std::find(kTypes.begin(), kTypes.end(), *t);
    if (ti == kTypes.end()) {
      Error(M(n["type"]), msg::Unknown("type", *t, Closest(*t, kTypes)));
      return std::nullopt;
    }
    f.type = static_cast<FieldType>(ti - kTypes.begin());
    if (in_list && (f.type == FieldType::kList || f.type == FieldType::kPerson)) {
      Error(M(n["type"]), msg::BadItemType(*t));
      return std::nullopt;
    }
    if (n["title"]) f.title = Scalar(n["title"], "title").value_or("");
    if (n["required"] && !for_input) f.required = Bool(n["required"], "required").value_or(false);
    if (n["from_parent"]) {
      // from_parent: true (the parent's field of the same name) or FIELD.
      if (in_list || for_input) {
        Error(KeyMark(n, "from_parent"), msg::FromParentPlace());
      } else if (auto v = Scalar(n["from_parent"], "from_parent")) {
        if (*v == "false" || *v == "no") {
        } else if (*v == "true" || *v == "yes") {
          f.from_parent = name;
        } else if (IsIdentifier(*v)) {
          f.from_parent = *v;
        } else {
          Error(M(n["from_parent"]), msg::BadIdentifier(*v, "field"));
        }
      }
    }
    auto only_for = [&](const char* key, FieldType type) {
      if (n[key] && f.type != type) Error(KeyMark(n, key), msg::KeyOnlyFor(key, FieldTypeName(type)));
    };
    only_for("role", FieldType::kPerson);
    only_for("guardian_of", FieldType::kPerson);
    only_for("values", FieldType::kEnum);
    only_for("min", FieldType::kInt);
    only_for("max", FieldType::kInt);
    only_for("item", FieldType::kList);
    only_for("remind", FieldType::kList);
    if (f.type == FieldType::kPerson) {
      if (!n["role"]) Error(M(n), msg::MissingKey("role", "person field '" + name + "'"));
      // `role: any`: any registered person, whatever their roles (the
      // subject of the operator's duties is anyone whose data is kept).
      else if (auto r = Scalar(n["role"], "role"); r && (*r == "any" || CheckRole(*r, M(n["role"])))) f.role = *r;
    }
    if (f.type == FieldType::kEnum) {
      // values: [a, b] or, with titles people see, values: {a: Title, b: Title}
      const YAML::Node vs = n["values"];
      auto add = [&](const std::string& v, Mark m, std::string title) {
        if (!IsIdentifier(v)) Error(m, msg::BadIdentifier(v, "enum value"));
        else if (std::find(f.values.begin(), f.values.end(), v) != f.values.end())
          Error(m, msg::Duplicate("enum value", v));
        else {
          f.values.push_back(v);
          f.value_titles.push_back(std::move(title));
        }
      };
      if (!vs || (!vs.IsSequence() && !vs.IsMap()) || vs.size() == 0) {
        Error(M(vs, M(n)), msg::EnumNeedsValues(name));
      } else if (vs.IsMap()) {
        for (auto it = vs.begin(); it != vs.end(); ++it) {
          auto v = Scalar(it->first, "values");
          auto t = Scalar(it->second, "value title");
          if (v && t) add(*v, M(it->first), *t);
        }
      } else {
        for (auto& [v, m] : Names(vs, "values")) add(v, m, "");
      }
    }
    if (f.type == FieldType::kInt) {
      if (n["min"]) f.min = Int(n["min"], "min");
      if (n["max"]) f.max = Int(n["max"], "max");
      if (f.min && f.max && *f.min > *f.max) Error(KeyMark(n, "max"), msg::MinAboveMax());
    }
    if (f.type == FieldType::kList) {
      const YAML::Node item = n["item"];
      if (!item) {
        Error(M(n), msg::MissingKey("item", "list field '" + name + "'"));
      } else if (IsMap(item, "item")) {
        for (auto it = item.begin(); it != item.end(); ++it) {
          auto in = Name(it->first, "item field");
          if (!in) continue;
          if (*in == "id") {
            Error(M(it->first), msg::ItemIdReserved());
            continue;
          }
          if (f.ItemFieldIndex(*in) >= 0) {
            Error(M(it->first), msg::Duplicate("item field", *in));
            continue;
          }
          if (auto sub = ParseField(*in, it->first, it->second, true)) f.item_fields.push_back(*sub);
        }
      }
    }
    if (n["default"]) {
      if (f.type == FieldType::kList) {
        Error(KeyMark(n, "default"), msg::ListNoDefault());
      } else if (auto s = Scalar(n["default"], "default")) {
        std::string err;
        auto v = ParseValue(f, *s, &err);
        if (!v) Error(M(n["default"]), msg::BadValue("default of '" + name + "'", err));
        else f.default_value = *v;
      }
    }
    return f;
  }

  void ParseFields(const YAML::Node& n) {
    if (!n) return;
    if (!IsMap(n, "fields")) return;
    for (auto it = n.begin(); it != n.end(); ++it) {
      auto name = Name(it->first, "field");
      if (!name) continue;
      if (def_.FieldIndex(*name) >= 0) {
        Error(M(it->first), msg::Duplicate("field", *name));
        continue;
      }
      if (auto f = ParseField(*name, it->first, it->second, false)) def_.fields.push_back(std::move(*f));
    }
    // guardian_of: FIELD names another person field of this workflow.
    for (auto it = n.begin(); it != n.end(); ++it) {
      if (!it->second.IsMap() || !it->second["guardian_of"]) continue;
      auto name = Scalar(it->first, "field");
      auto other = Scalar(it->second["guardian_of"], "guardian_of");
      int self = name ? def_.FieldIndex(*name) : -1;
      if (!other || self < 0 || def_.fields[self].type != FieldType::kPerson) continue;
      int target = PersonField(*other, M(it->second["guardian_of"]));
      if (target == self) Error(M(it->second["guardian_of"]), msg::GuardianOfItself(*name));
      else if (target >= 0) def_.fields[self].guardian_of = target;
    }
  }

  // The index of person field `name`, or -1 (and an error at `m`).
  int PersonField(const std::string& name, Mark m) {
    int i = def_.FieldIndex(name);
    if (i >= 0 && def_.fields[i].type == FieldType::kPerson) return i;
    if (i >= 0) {
      Error(m, "field '" + name + "' is not a person field (only person fields can be named here)");
      return -1;
    }
    std::vector<std::string> people;
    for (const auto& f : def_.fields)
      if (f.type == FieldType::kPerson) people.push_back(f.name);
    Error(m, msg::Unknown("person field", name, Closest(name, people)));
    return -1;
  }

  // distinct: [mentor, mentee] -- these person fields never name the same person.
  void ParseDistinct(const YAML::Node& n) {
    if (!n) return;
    auto names = Names(n, "distinct");
    for (auto& [name, m] : names) {
      int i = PersonField(name, m);
      if (i < 0) continue;
      if (std::find(def_.distinct.begin(), def_.distinct.end(), i) != def_.distinct.end())
        Error(m, msg::Duplicate("field in distinct", name));
      else def_.distinct.push_back(i);
    }
    if (names.size() < 2) Error(M(n), msg::DistinctNeedsTwo());
  }

  // ---- documents ---------------------------------------------------------
  // Document templates are DIR/T.mustache; reminder templates DIR/reminders/T.mustache.
  bool TemplateExists(const std::string& t, bool reminder) const {
    if (opts_.templates_dir.empty()) return true;
    std::error_code ec;
    fs::path dir = fs::path(opts_.templates_dir);
    if (reminder) dir /= "reminders";
    return fs::is_regular_file(dir / (t + ".mustache"), ec);
  }
  void CheckTemplate(const std::string& t, Mark m, bool reminder = false) {
    if (!IsIdentifier(t)) Error(m, msg::BadIdentifier(t, "template"));
    else if (!TemplateExists(t, reminder))
      Error(m, msg::UnknownTemplate(t, reminder ? opts_.templates_dir + "/reminders" : opts_.templates_dir));
  }
  void CheckReminderTemplate(const std::string& t, Mark m) { CheckTemplate(t, m, true); }

  // A document template may print `fields.X` (and `fields.X_title` for an
  // enum X) only for fields X this workflow has: a misspelt or stale name
  // would print nothing on a document people sign. Each `{{...}}` tag is
  // looked at; the error is at the document's `template:` and names the
  // template's own line and column.
  void CheckTemplateFields(const std::string& t, Mark m) {
    if (opts_.templates_dir.empty() || !IsIdentifier(t) || !TemplateExists(t, false)) return;
    const std::string path = (fs::path(opts_.templates_dir) / (t + ".mustache")).string();
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();
    std::vector<std::string> known;
    for (const auto& f : def_.fields) {
      if (f.type == FieldType::kList) continue;
      known.push_back(f.name);
      if (f.type == FieldType::kEnum) known.push_back(f.name + "_title");
    }
    for (size_t open = text.find("{{"); open != std::string::npos; open = text.find("{{", open + 2)) {
      const size_t close = text.find("}}", open + 2);
      if (close == std::string::npos) break;
      std::string tag = text.substr(open + 2, close - open - 2);
      size_t b = tag.find_first_not_of(" \t#^/&{");
      if (b == std::string::npos) continue;
      tag = tag.substr(b);
      tag = tag.substr(0, tag.find_first_of(" \t}"));
      if (tag.rfind("fields.", 0) != 0) continue;
      std::string name = tag.substr(7);
      name = name.substr(0, name.find('.'));
      if (std::find(known.begin(), known.end(), name) != known.end()) continue;
      int line = 1, column = 1;
      for (size_t i = 0; i < open; ++i) {
        if (text[i] == '\n') ++line, column = 1;
        else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++column;
      }
      Error(m, msg::TemplateUnknownField(t + ".mustache:" + std::to_string(line) + ":" + std::to_string(column), name,
                                         def_.name, Closest(name, known)));
    }
  }

  // Who a reminder goes to: a role, or a person field (that person).
  bool CheckRecipient(const std::string& r, Mark m) {
    int fi = def_.FieldIndex(r);
    if (fi >= 0 && def_.fields[fi].type == FieldType::kPerson) return true;
    return CheckRole(r, m);
  }

  void ParseDocuments(const YAML::Node& n) {
    if (!n) return;
    if (!IsMap(n, "documents")) return;
    for (auto it = n.begin(); it != n.end(); ++it) {
      auto name = Name(it->first, "document");
      if (!name) continue;
      if (def_.DocumentIndex(*name) >= 0) {
        Error(M(it->first), msg::Duplicate("document", *name));
        continue;
      }
      const YAML::Node d = it->second;
      DocumentDef doc;
      doc.name = *name;
      doc.mark = M(it->first);
      if (!IsMap(d, "a document")) continue;
      CheckKeys(d, kDocumentKeys, "a document");
      if (!d["template"]) Error(M(d), msg::MissingKey("template", "document '" + *name + "'"));
      else if (auto t = Scalar(d["template"], "template")) {
        doc.template_name = *t;
        CheckTemplate(*t, M(d["template"]));
        CheckTemplateFields(*t, M(d["template"]));
      }
      if (d["title"]) doc.title = Scalar(d["title"], "title").value_or("");
      std::vector<Mark> signer_marks;
      if (!d["signers"]) Error(M(d), msg::MissingKey("signers", "document '" + *name + "'"));
      else {
        for (auto& [s, m] : Names(d["signers"], "signers")) {
          int fi = def_.FieldIndex(s);
          bool person_field = fi >= 0 && def_.fields[fi].type == FieldType::kPerson;
          if (!person_field && !def_.HasRole(s)) {
            auto all = def_.roles;
            for (const auto& f : def_.fields)
              if (f.type == FieldType::kPerson) all.push_back(f.name);
            Error(m, msg::UnknownSigner(s, Closest(s, all)));
          } else {
            doc.signers.push_back(s);
            signer_marks.push_back(m);
          }
        }
      }
      if (d["collects"]) {
        doc.collects_mark = M(d["collects"]);
        if (auto c = Scalar(d["collects"], "collects")) doc.collects_name = *c;
        if (!d["on_signed"]) Error(M(d), msg::CollectiveNeeds(*name, "on_signed"));
        if (!d["issued_by"]) Error(M(d), msg::CollectiveNeeds(*name, "issued_by"));
        for (size_t k = 0; k < doc.signers.size(); ++k) {
          const int fi = def_.FieldIndex(doc.signers[k]);
          if (fi >= 0 && def_.fields[fi].type == FieldType::kPerson)
            Error(signer_marks[k], msg::CollectiveSigner(*name, doc.signers[k]));
        }
      }
      for (const char* key : {"on_signed", "issued_by"})
        if (d[key] && !d["collects"]) Error(KeyMark(d, key), msg::KeyOnlyFor(key, "a collective document (collects:)"));
      if (d["on_signed"] && d["collects"]) {
        doc.on_signed_mark = M(d["on_signed"]);
        doc.on_signed = Scalar(d["on_signed"], "on_signed").value_or("");
      }
      if (d["issued_by"] && d["collects"])
        for (auto& [r, m] : Names(d["issued_by"], "issued_by"))
          if (CheckRole(r, m)) doc.issued_by.push_back(r);
      if (d["statistics"]) ParseDocumentStatistics(d["statistics"], d["collects"].IsDefined(), doc);
      def_.documents.push_back(std::move(doc));
    }
  }

  // statistics: {annual: FIELD}, FIELD an int field holding the year.
  void ParseDocumentStatistics(const YAML::Node& st, bool collective, DocumentDef& doc) {
    if (collective) Error(M(st), msg::StatisticsOnCollective(doc.name));
    if (!IsMap(st, "statistics")) return;
    CheckKeys(st, {"annual"}, "a document's statistics");
    if (!st["annual"]) {
      Error(M(st), msg::MissingKey("annual", "statistics"));
      return;
    }
    auto f = Scalar(st["annual"], "annual");
    if (!f) return;
    int i = -1;
    const FieldDef* fd = ResolveField(*f, M(st["annual"]), def_.fields, &i);
    if (!fd) return;
    if (fd->type != FieldType::kInt) Error(M(st["annual"]), msg::StatisticsYearNotInt(*f, FieldTypeName(fd->type)));
    else if (!collective) doc.statistics_year = i;
  }

  // After the states are known and the event table built: what a
  // collective document collects, and the event its signature sends.
  void CheckCollectiveDocuments() {
    for (auto& doc : def_.documents) {
      if (doc.collects_name.empty()) continue;
      doc.collects = ResolveState(doc.collects_name, doc.collects_mark);
      if (doc.collects < 0 || doc.on_signed.empty()) continue;
      auto ev = std::find(def_.events.begin(), def_.events.end(), doc.on_signed);
      if (ev == def_.events.end()) {
        Error(doc.on_signed_mark, msg::Unknown("event", doc.on_signed, Closest(doc.on_signed, def_.events)));
        continue;
      }
      doc.on_signed_event = static_cast<int>(ev - def_.events.begin());
      auto [b, e] = def_.Candidates(doc.collects, doc.on_signed_event);
      if (b == e) {
        Error(doc.on_signed_mark, msg::OnSignedNotFrom(doc.name, doc.on_signed, doc.collects_name));
        continue;
      }
      for (const auto& signer : doc.signers) {
        bool may = false;
        for (const int* i = b; i != e; ++i) {
          const auto& by = def_.transitions[*i].by;
          may = may || std::find(by.begin(), by.end(), signer) != by.end();
        }
        if (!may) Error(doc.on_signed_mark, msg::OnSignedNotBySigner(doc.name, doc.on_signed, signer));
      }
    }
  }

  // ---- states ------------------------------------------------------------
  void PreParseStates(const YAML::Node& n) {
    if (!IsMap(n, "states")) return;
    for (auto it = n.begin(); it != n.end(); ++it) {
      auto name = Name(it->first, "state");
      if (!name) continue;
      if (def_.StateIndex(*name) >= 0) {
        Error(M(it->first), msg::Duplicate("state", *name));
        continue;
      }
      StateDef s;
      s.name = *name;
      s.mark = M(it->first);
      def_.states.push_back(std::move(s));
    }
  }

  int ResolveState(const std::string& s, Mark m) {
    int i = def_.StateIndex(s);
    if (i < 0) {
      std::vector<std::string> all;
      for (const auto& st : def_.states) all.push_back(st.name);
      Error(m, msg::Unknown("state", s, Closest(s, all)));
    }
    return i;
  }

  int ResolveDocument(const std::string& d, Mark m) {
    int i = def_.DocumentIndex(d);
    if (i < 0) {
      std::vector<std::string> all;
      for (const auto& doc : def_.documents) all.push_back(doc.name);
      Error(m, msg::Unknown("document", d, Closest(d, all)));
    }
    return i;
  }

  const FieldDef* ResolveField(const std::string& name, Mark m, const std::vector<FieldDef>& scope, int* index) {
    for (size_t i = 0; i < scope.size(); ++i)
      if (scope[i].name == name) {
        *index = static_cast<int>(i);
        return &scope[i];
      }
    std::vector<std::string> all;
    for (const auto& f : scope) all.push_back(f.name);
    Error(m, msg::Unknown("field", name, Closest(name, all)));
    return nullptr;
  }

  void ParseStates(const YAML::Node& n) {
    if (!n.IsMap()) return;
    for (auto it = n.begin(); it != n.end(); ++it) {
      if (!it->first.IsScalar()) continue;
      int si = def_.StateIndex(it->first.Scalar());
      if (si < 0) continue;
      StateDef& s = def_.states[si];
      const YAML::Node b = it->second;
      if (!b || b.IsNull()) continue;  // "state:" with no body
      if (!IsMap(b, "a state")) continue;
      CheckKeys(b, kStateKeys, "a state");
      if (b["initial"]) s.initial = Bool(b["initial"], "initial").value_or(false);
      if (b["final"]) s.final = Bool(b["final"], "final").value_or(false);
      if (b["title"]) s.title = Scalar(b["title"], "title").value_or("");
      if (s.initial && s.final) Error(s.mark, msg::InitialAndFinal(s.name));
      if (b["on_enter"]) ParseActions(b["on_enter"], s);
      if (b["deadline"]) ParseDeadline(b["deadline"], s);
    }
  }

  void ParseActions(const YAML::Node& n, StateDef& s) {
    if (!n.IsSequence()) {
      Error(M(n), msg::Expected("a list of actions", "on_enter"));
      return;
    }
    for (const auto& a : n) {
      if (!Spend(a) || !IsMap(a, "an action")) continue;
      CheckKeys(a, kActionKeys, "an action");
      Action act;
      act.mark = M(a);
      if (a["issue"] && a["notify"]) {
        Error(M(a), msg::ActionKind());
      } else if (a["issue"]) {
        act.kind = Action::Kind::kIssue;
        if (auto d = Scalar(a["issue"], "issue")) act.document = ResolveDocument(*d, M(a["issue"]));
        if (act.document >= 0 && def_.documents[act.document].Collective()) {
          Error(M(a["issue"]), msg::CollectiveIssuedOnEnter(def_.documents[act.document].name));
          act.document = -1;
        }
        if (a["template"]) Error(KeyMark(a, "template"), msg::KeyOnlyFor("template", "notify"));
        if (a["after"]) Error(KeyMark(a, "after"), msg::KeyOnlyFor("after", "notify"));
        if (act.document >= 0) s.on_enter.push_back(act);
      } else if (a["notify"]) {
        act.kind = Action::Kind::kNotify;
        for (auto& [r, m] : Names(a["notify"], "notify"))
          if (CheckRecipient(r, m)) act.notify.push_back(r);
        act.template_name = "notice";
        if (a["template"]) {
          if (auto t = Scalar(a["template"], "template")) {
            act.template_name = *t;
            CheckReminderTemplate(*t, M(a["template"]));
          }
        } else {
          CheckReminderTemplate(act.template_name, M(a));
        }
        if (a["after"]) {
          if (auto t = Scalar(a["after"], "after")) {
            if (auto dur = ParseDuration(*t)) act.after = *dur;
            else Error(M(a["after"]), msg::BadDuration(*t));
          }
        }
        s.on_enter.push_back(act);
      } else {
        Error(M(a), msg::ActionKind());
      }
    }
  }

  void ParseDeadline(const YAML::Node& n, StateDef& s) {
    if (!IsMap(n, "a deadline")) return;
    CheckKeys(n, kDeadlineKeys, "a deadline");
    DeadlineDef d;
    d.mark = M(n);
    bool ok = true;
    if (n["after"] && n["at"]) {
      Error(M(n), msg::DeadlineBoth());
      ok = false;
    } else if (n["after"]) {
      d.kind = DeadlineDef::Kind::kAfter;
      if (auto text = Scalar(n["after"], "after")) {
        auto dur = ParseDuration(*text);
        if (!dur) {
          Error(M(n["after"]), msg::BadDuration(*text));
          ok = false;
        } else {
          d.after = *dur;
        }
      }
    } else if (n["at"]) {
      const YAML::Node at = n["at"];
      if (at.IsMap()) {
        CheckKeys(at, {"yearly"}, "'at'");
        if (!at["yearly"]) {
          Error(M(at), msg::MissingKey("yearly", "'at'"));
          ok = false;
        } else {
          d.kind = DeadlineDef::Kind::kYearly;
          for (auto& [md, m] : Names(at["yearly"], "yearly")) {
            auto v = ParseMonthDay(md);
            if (!v) {
              Error(m, msg::BadMonthDay(md));
              ok = false;
            } else {
              d.yearly.push_back(*v);
            }
          }
          if (d.yearly.empty()) ok = false;
        }
      } else if (auto f = Scalar(at, "at")) {
        d.kind = DeadlineDef::Kind::kAtField;
        const FieldDef* fd = ResolveField(*f, M(at), def_.fields, &d.at_field);
        if (!fd) ok = false;
        else if (fd->type != FieldType::kDate) {
          Error(M(at), msg::DeadlineFieldNotDate(*f, FieldTypeName(fd->type)));
          ok = false;
        }
      }
    } else {
      Error(M(n), msg::DeadlineNeither());
      ok = false;
    }
    if (!n["event"]) {
      Error(M(n), msg::MissingKey("event", "a deadline"));
      ok = false;
    } else if (auto e = Name(n["event"], "event")) {
      d.event = *e;
      deadline_event_marks_[s.name] = M(n["event"]);
    }
    if (n["period"]) {
      if (auto f = Scalar(n["period"], "period")) {
        const FieldDef* fd = ResolveField(*f, M(n["period"]), def_.fields, &d.period_field);
        if (!fd) ok = false;
        else if (fd->type != FieldType::kDate) {
          Error(M(n["period"]), msg::PeriodFieldNotDate(*f, FieldTypeName(fd->type)));
          ok = false;
        } else if (d.kind != DeadlineDef::Kind::kYearly) {
          Error(M(n["period"]), msg::PeriodNeedsYearly());
          ok = false;
        }
      }
    }
    if (n["remind"]) {
      for (auto& [r, m] : Names(n["remind"], "remind")) {
        auto dur = ParseDuration(r);
        if (!dur) Error(m, msg::BadDuration(r));
        else d.remind.push_back(*dur);
      }
    }
    if (n["notify"]) {
      for (auto& [r, m] : Names(n["notify"], "notify"))
        if (CheckRecipient(r, m)) d.notify.push_back(r);
    }
    if (n["template"]) {
      if (auto t = Scalar(n["template"], "template")) {
        d.template_name = *t;
        CheckReminderTemplate(*t, M(n["template"]));
      }
    } else if (!d.remind.empty() || !d.notify.empty()) {
      CheckReminderTemplate(d.template_name, M(n));
    }
    if (ok) s.deadline = d;
  }

  // ---- transitions -------------------------------------------------------
  // Inputs may declare new fields; they are registered before any condition
  // is read, so that a condition may refer to a field another transition sets.
  void PreParseInputs(const YAML::Node& n) {
    if (!n.IsSequence()) return;
    for (const auto& t : n) {
      if (!t.IsMap() || !t["input"] || !t["input"].IsMap()) continue;
      const YAML::Node in = t["input"];
      for (auto it = in.begin(); it != in.end(); ++it) {
        if (!it->first.IsScalar() || !IsIdentifier(it->first.Scalar())) continue;
        const std::string& name = it->first.Scalar();
        if (def_.FieldIndex(name) >= 0) continue;
        if (!it->second.IsMap() || !it->second["type"]) continue;  // reported later
        declared_by_input_.insert(it->second.Mark().pos);
        if (auto f = ParseField(name, it->first, it->second, false, true)) def_.fields.push_back(std::move(*f));
      }
    }
  }

  void ParseTransitions(const YAML::Node& n) {
    if (!n.IsSequence()) {
      Error(M(n), msg::Expected("a list of transitions", "transitions"));
      return;
    }
    for (const auto& t : n) {
      if (!Spend(t) || !IsMap(t, "a transition")) continue;
      ParseTransition(t);
    }
  }

  void ParseTransition(const YAML::Node& t) {
    CheckKeys(t, kTransitionKeys, "a transition");
    TransitionDef tr;
    tr.mark = M(t);
    bool ok = true;
    if (!t["on"]) {
      Error(M(t), msg::MissingKey("on", "a transition"));
      ok = false;
    } else if (auto e = Name(t["on"], "event")) {
      tr.event = *e;
    } else {
      ok = false;
    }
    if (!t["from"]) {
      Error(M(t), msg::MissingKey("from", "a transition"));
      ok = false;
    } else {
      for (auto& [s, m] : Names(t["from"], "from")) {
        int si = ResolveState(s, m);
        if (si < 0) ok = false;
        else tr.from.push_back(si);
      }
    }
    if (t["to"]) {
      if (auto s = Scalar(t["to"], "to")) {
        tr.to = ResolveState(*s, M(t["to"]));
        if (tr.to < 0) ok = false;
      }
    }
    if (!t["by"]) {
      Error(M(t), msg::MissingKey("by", "a transition"));
      ok = false;
    } else {
      for (auto& [r, m] : Names(t["by"], "by")) {
        if (CheckRole(r, m, true)) tr.by.push_back(r);
        else ok = false;
      }
    }
    if (t["title"]) tr.title = Scalar(t["title"], "title").value_or("");
    if (t["when"]) {
      auto c = ParseCondition(t["when"], def_.fields, 0);
      if (!c) ok = false;
      else tr.when = std::move(*c);
    }
    if (t["append"] && t["update"]) {
      Error(M(t), msg::AppendAndUpdate());
      ok = false;
    }
    for (const char* key : {"append", "update"}) {
      if (!t[key]) continue;
      if (t["input"]) {
        Error(KeyMark(t, "input"), msg::InputWithListOp(key));
        ok = false;
      }
      auto name = Scalar(t[key], key);
      if (!name) continue;
      int fi = -1;
      const FieldDef* f = ResolveField(*name, M(t[key]), def_.fields, &fi);
      if (!f) {
        ok = false;
      } else if (f->type != FieldType::kList) {
        Error(M(t[key]), msg::NotAList(*name, FieldTypeName(f->type)));
        ok = false;
      } else {
        (std::string_view(key) == "append" ? tr.append_list : tr.update_list) = fi;
      }
    }
    if (t["item"]) {
      // item: {F: VALUE}: what an appended or updated record gets, whatever
      // the input says (a mentee's proposal is always 'proposed').
      const int li = tr.append_list >= 0 ? tr.append_list : tr.update_list;
      if (li < 0) {
        Error(KeyMark(t, "item"), msg::ItemWithoutListOp());
        ok = false;
      } else if (IsMap(t["item"], "item")) {
        const FieldDef& lf = def_.fields[li];
        for (auto it = t["item"].begin(); it != t["item"].end(); ++it) {
          auto name = Scalar(it->first, "item");
          auto text = Scalar(it->second, "item");
          if (!name || !text) {
            ok = false;
            continue;
          }
          int k = -1;
          const FieldDef* f = ResolveField(*name, M(it->first), lf.item_fields, &k);
          if (!f) {
            ok = false;
            continue;
          }
          std::string err;
          auto v = ParseValue(*f, *text, &err);
          if (!v) {
            Error(M(it->second), msg::BadInputValue(*name, err));
            ok = false;
            continue;
          }
          tr.item_set.push_back({k, *v});
        }
      }
    }
    if (t["input"]) ok = ParseInput(t["input"], tr) && ok;
    if (t["set"]) ok = ParseSet(t["set"], tr) && ok;
    if (ok) def_.transitions.push_back(std::move(tr));
  }

  bool ParseInput(const YAML::Node& n, TransitionDef& tr) {
    if (!IsMap(n, "input")) return false;
    bool ok = true;
    for (auto it = n.begin(); it != n.end(); ++it) {
      auto name = Name(it->first, "input");
      if (!name) {
        ok = false;
        continue;
      }
      const YAML::Node b = it->second;
      InputDef in;
      in.field = def_.FieldIndex(*name);
      if (in.field < 0) {
        Error(M(it->first), msg::InputNeedsType(*name));
        ok = false;
        continue;
      }
      const FieldDef& f = def_.fields[in.field];
      if (f.type == FieldType::kList) {
        Error(M(it->first), msg::ListInput(*name));
        ok = false;
        continue;
      }
      if (b && !b.IsNull()) {
        if (!IsMap(b, "an input")) {
          ok = false;
          continue;
        }
        if (!declared_by_input_.count(b.Mark().pos)) CheckKeys(b, kFieldKeys, "an input");
        if (b["type"]) {
          auto ty = Scalar(b["type"], "type");
          if (ty && *ty != FieldTypeName(f.type)) {
            Error(M(b["type"]), msg::InputTypeMismatch(*name, *ty, FieldTypeName(f.type)));
            ok = false;
          }
        }
        if (b["required"]) in.required = Bool(b["required"], "required").value_or(false);
      }
      tr.input.push_back(in);
    }
    return ok;
  }

  bool ParseSet(const YAML::Node& n, TransitionDef& tr) {
    if (!IsMap(n, "set")) return false;
    bool ok = true;
    for (auto it = n.begin(); it != n.end(); ++it) {
      auto name = Scalar(it->first, "set");
      if (!name) continue;
      Assignment a;
      const FieldDef* f = ResolveField(*name, M(it->first), def_.fields, &a.field);
      if (!f) {
        ok = false;
        continue;
      }
      if (f->type == FieldType::kList) {
        Error(M(it->first), msg::ListInput(*name));
        ok = false;
        continue;
      }
      const YAML::Node v = it->second;
      if (v.IsMap() && v["today_plus_months"]) {
        CheckKeys(v, {"today_plus_months"}, "a computed date");
        auto src = Scalar(v["today_plus_months"], "today_plus_months");
        if (!src) {
          ok = false;
          continue;
        }
        const FieldDef* sf = ResolveField(*src, M(v["today_plus_months"]), def_.fields, &a.today_plus_months);
        if (!sf) {
          ok = false;
        } else if (sf->type != FieldType::kInt || f->type != FieldType::kDate) {
          Error(M(v["today_plus_months"]), msg::TodayPlusMonths(*src, *name));
          ok = false;
        }
      } else if (v.IsMap()) {
        CheckKeys(v, {"field"}, "a copied value");
        auto src = Scalar(v["field"], "field");
        if (!src) {
          ok = false;
          continue;
        }
        const FieldDef* sf = ResolveField(*src, M(v["field"]), def_.fields, &a.from_field);
        if (!sf) {
          ok = false;
        } else if (sf->type != f->type || (f->type == FieldType::kEnum && sf->values != f->values)) {
          Error(M(v["field"]), msg::CopyTypeMismatch(*src, *name));
          ok = false;
        }
      } else if (auto text = Scalar(v, "set")) {
        std::string err;
        auto val = ParseValue(*f, *text, &err);
        if (!val) {
          Error(M(v), msg::BadValue("'" + *name + "'", err));
          ok = false;
        } else {
          a.constant = *val;
        }
      }
      tr.set.push_back(std::move(a));
    }
    return ok;
  }

  // ---- conditions --------------------------------------------------------
  std::optional<Condition> ParseCondition(const YAML::Node& n, const std::vector<FieldDef>& scope, int depth) {
    if (!Spend(n)) return std::nullopt;
    if (depth > kMaxConditionDepth) {
      Error(M(n), msg::ConditionTooDeep(kMaxConditionDepth));
      return std::nullopt;
    }
    if (!IsMap(n, "a condition")) return std::nullopt;
    Condition c;
    c.mark = M(n);
    static const std::vector<std::string> kinds = {"field", "present", "all", "any", "not", "signed",
                                                   "consent", "children", "count", "every"};
    std::vector<std::string> found;
    for (const auto& k : kinds)
      if (n[k]) found.push_back(k);
    if (found.size() != 1) {
      std::vector<std::string> keys;
      for (auto it = n.begin(); it != n.end(); ++it)
        if (it->first.IsScalar()) keys.push_back(it->first.Scalar());
      std::string hint = keys.empty() ? "" : Closest(keys.front(), kinds);
      Error(M(n), found.empty() ? msg::ConditionKindMissing(hint) : msg::ConditionKindMany(found));
      return std::nullopt;
    }
    const std::string& kind = found.front();
    if (kind == "field") return ParseCompare(n, scope, c);
    if (kind == "present") {
      CheckKeys(n, {"present"}, "a condition");
      c.kind = Condition::Kind::kPresent;
      auto f = Scalar(n["present"], "present");
      if (!f || !ResolveField(*f, M(n["present"]), scope, &c.field)) return std::nullopt;
      return c;
    }
    if (kind == "all" || kind == "any") {
      CheckKeys(n, {kind}, "a condition");
      c.kind = kind == "all" ? Condition::Kind::kAll : Condition::Kind::kAny;
      const YAML::Node l = n[kind];
      if (!l.IsSequence() || l.size() == 0) {
        Error(M(l), msg::Expected("a non-empty list of conditions", kind));
        return std::nullopt;
      }
      bool ok = true;
      for (const auto& e : l) {
        auto sub = ParseCondition(e, scope, depth + 1);
        if (!sub) ok = false;
        else c.children.push_back(std::move(*sub));
      }
      if (!ok) return std::nullopt;
      return c;
    }
    if (kind == "not") {
      CheckKeys(n, {"not"}, "a condition");
      c.kind = Condition::Kind::kNot;
      auto sub = ParseCondition(n["not"], scope, depth + 1);
      if (!sub) return std::nullopt;
      c.children.push_back(std::move(*sub));
      return c;
    }
    if (kind == "signed") {
      CheckKeys(n, {"signed"}, "a condition");
      c.kind = Condition::Kind::kSigned;
      auto d = Scalar(n["signed"], "signed");
      if (!d) return std::nullopt;
      c.document = ResolveDocument(*d, M(n["signed"]));
      if (c.document < 0) return std::nullopt;
      return c;
    }
    if (kind == "consent") {
      CheckKeys(n, {"consent"}, "a condition");
      c.kind = Condition::Kind::kConsent;
      bool ok = true;
      for (auto& [f, m] : Names(n["consent"], "consent")) {
        int fi = -1;
        const FieldDef* fd = ResolveField(f, m, def_.fields, &fi);
        if (!fd) {
          ok = false;
        } else if (fd->type != FieldType::kPerson) {
          Error(m, msg::ConsentNeedsPerson(f, FieldTypeName(fd->type)));
          ok = false;
        } else {
          c.person_fields.push_back(fi);
        }
      }
      if (!ok || c.person_fields.empty()) return std::nullopt;
      return c;
    }
    if (kind == "children") {
      CheckKeys(n, {"children", "all_in", "min"}, "a condition");
      c.kind = Condition::Kind::kChildren;
      auto w = Name(n["children"], "children");
      if (!w) return std::nullopt;
      c.workflow = *w;
      if (!n["all_in"]) {
        Error(M(n), msg::MissingKey("all_in", "a children condition"));
        return std::nullopt;
      }
      for (auto& [s, m] : Names(n["all_in"], "all_in")) {
        c.states.push_back(s);
        cross_refs_.push_back({c.workflow, s, m, ""});
      }
      cross_refs_.push_back({c.workflow, "", M(n["children"]), ""});
      if (n["min"]) c.number = Int(n["min"], "min").value_or(0);
      return c;
    }
    if (kind == "count") {
      c.kind = Condition::Kind::kCount;
      const YAML::Node q = n["count"];
      if (!IsMap(q, "count")) return std::nullopt;
      CheckKeys(q, {"workflow", "where", "state_in"}, "a count");
      static const std::vector<std::string> ops = {"eq", "lt", "le", "gt", "ge"};
      std::vector<std::string> allowed = ops;
      allowed.push_back("count");
      CheckKeys(n, allowed, "a condition");
      auto w = Name(q["workflow"], "workflow");
      if (!w) return std::nullopt;
      c.workflow = *w;
      cross_refs_.push_back({c.workflow, "", M(q["workflow"]), ""});
      if (q["state_in"])
        for (auto& [s, m] : Names(q["state_in"], "state_in")) {
          c.states.push_back(s);
          cross_refs_.push_back({c.workflow, s, m, ""});
        }
      if (q["where"] && IsMap(q["where"], "where")) {
        for (auto it = q["where"].begin(); it != q["where"].end(); ++it) {
          auto k = Scalar(it->first, "where");
          auto v = Scalar(it->second, "where");
          if (!k || !v) return std::nullopt;
          c.where.push_back({*k, *v});
          cross_refs_.push_back({c.workflow, "", M(it->first), *k + "=" + *v});
        }
      }
      int nops = 0;
      for (size_t i = 0; i < ops.size(); ++i) {
        if (!n[ops[i]]) continue;
        ++nops;
        c.op = i == 0 ? CompareOp::kEq : static_cast<CompareOp>(i + 1);
        c.number = Int(n[ops[i]], ops[i]).value_or(0);
      }
      if (nops != 1) {
        Error(M(n), msg::CountNeedsOneBound());
        return std::nullopt;
      }
      return c;
    }
    // every
    CheckKeys(n, {"every", "match"}, "a condition");
    c.kind = Condition::Kind::kEvery;
    auto l = Scalar(n["every"], "every");
    if (!l) return std::nullopt;
    const FieldDef* lf = ResolveField(*l, M(n["every"]), scope, &c.field);
    if (!lf) return std::nullopt;
    if (lf->type != FieldType::kList) {
      Error(M(n["every"]), msg::NotAList(*l, FieldTypeName(lf->type)));
      return std::nullopt;
    }
    if (!n["match"]) {
      Error(M(n), msg::MissingKey("match", "an every condition"));
      return std::nullopt;
    }
    auto sub = ParseCondition(n["match"], lf->item_fields, depth + 1);
    if (!sub) return std::nullopt;
    c.children.push_back(std::move(*sub));
    return c;
  }

  std::optional<Condition> ParseCompare(const YAML::Node& n, const std::vector<FieldDef>& scope, Condition& c) {
    c.kind = Condition::Kind::kCompare;
    std::vector<std::string> allowed = kCompareOps;
    allowed.push_back("field");
    CheckKeys(n, allowed, "a condition");
    auto name = Scalar(n["field"], "field");
    if (!name) return std::nullopt;
    const FieldDef* f = ResolveField(*name, M(n["field"]), scope, &c.field);
    if (!f) return std::nullopt;
    int nops = 0;
    std::string op;
    for (size_t i = 0; i < kCompareOps.size(); ++i)
      if (n[kCompareOps[i]]) {
        ++nops;
        op = kCompareOps[i];
        c.op = static_cast<CompareOp>(i);
      }
    if (nops != 1) {
      Error(M(n), msg::CompareNeedsOneOp());
      return std::nullopt;
    }
    if (f->type == FieldType::kList) {
      Error(M(n["field"]), msg::CompareList(*name));
      return std::nullopt;
    }
    bool ordered = f->type == FieldType::kInt || f->type == FieldType::kDate;
    if (!ordered && c.op != CompareOp::kEq && c.op != CompareOp::kNe && c.op != CompareOp::kIn) {
      Error(M(n[op]), msg::CannotOrder(*name, FieldTypeName(f->type), op));
      return std::nullopt;
    }
    auto parse = [&](const YAML::Node& v) -> std::optional<Value> {
      auto text = Scalar(v, op);
      if (!text) return std::nullopt;
      std::string err;
      auto val = ParseValue(*f, *text, &err);
      if (!val) Error(M(v), msg::ConditionType(*name, FieldTypeName(f->type), err));
      return val;
    };
    if (c.op == CompareOp::kIn) {
      const YAML::Node l = n["in"];
      if (!l.IsSequence() || l.size() == 0) {
        Error(M(l), msg::Expected("a non-empty list of values", "in"));
        return std::nullopt;
      }
      bool ok = true;
      for (const auto& e : l) {
        auto v = parse(e);
        if (!v) ok = false;
        else c.constants.push_back(*v);
      }
      if (!ok) return std::nullopt;
    } else {
      auto v = parse(n[op]);
      if (!v) return std::nullopt;
      c.constant = *v;
    }
    return c;
  }

  // ---- the machine as a whole --------------------------------------------
  void CheckMachine() {
    std::vector<int> initial;
    for (size_t i = 0; i < def_.states.size(); ++i)
      if (def_.states[i].initial) initial.push_back(static_cast<int>(i));
    if (initial.empty()) {
      Error(def_.states.empty() ? Mark{1, 1} : def_.states.front().mark, msg::NoInitial());
      return;
    }
    if (initial.size() > 1) {
      for (size_t k = 1; k < initial.size(); ++k)
        Error(def_.states[initial[k]].mark,
              msg::SeveralInitial(def_.states[initial[k]].name, def_.states[initial[0]].name));
      return;
    }
    def_.initial_state = initial.front();

    // Reachability from the initial state.
    std::vector<bool> reached(def_.states.size(), false);
    reached[def_.initial_state] = true;
    for (bool changed = true; changed;) {
      changed = false;
      for (const auto& t : def_.transitions)
        for (int f : t.from)
          if (reached[f] && t.to >= 0 && !reached[t.to]) reached[t.to] = changed = true;
    }
    for (size_t i = 0; i < def_.states.size(); ++i)
      if (!reached[i]) Error(def_.states[i].mark, msg::Unreachable(def_.states[i].name));

    for (size_t i = 0; i < def_.states.size(); ++i) {
      const StateDef& s = def_.states[i];
      bool way_out = false;
      for (const auto& t : def_.transitions) {
        bool from_here = std::find(t.from.begin(), t.from.end(), static_cast<int>(i)) != t.from.end();
        if (!from_here) continue;
        if (s.final) Error(t.mark, msg::FinalLeft(s.name, t.event));
        if (t.to >= 0 && t.to != static_cast<int>(i)) way_out = true;
      }
      if (!s.final && !way_out) Error(s.mark, msg::NoWayOut(s.name));
      if (s.final && s.deadline) Error(s.deadline->mark, msg::FinalDeadline(s.name));
      if (s.deadline) CheckDeadlineEvent(static_cast<int>(i));
    }

    // Two transitions on one event from one state must not both be able to fire.
    const int ne = static_cast<int>(def_.events.size());
    for (size_t s = 0; s < def_.states.size(); ++s)
      for (int e = 0; e < ne; ++e) {
        auto [b, en] = def_.Candidates(static_cast<int>(s), e);
        for (const int* i = b; i != en; ++i)
          for (const int* j = i + 1; j != en; ++j) {
            const auto& ti = def_.transitions[*i];
            const auto& tj = def_.transitions[*j];
            if (!Exclusive(ti.when, tj.when))
              Error(tj.mark, msg::Ambiguous(def_.events[e], def_.states[s].name, ti.mark.line));
          }
      }
  }

  void CheckStartCondition(const Condition& c) {
    if (c.kind == Condition::Kind::kSigned) Error(c.mark, msg::StartWhenCannot("signed"));
    if (c.kind == Condition::Kind::kChildren) Error(c.mark, msg::StartWhenCannot("children"));
    if (c.kind == Condition::Kind::kEvery) return;  // its children read item fields
    for (const auto& ch : c.children) CheckStartCondition(ch);
  }

  // Everything a person reads — in documents, reminders, pages, history —
  // has a title in the YAML, never the English identifier.
  void CheckTitles(Mark root) {
    if (def_.title.empty()) Untitled(root, msg::NoTitle("workflow", def_.name));
    for (size_t i = 0; i < def_.roles.size(); ++i)
      if (def_.role_titles[i].empty()) Untitled(role_marks_[i], msg::NoTitle("role", def_.roles[i]));
    for (const auto& s : def_.states)
      if (s.title.empty()) Untitled(s.mark, msg::NoTitle("state", s.name));
    for (const auto& t : def_.transitions)
      if (t.title.empty()) Untitled(t.mark, msg::NoTitle("transition", t.event));
    for (const auto& d : def_.documents)
      if (d.title.empty()) Untitled(d.mark, msg::NoTitle("document", d.name));
    std::function<void(const FieldDef&)> field = [&](const FieldDef& f) {
      if (f.title.empty()) Untitled(f.mark, msg::NoTitle("field", f.name));
      for (size_t k = 0; k < f.values.size(); ++k)
        if (k >= f.value_titles.size() || f.value_titles[k].empty())
          Untitled(f.mark, msg::NoValueTitle(f.name, f.values[k]));
      for (const auto& item : f.item_fields) field(item);
    };
    for (const auto& f : def_.fields) field(f);
  }

  void CheckDeadlineEvent(int state) {
    const StateDef& s = def_.states[state];
    const DeadlineDef& d = *s.deadline;
    Mark m = deadline_event_marks_.count(s.name) ? deadline_event_marks_[s.name] : d.mark;
    if (d.event_id < 0) {
      Error(m, msg::Unknown("event", d.event, Closest(d.event, def_.events)) + msg::NoTransitionHandles());
      return;
    }
    auto [b, e] = def_.Candidates(state, d.event_id);
    for (const int* i = b; i != e; ++i) {
      const auto& by = def_.transitions[*i].by;
      if (std::find(by.begin(), by.end(), "system") != by.end()) return;
    }
    Error(m, msg::DeadlineEventNotFromState(d.event, s.name));
  }

  // ---- exclusivity of guards ---------------------------------------------
  static void Conjuncts(const Condition& c, std::vector<const Condition*>& out) {
    if (c.kind == Condition::Kind::kAll)
      for (const auto& ch : c.children) Conjuncts(ch, out);
    else
      out.push_back(&c);
  }

  static bool Same(const Condition& a, const Condition& b) {
    if (a.kind != b.kind || a.op != b.op || a.field != b.field || a.constant != b.constant ||
        a.constants != b.constants || a.document != b.document || a.person_fields != b.person_fields ||
        a.workflow != b.workflow || a.states != b.states || a.number != b.number || a.where != b.where ||
        a.children.size() != b.children.size())
      return false;
    for (size_t i = 0; i < a.children.size(); ++i)
      if (!Same(a.children[i], b.children[i])) return false;
    return true;
  }

  // The set of values a comparison admits, as an interval or a finite set.
  struct Admits {
    std::optional<Value> lo, hi;
    bool lo_open = false, hi_open = false;
    std::optional<std::vector<Value>> set;  // eq / in
    std::optional<Value> except;            // ne
  };
  static Admits AdmitsOf(const Condition& c) {
    Admits a;
    switch (c.op) {
      case CompareOp::kEq: a.set = std::vector<Value>{c.constant}; break;
      case CompareOp::kIn: a.set = c.constants; break;
      case CompareOp::kNe: a.except = c.constant; break;
      case CompareOp::kLt: a.hi = c.constant; a.hi_open = true; break;
      case CompareOp::kLe: a.hi = c.constant; break;
      case CompareOp::kGt: a.lo = c.constant; a.lo_open = true; break;
      case CompareOp::kGe: a.lo = c.constant; break;
    }
    return a;
  }
  static bool Admitted(const Admits& a, const Value& v) {
    if (a.set) return std::find(a.set->begin(), a.set->end(), v) != a.set->end();
    if (a.except) return v != *a.except;
    if (a.lo && (v < *a.lo || (a.lo_open && v == *a.lo))) return false;
    if (a.hi && (*a.hi < v || (a.hi_open && v == *a.hi))) return false;
    return true;
  }
  static bool Contradict(const Condition& x, const Condition& y) {
    if (x.kind == Condition::Kind::kNot && Same(x.children[0], y)) return true;
    if (y.kind == Condition::Kind::kNot && Same(y.children[0], x)) return true;
    if (x.kind != Condition::Kind::kCompare || y.kind != Condition::Kind::kCompare || x.field != y.field)
      return false;
    Admits ax = AdmitsOf(x), ay = AdmitsOf(y);
    if (ay.set) std::swap(ax, ay);
    if (ax.set) {  // a finite set: exclusive when the other admits none of it
      for (const auto& v : *ax.set)
        if (Admitted(ay, v)) return false;
      return true;
    }
    if (ax.except || ay.except) return false;
    // Two intervals: disjoint when one ends before the other begins.
    auto before = [](const Admits& a, const Admits& b) {
      if (!a.hi || !b.lo) return false;
      if (*a.hi < *b.lo) return true;
      return *a.hi == *b.lo && (a.hi_open || b.lo_open);
    };
    return before(ax, ay) || before(ay, ax);
  }
  static bool Exclusive(const std::optional<Condition>& a, const std::optional<Condition>& b) {
    if (!a || !b) return false;
    std::vector<const Condition*> ca, cb;
    Conjuncts(*a, ca);
    Conjuncts(*b, cb);
    for (const auto* x : ca)
      for (const auto* y : cb)
        if (Contradict(*x, *y)) return true;
    return false;
  }

 public:
  // References to other workflows, checked by the Catalog.
  struct CrossRef {
    std::string workflow;
    std::string state;  // empty: only the workflow must exist
    Mark mark;
    std::string where;  // "field=value" for count's where
  };
  std::vector<CrossRef> cross_refs_;

 private:
  std::string file_;
  const LoadOptions& opts_;
  Definition def_;
  std::vector<Diagnostic> errors_, warnings_;
  long budget_ = kNodeBudget;
  Mark last_mark_{1, 1};
  bool budget_reported_ = false;
  std::map<std::string, Mark> deadline_event_marks_;
  std::vector<Mark> role_marks_;  // one per role
  std::set<int> declared_by_input_;  // positions of inputs that declared a field
};

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
};

Loaded LoadWithRefs(std::string_view text, const std::string& file, const LoadOptions& opts) {
  Loader l(file, opts);
  Loaded out;
  out.result = l.Run(text);
  out.refs = std::move(l.cross_refs_);
  return out;
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
  }
  for (const auto& [file, r] : refs) {
    const Definition* d = c.Find(r.workflow);
    if (!d && fallback) d = fallback->Find(r.workflow);
    if (!d) {
      if (r.state.empty() && r.where.empty()) {
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
