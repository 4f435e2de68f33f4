// Field values <-> JSON, by the field's declared type: the one codec between
// engine Values and the database's `fields` and `changes` columns.
#include <algorithm>
#include <sstream>

#include "engine/render.h"
#include "storage/internal.h"

namespace mentorflow::storage {

json ToJson(const FieldDef& f, const Value& v) {
  if (!IsSet(v) && f.type != FieldType::kList) return nullptr;
  switch (f.type) {
    case FieldType::kInt: return std::get<std::int64_t>(v);
    case FieldType::kBool: return std::get<bool>(v);
    case FieldType::kDate: return FormatDate(std::get<Date>(v));
    case FieldType::kList: {
      json arr = json::array();
      if (const auto* l = std::get_if<List>(&v))
        for (const auto& item : *l) {
          json o = {{"id", item.id}};
          for (size_t k = 0; k < f.item_fields.size(); ++k) o[f.item_fields[k].name] = ToJson(f.item_fields[k], item.values[k]);
          arr.push_back(o);
        }
      return arr;
    }
    default: return std::get<std::string>(v);
  }
}

Value FromJson(const FieldDef& f, const json& j) {
  if (j.is_null()) return f.type == FieldType::kList ? Value{List{}} : Value{};
  switch (f.type) {
    case FieldType::kInt: return j.get<std::int64_t>();
    case FieldType::kBool: return j.get<bool>();
    case FieldType::kDate: {
      auto d = ParseDate(j.get<std::string>());
      if (!d) throw StoredStateError("field '" + f.name + "' holds something that is not a date");
      return *d;
    }
    case FieldType::kEnum: {
      auto v = j.get<std::string>();
      if (std::find(f.values.begin(), f.values.end(), v) == f.values.end())
        throw StoredStateError("field '" + f.name + "' holds a value its workflow does not list");
      return v;
    }
    case FieldType::kDateTime: {
      auto t = ParseDateTime(j.get<std::string>());
      if (!t) throw StoredStateError("field '" + f.name + "' holds something that is not a date and time");
      return *t;
    }
    case FieldType::kList: {
      List l;
      for (const auto& o : j) {
        Item item;
        item.id = o.at("id").get<std::string>();
        for (const auto& sub : f.item_fields) item.values.push_back(FromJson(sub, o.value(sub.name, json())));
        l.push_back(std::move(item));
      }
      return l;
    }
    default: return j.get<std::string>();
  }
}

json FieldsJson(const Definition& def, const std::vector<Value>& fields) {
  json o = json::object();
  for (size_t i = 0; i < def.fields.size(); ++i) o[def.fields[i].name] = ToJson(def.fields[i], fields[i]);
  return o;
}

std::vector<Value> FieldsFromJson(const Definition& def, const std::string& text) {
  json o = json::parse(text);
  if (!o.is_object()) throw StoredStateError("its fields are not a JSON object");
  for (auto it = o.begin(); it != o.end(); ++it)
    if (def.FieldIndex(it.key()) < 0) throw StoredStateError("it has a field '" + it.key() + "' its workflow does not have");
  std::vector<Value> out;
  for (const auto& f : def.fields) out.push_back(FromJson(f, o.value(f.name, json())));
  return out;
}

json ChangesJson(const Definition& def, const std::vector<FieldChange>& changes) {
  json arr = json::array();
  for (const auto& c : changes) {
    const FieldDef& f = def.fields[c.field];
    arr.push_back({{"field", f.name}, {"before", ToJson(f, c.before)}, {"after", ToJson(f, c.after)}});
  }
  return arr;
}

std::uint64_t Fnv1a64(const std::string& s) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::string Fnv1a(const std::string& s) {
  std::ostringstream os;
  os << std::hex << Fnv1a64(s);
  return os.str();
}

std::string FieldDisplay(const FieldDef& f, const Value& v, const std::function<std::string(const std::string&)>& name) {
  if (!IsSet(v)) return "";
  switch (f.type) {
    case FieldType::kEnum: {
      const auto& s = std::get<std::string>(v);
      for (size_t i = 0; i < f.values.size(); ++i)
        if (f.values[i] == s && i < f.value_titles.size() && !f.value_titles[i].empty()) return f.value_titles[i];
      return s;
    }
    case FieldType::kDate: return RussianDate(FormatDate(std::get<Date>(v)));
    case FieldType::kDateTime: {  // "24 июля 2027 г., 10:00"
      const auto& t = std::get<std::string>(v);
      return RussianDate(t.substr(0, 10)) + ", " + t.substr(11);
    }
    case FieldType::kPerson: return name(std::get<std::string>(v));
    default: return ValueToString(v);
  }
}

}  // namespace mentorflow::storage
