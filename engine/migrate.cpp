#include "engine/migrate.h"

#include <algorithm>

namespace mentorflow {
namespace {

const FieldDef* Find(const std::vector<FieldDef>& fields, const std::string& name) {
  for (const auto& f : fields)
    if (f.name == name) return &f;
  return nullptr;
}

// `v` (a value of `from`) as a value of `to`; reasons it cannot be go to `blocks`.
Value Convert(const FieldDef& from, const FieldDef& to, const Value& v, const std::string& path,
              std::vector<std::string>& blocks) {
  if (!IsSet(v) && from.type != FieldType::kList) return v;
  if (from.type != to.type) {
    blocks.push_back("field '" + path + "' changes type from " + std::string(FieldTypeName(from.type)) + " to " +
                     std::string(FieldTypeName(to.type)) + " and holds a value");
    return Value{};
  }
  switch (to.type) {
    case FieldType::kEnum: {
      const auto& s = std::get<std::string>(v);
      if (std::find(to.values.begin(), to.values.end(), s) == to.values.end())
        blocks.push_back("field '" + path + "' holds '" + s + "', which the new version does not allow");
      return v;
    }
    case FieldType::kInt: {
      auto n = std::get<std::int64_t>(v);
      if ((to.min && n < *to.min) || (to.max && n > *to.max))
        blocks.push_back("field '" + path + "' holds " + std::to_string(n) + ", out of the new version's range");
      return v;
    }
    case FieldType::kList: {
      List out;
      for (const auto& item : std::get<List>(v)) {
        Item converted{item.id, {}};
        for (const auto& sub : to.item_fields) {
          int k = from.ItemFieldIndex(sub.name);
          converted.values.push_back(k >= 0 ? Convert(from.item_fields[k], sub, item.values[k],
                                                      path + "[" + item.id + "]." + sub.name, blocks)
                                            : sub.default_value);
        }
        for (size_t k = 0; k < from.item_fields.size(); ++k)
          if (to.ItemFieldIndex(from.item_fields[k].name) < 0 && IsSet(item.values[k]))
            blocks.push_back("field '" + path + "[" + item.id + "]." + from.item_fields[k].name +
                             "' holds a value and the new version has no such item field");
        out.push_back(std::move(converted));
      }
      return out;
    }
    default: return v;
  }
}

bool SameDeadline(const Definition& a, const DeadlineDef& x, const Definition& b, const DeadlineDef& y) {
  auto field_name = [](const Definition& d, int i) { return i >= 0 ? d.fields[i].name : std::string(); };
  auto same_days = [](const std::vector<MonthDay>& p, const std::vector<MonthDay>& q) {
    return std::equal(p.begin(), p.end(), q.begin(), q.end(),
                      [](const MonthDay& m, const MonthDay& n) { return m.month == n.month && m.day == n.day; });
  };
  return x.kind == y.kind && x.after == y.after && field_name(a, x.at_field) == field_name(b, y.at_field) &&
         same_days(x.yearly, y.yearly) && x.event == y.event && x.remind == y.remind && x.notify == y.notify &&
         x.template_name == y.template_name;
}

}  // namespace

Outcome Migrate(const Definition& from, const Definition& to, const Snapshot& snap, const StateMap& state_map,
                const Actor& actor, const std::string& role, const Now& now, std::vector<std::string>* reasons) {
  std::vector<std::string> blocks;
  const StateDef& old_state = from.states[snap.state];
  auto mapped = state_map.find(old_state.name);
  const std::string new_name = mapped != state_map.end() ? mapped->second : old_state.name;
  int new_state = to.StateIndex(new_name);
  if (new_state < 0)
    blocks.push_back("state '" + new_name + "' does not exist in version " + std::to_string(to.version) +
                     (mapped == state_map.end() ? " (map it: --map " + new_name + "=NEW)" : ""));
  else if (to.states[new_state].final)
    blocks.push_back("state '" + new_name + "' is final in version " + std::to_string(to.version) +
                     "; a migration does not end an instance");

  Decision d;
  d.from = snap.state;
  d.to = new_state;
  for (const auto& f : to.fields) {
    const FieldDef* old = Find(from.fields, f.name);
    Value v = old ? Convert(*old, f, snap.fields[old - from.fields.data()], f.name, blocks) : f.default_value;
    if (f.type == FieldType::kList && !IsSet(v) && !std::holds_alternative<List>(v)) v = List{};
    if (f.required && !IsSet(v) && f.type != FieldType::kList)
      blocks.push_back("field '" + f.name + "' is required in version " + std::to_string(to.version) +
                       " and has no value");
    d.fields.push_back(std::move(v));
  }
  for (size_t i = 0; i < from.fields.size(); ++i) {
    const auto* list = std::get_if<List>(&snap.fields[i]);
    bool has_value = list ? !list->empty() : IsSet(snap.fields[i]);
    if (!Find(to.fields, from.fields[i].name) && has_value)
      blocks.push_back("field '" + from.fields[i].name + "' holds a value and version " + std::to_string(to.version) +
                       " has no such field");
  }
  if (!blocks.empty()) {
    if (reasons) *reasons = blocks;
    std::string message;
    for (const auto& b : blocks) message += (message.empty() ? "" : "; ") + b;
    return {std::nullopt, Refusal{Code::kRefused, "migrate", message}};
  }

  const StateDef& next = to.states[new_state];
  bool keep_timer = old_state.deadline && next.deadline && old_state.name == next.name &&
                    SameDeadline(from, *old_state.deadline, to, *next.deadline);
  if (!keep_timer) {
    if (old_state.deadline) d.cancel_timers.push_back("deadline:" + old_state.name);
    ArmDeadline(to, new_state, now, d);
  }
  // The changes, in the new layout: a field that was not there before counts as unset.
  d.changes.clear();
  for (size_t i = 0; i < to.fields.size(); ++i) {
    const FieldDef* old = Find(from.fields, to.fields[i].name);
    Value before = old ? snap.fields[old - from.fields.data()]
                       : to.fields[i].type == FieldType::kList ? Value{List{}} : Value{};
    if (!(before == d.fields[i])) d.changes.push_back({static_cast<int>(i), before, d.fields[i]});
  }
  d.history = HistoryEntry{now.instant, actor.id, role, "migrate", old_state.name, next.name, d.changes, ""};
  return {std::move(d), Refusal{}};
}

}  // namespace mentorflow
