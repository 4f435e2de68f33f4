#include "engine/render.h"

#include <kainjow/mustache.hpp>

#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

namespace mentorflow {
namespace {

namespace mu = kainjow::mustache;

mu::data ToData(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::object: {
      mu::data d{mu::data::type::object};
      for (auto it = j.begin(); it != j.end(); ++it) d.set(it.key(), ToData(it.value()));
      return d;
    }
    case nlohmann::json::value_t::array: {
      mu::data d{mu::data::type::list};
      for (const auto& x : j) d.push_back(ToData(x));
      return d;
    }
    case nlohmann::json::value_t::string: {  // "" is false, as in every other Mustache: {{#x}} skips it
      const std::string& text = j.get_ref<const std::string&>();
      return text.empty() ? mu::data{false} : mu::data{text};
    }
    case nlohmann::json::value_t::boolean: return mu::data{j.get<bool>()};
    case nlohmann::json::value_t::null: return mu::data{false};
    default: return mu::data{j.dump()};
  }
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

}  // namespace

Status RenderMustache(const std::string& name, const std::string& source, const nlohmann::json& context,
                      Escape escape, std::string* out) {
  mu::mustache tmpl{source};
  if (!tmpl.is_valid()) return Status::BadInput("template " + name + ": " + tmpl.error_message());
  if (escape == Escape::kNone) tmpl.set_custom_escape([](const std::string& s) { return s; });
  *out = tmpl.render(ToData(context));
  if (!tmpl.is_valid()) return Status::BadInput("template " + name + ": " + tmpl.error_message());
  return Status::Ok();
}

namespace {

// A template's source, read once per process: a tick or an import renders many.
Status ReadTemplate(const std::string& path, const char* what, std::string* source) {
  static std::mutex mu;
  static std::map<std::string, std::string> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(path);
  if (it == cache.end()) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status::Internal(std::string("cannot read the ") + what + " template " + path);
    std::stringstream ss;
    ss << in.rdbuf();
    it = cache.emplace(path, ss.str()).first;
  }
  *source = it->second;
  return Status::Ok();
}

}  // namespace

Status RenderDocumentTemplate(const std::string& templates_dir, const std::string& name,
                              const nlohmann::json& context, std::string* out) {
  if (templates_dir.empty()) return Status::Internal("no templates directory to render document '" + name + "' from");
  const std::string path = templates_dir + "/" + name + ".mustache";
  std::string source;
  if (Status s = ReadTemplate(path, "document", &source); !s.ok()) return s;
  return RenderMustache(path, source, context, Escape::kHtml, out);
}

Status RenderReminder(const std::string& templates_dir, const std::string& name, const nlohmann::json& context,
                      RenderedReminder* out) {
  if (templates_dir.empty()) return Status::Internal("no templates directory to render reminder '" + name + "' from");
  const std::string path = templates_dir + "/reminders/" + name + ".mustache";
  std::string source;
  if (Status s = ReadTemplate(path, "reminder", &source); !s.ok()) return s;
  std::string text;
  if (Status s = RenderMustache(path, source, context, Escape::kNone, &text); !s.ok()) return s;
  text = Trim(text);
  auto nl = text.find('\n');
  out->subject = Trim(text.substr(0, nl));
  out->text = nl == std::string::npos ? std::string() : Trim(text.substr(nl + 1));
  if (out->text.empty()) out->text = out->subject;
  return Status::Ok();
}

std::string RussianDate(const std::string& iso) {
  if (iso.size() != 10) return iso;
  return iso.substr(8, 2) + "." + iso.substr(5, 2) + "." + iso.substr(0, 4);
}

}  // namespace mentorflow
