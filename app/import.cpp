#include "app/import.h"

#include "engine/text.h"

#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <vector>

namespace mentorflow::app {
namespace {

using nlohmann::json;

// A "set" value as the text `--set k=v` would give: strings as they are,
// numbers and booleans as JSON writes them.
bool ReadInput(const json& line, Input* in, std::string* error) {
  auto it = line.find("set");
  if (it == line.end()) return true;
  if (!it->is_object()) {
    *error = "\"set\" must be an object of field: value";
    return false;
  }
  for (auto kv = it->begin(); kv != it->end(); ++kv) {
    if (kv->is_string()) in->push_back({kv.key(), kv->get<std::string>()});
    else if (kv->is_number() || kv->is_boolean()) in->push_back({kv.key(), kv->dump()});
    else {
      *error = "\"set\": '" + kv.key() + "' must be a string, a number or a boolean";
      return false;
    }
  }
  return true;
}

// A string member; a number is taken as its text (ids are strings, but 12 means "12").
std::string Text(const json& line, const char* key) {
  auto it = line.find(key);
  if (it == line.end()) return {};
  if (it->is_string()) return it->get<std::string>();
  return it->is_number_integer() ? it->dump() : std::string();
}

// One line as a JSON value; a key that appears twice in one object is an
// error (which of the two would count is not the writer's guess to make).
json ParseLine(const std::string& raw, std::string* duplicate) {
  std::vector<std::set<std::string>> keys;
  auto seen = [&](int, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::object_start) keys.emplace_back();
    else if (event == json::parse_event_t::object_end && !keys.empty()) keys.pop_back();
    else if (event == json::parse_event_t::key && !keys.empty() && duplicate->empty() &&
             !keys.back().insert(parsed.get<std::string>()).second)
      *duplicate = parsed.get<std::string>();
    return true;
  };
  return json::parse(raw, seen, false);
}

}  // namespace

Status ReadImportFile(const std::string& path, std::string* text) {
  auto too_big = [&] {
    return Status::BadInput("'" + path + "' is larger than " + std::to_string(kMaxImportBytes >> 20) +
                            " MiB; split it into several files");
  };
  if (path == "-") {
    std::vector<char> buf(1 << 16);
    while (std::cin.read(buf.data(), static_cast<std::streamsize>(buf.size())) || std::cin.gcount() > 0) {
      text->append(buf.data(), static_cast<std::size_t>(std::cin.gcount()));
      if (text->size() > kMaxImportBytes) return too_big();
    }
    return Status::Ok();
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Status::NotFound("cannot read '" + path + "': no such file");
  if (!S_ISREG(st.st_mode))
    return Status::BadInput("'" + path + "' is not a regular file (a directory, a device or a pipe is not imported)");
  if (static_cast<std::uintmax_t>(st.st_size) > kMaxImportBytes) return too_big();
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read '" + path + "'");
  text->resize(static_cast<std::size_t>(st.st_size));
  in.read(text->data(), static_cast<std::streamsize>(text->size()));
  text->resize(static_cast<std::size_t>(in.gcount()));
  return Status::Ok();
}

Status Import(Store& store, const std::string& name, const std::string& text, const ImportOptions& opts,
              ImportResult* result) {
  std::istringstream in(text);
  std::string raw;
  int n = 0;
  auto fail = [&](Status st) {
    result->where = name + ":" + std::to_string(n);
    return st;
  };
  // The line's `key`: an id, or "@ref" for an instance an earlier line started.
  auto resolve = [&](const json& line, const char* key, std::string* out) {
    *out = Text(line, key);
    if (out->empty() || (*out)[0] != '@') return Status::Ok();
    auto it = result->refs.find(out->substr(1));
    if (it == result->refs.end()) return Status::NotFound("no earlier line has \"ref\": \"" + out->substr(1) + "\"");
    *out = it->second;
    return Status::Ok();
  };
  Store::BatchSteps steps{[&] { return name + ":" + std::to_string(n); }, {}};
  Status st = store.Batch([&]() -> Status {
    while (std::getline(in, raw)) {
      ++n;
      auto first = raw.find_first_not_of(" \t\r");
      if (first == std::string::npos || raw[first] == '#') continue;
      if (raw.size() > kMaxImportLineBytes)
        return fail(Status::BadInput("the line is longer than " + std::to_string(kMaxImportLineBytes) + " bytes"));
      std::string duplicate;
      json line = ParseLine(raw, &duplicate);
      if (line.is_discarded() || !line.is_object())
        return fail(Status::BadInput("not a JSON object (one per line: {\"start\": …}, {\"send\": …}, {\"sign\": …} or {\"issue\": …})"));
      if (!duplicate.empty())
        return fail(Status::BadInput("the key \"" + EscapeControls(duplicate) + "\" appears twice in one object"));
      std::string error;
      Input input;
      if (!ReadInput(line, &input, &error)) return fail(Status::BadInput(error));
      std::string actor = line.contains("as") ? Text(line, "as") : opts.actor;
      if (actor.empty()) return fail(Status::BadInput("who acts? give \"as\" on the line, or --as"));
      Now now = opts.now;
      if (line.contains("at")) {
        auto t = ParseLocalTime(Text(line, "at"), opts.zone);
        if (!t) return fail(Status::BadInput("\"at\" is not YYYY-MM-DD or YYYY-MM-DDTHH:MM (years 1900 to 2200)"));
        now = Now::At(*t, opts.zone);
      }
      int kinds = line.contains("start") + line.contains("send") + line.contains("sign") + line.contains("issue");
      if (kinds != 1)
        return fail(Status::BadInput("a line has exactly one of \"start\", \"send\", \"sign\" and \"issue\""));
      auto keep_ref = [&](const std::string& id) -> Status {
        std::string ref = Text(line, "ref");
        if (line.contains("ref"))
          if (Status c = CheckId("\"ref\"", ref); !c.ok()) return c;
        if (!ref.empty() && !result->refs.emplace(ref, id).second)
          return Status::BadInput("\"ref\": '" + ref + "' is already used by an earlier line");
        return Status::Ok();
      };
      InstanceRecord rec;
      Refusal refusal;
      if (line.contains("start")) {
        std::string parent;
        if (Status s = resolve(line, "parent", &parent); !s.ok()) return fail(s);
        Status s = store.Start(Text(line, "start"), input, parent, actor, now, &rec, &refusal);
        if (!s.ok()) return fail(s);
        ++result->started;
        if (Status c = keep_ref(rec.id); !c.ok()) return fail(c);
      } else if (line.contains("issue")) {
        DocumentRecord order;
        Status s = store.IssueOrder(Text(line, "issue"), actor, now, &order);
        if (!s.ok()) return fail(s);
        ++result->issued;
        if (Status c = keep_ref(order.Id()); !c.ok()) return fail(c);
      } else if (line.contains("send")) {
        std::string id;
        if (Status s = resolve(line, "send", &id); !s.ok()) return fail(s);
        std::string event = Text(line, "event");
        if (event.empty()) return fail(Status::BadInput("\"send\" needs \"event\""));
        Status s = store.Send(id, event, input, actor, now, &rec, &refusal);
        if (!s.ok()) return fail(s);
        ++result->events;
      } else {
        std::string id;
        if (Status s = resolve(line, "sign", &id); !s.ok()) return fail(s);
        std::string doc = Text(line, "document");
        const bool order = id.find('/') != std::string::npos;  // "@ref" of an "issue" line, or N/YYYY
        if (doc.empty() && !order) return fail(Status::BadInput("\"sign\" needs \"document\""));
        Status s = order ? store.SignOrder(id, actor, now, nullptr, nullptr) : store.Sign(id, doc, actor, now, nullptr);
        if (!s.ok()) return fail(s);
        ++result->signatures;
      }
      ++result->lines;
      if (opts.progress && result->lines % opts.progress_every == 0) opts.progress(result->lines);
    }
    return Status::Ok();
  }, opts.dry_run, &steps);
  // A write held back and refused later is the failure of the line that made it.
  if (!st.ok() && !steps.failed.empty()) result->where = steps.failed;
  return st;
}

}  // namespace mentorflow::app
