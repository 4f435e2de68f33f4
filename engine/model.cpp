#include "engine/model.h"

#include <algorithm>
#include <charconv>

namespace mentorflow {

std::string_view FieldTypeName(FieldType t) {
  switch (t) {
    case FieldType::kString: return "string";
    case FieldType::kInt: return "int";
    case FieldType::kBool: return "bool";
    case FieldType::kDate: return "date";
    case FieldType::kEnum: return "enum";
    case FieldType::kPerson: return "person";
    case FieldType::kList: return "list";
    case FieldType::kDateTime: return "datetime";
  }
  return "?";
}

namespace {
template <typename T>
int IndexByName(const std::vector<T>& v, std::string_view n) {
  for (size_t i = 0; i < v.size(); ++i)
    if (v[i].name == n) return static_cast<int>(i);
  return -1;
}
}  // namespace

int FieldDef::ItemFieldIndex(std::string_view n) const { return IndexByName(item_fields, n); }
int Definition::FieldIndex(std::string_view n) const { return IndexByName(fields, n); }
int Definition::StateIndex(std::string_view n) const { return IndexByName(states, n); }
int Definition::DocumentIndex(std::string_view n) const { return IndexByName(documents, n); }

int Definition::EventId(std::string_view n) const {
  auto it = std::lower_bound(events.begin(), events.end(), n,
                             [](const std::string& a, std::string_view b) { return a < b; });
  if (it == events.end() || *it != n) return -1;
  return static_cast<int>(it - events.begin());
}

bool Definition::HasRole(std::string_view r) const {
  return std::find(roles.begin(), roles.end(), r) != roles.end();
}

const std::string& Definition::RoleTitle(std::string_view r) const {
  for (size_t i = 0; i < roles.size(); ++i)
    if (roles[i] == r) return i < role_titles.size() && !role_titles[i].empty() ? role_titles[i] : roles[i];
  static const std::string kNone;
  return kNone;
}

void Definition::BuildTable() {
  events.clear();
  for (const auto& t : transitions) events.push_back(t.event);
  std::sort(events.begin(), events.end());
  events.erase(std::unique(events.begin(), events.end()), events.end());
  for (auto& t : transitions) t.event_id = EventId(t.event);
  for (auto& s : states)
    if (s.deadline) s.deadline->event_id = EventId(s.deadline->event);

  const size_t ne = events.size();
  std::vector<std::vector<int>> cells(states.size() * ne);
  for (size_t i = 0; i < transitions.size(); ++i)
    for (int from : transitions[i].from)
      if (from >= 0 && transitions[i].event_id >= 0)
        cells[static_cast<size_t>(from) * ne + transitions[i].event_id].push_back(static_cast<int>(i));
  table_.assign(cells.size(), {0, 0});
  table_entries_.clear();
  for (size_t c = 0; c < cells.size(); ++c) {
    table_[c] = {static_cast<std::uint32_t>(table_entries_.size()),
                 static_cast<std::uint32_t>(cells[c].size())};
    table_entries_.insert(table_entries_.end(), cells[c].begin(), cells[c].end());
  }
}

bool IsSet(const Value& v) {
  if (std::holds_alternative<std::monostate>(v)) return false;
  if (auto* l = std::get_if<List>(&v)) return !l->empty();
  return true;
}

std::string ValueToString(const Value& v) {
  struct V {
    std::string operator()(std::monostate) const { return ""; }
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(std::int64_t i) const { return std::to_string(i); }
    std::string operator()(const std::string& s) const { return s; }
    std::string operator()(Date d) const { return FormatDate(d); }
    std::string operator()(const List& l) const { return std::to_string(l.size()) + " items"; }
  };
  return std::visit(V{}, v);
}

std::optional<Value> ParseValue(const FieldDef& f, std::string_view text, std::string* error) {
  auto fail = [&](std::string m) -> std::optional<Value> {
    if (error) *error = std::move(m);
    return std::nullopt;
  };
  switch (f.type) {
    case FieldType::kString:
    case FieldType::kPerson:
      if (text.empty() && f.type == FieldType::kPerson) return fail("a person id cannot be empty");
      return Value{std::string(text)};
    case FieldType::kInt: {
      std::int64_t n = 0;
      auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
      if (ec != std::errc() || p != text.data() + text.size() || text.empty())
        return fail("'" + std::string(text) + "' is not an integer");
      if (f.min && n < *f.min) return fail(std::to_string(n) + " is below the minimum " + std::to_string(*f.min));
      if (f.max && n > *f.max) return fail(std::to_string(n) + " is above the maximum " + std::to_string(*f.max));
      return Value{n};
    }
    case FieldType::kBool:
      if (text == "true" || text == "yes") return Value{true};
      if (text == "false" || text == "no") return Value{false};
      return fail("'" + std::string(text) + "' is not true or false");
    case FieldType::kDate: {
      auto d = ParseDate(text);
      if (!d) return fail("'" + std::string(text) + "' is not a date (YYYY-MM-DD, years 1900 to 2200)");
      return Value{*d};
    }
    case FieldType::kEnum:
      if (std::find(f.values.begin(), f.values.end(), text) == f.values.end()) {
        std::string all;
        for (const auto& v : f.values) all += (all.empty() ? "" : ", ") + v;
        return fail("'" + std::string(text) + "' is not one of: " + all);
      }
      return Value{std::string(text)};
    case FieldType::kList:
      return fail("a list is changed item by item, not set as a whole");
    case FieldType::kDateTime: {
      auto t = ParseDateTime(text);
      if (!t) return fail("'" + std::string(text) + "' is not a date and time (YYYY-MM-DDTHH:MM, local time)");
      return Value{*t};
    }
  }
  return fail("unknown type");
}

}  // namespace mentorflow
