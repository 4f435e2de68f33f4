#include "server/web.h"

#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "app/documents.h"
#include "engine/calendar.h"
#include "engine/graph.h"
#include "engine/render.h"

namespace mentorflow::server::web {

namespace {

std::mutex g_mu;  // guards the caches below

Status ReadOnce(const std::string& path, std::string* out) {
  static std::map<std::string, std::string> cache;
  std::lock_guard<std::mutex> lock(g_mu);
  auto it = cache.find(path);
  if (it == cache.end()) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status::NotFound(path + ": cannot read");
    std::ostringstream s;
    s << in.rdbuf();
    it = cache.emplace(path, s.str()).first;
  }
  *out = it->second;
  return Status::Ok();
}

const YAML::Node* Messages(const std::string& templates) {
  static std::map<std::string, YAML::Node> cache;
  std::lock_guard<std::mutex> lock(g_mu);
  auto it = cache.find(templates);
  if (it == cache.end()) {
    YAML::Node node;
    try {
      node = YAML::LoadFile(templates + "/web/messages.yaml");
    } catch (const std::exception&) {
      node = YAML::Node(YAML::NodeType::Map);
    }
    it = cache.emplace(templates, node).first;
  }
  return &it->second;
}

std::string Lookup(const YAML::Node& root, const std::string& path) {
  YAML::Node node = YAML::Clone(root);
  std::size_t pos = 0;
  while (pos <= path.size()) {
    std::size_t dot = path.find('.', pos);
    if (dot == std::string::npos) dot = path.size();
    if (!node.IsMap()) return "";
    node = node[path.substr(pos, dot - pos)];
    if (!node) return "";
    pos = dot + 1;
  }
  return node.IsScalar() ? node.as<std::string>() : "";
}

const char* CodeName(Code c) {
  switch (c) {
    case Code::kOk: return "ok";
    case Code::kBadInput: return "bad_input";
    case Code::kNotFound: return "not_found";
    case Code::kRefused: return "refused";
    case Code::kConflict: return "conflict";
    case Code::kInternal: return "internal";
  }
  return "internal";
}

// Runs `dot -Tsvg` on `source` with a time limit; its output.
Status RunDot(const std::string& source, std::string* svg) {
  char dir_template[] = "/tmp/mentorflow-dot-XXXXXX";
  if (!::mkdtemp(dir_template)) return Status::Internal("cannot make a temporary directory");
  const std::string dir = dir_template, in = dir + "/graph.dot", out = dir + "/graph.svg";
  std::ofstream(in, std::ios::binary) << source;
  Status st;
  if (RunQuietly({"timeout", "20", "dot", "-Tsvg", in, "-o", out}) != 0) {
    st = Status(Code::kInternal, "dot failed: is Graphviz installed (apt-get install graphviz)?", "unavailable");
  } else {
    std::ifstream f(out, std::ios::binary);
    std::ostringstream s;
    s << f.rdbuf();
    *svg = s.str();
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return st;
}

}  // namespace

Status RenderPage(const std::string& templates, const std::string& name, json context, std::string* out) {
  std::string source, layout, body;
  if (Status s = ReadOnce(templates + "/web/" + name + ".mustache", &source); !s.ok()) return s;
  if (Status s = ReadOnce(templates + "/web/layout.mustache", &layout); !s.ok()) return s;
  if (Status s = RenderMustache("web/" + name, source, context, Escape::kHtml, &body); !s.ok()) return s;
  context["body"] = body;
  // The layout puts `body` in with {{{body}}}: it is HTML this server made,
  // every value in it escaped already.
  return RenderMustache("web/layout", layout, context, Escape::kHtml, out);
}

std::string Text(const std::string& templates, const std::string& path, const std::string& fallback) {
  const YAML::Node* root = Messages(templates);
  std::string text;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    text = Lookup(*root, path);
    if (text.empty() && !fallback.empty()) text = Lookup(*root, fallback);
  }
  return text;
}

std::string ErrorText(const std::string& templates, const Status& st) {
  std::string text = st.rule().empty() ? "" : Text(templates, "errors." + st.rule());
  return text.empty() ? Text(templates, std::string("codes.") + CodeName(st.code()), "codes.internal") : text;
}

std::string LocalTimeRu(const std::string& instant, const std::string& zone) {
  if (instant.empty()) return "";
  auto t = ParseInstant(instant);
  if (!t || !IsKnownZone(zone)) return instant;
  const std::string local = LocalDateTime(*t, zone);  // YYYY-MM-DDTHH:MM
  if (local.size() < 16) return local;
  return DateRu(local.substr(0, 10)) + ", " + local.substr(11, 5);
}

std::string DateRu(const std::string& iso) { return RussianDate(iso); }

Status Diagram(const Definition& def, const std::string& state, std::string* svg) {
  static std::map<std::string, std::string> cache;
  const std::string key = def.name + "\n" + std::to_string(def.version) + "\n" + state;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    if (auto it = cache.find(key); it != cache.end()) {
      *svg = it->second;
      return Status::Ok();
    }
  }
  DotStyle style;
  style.current = state;
  style.titles = true;
  if (Status s = RunDot(ToDot(def, style), svg); !s.ok()) return s;
  std::lock_guard<std::mutex> lock(g_mu);
  cache.emplace(key, *svg);
  return Status::Ok();
}

Status StaticFile(const std::string& templates, const std::string& name, std::string* bytes, std::string* type) {
  static const std::map<std::string, std::string> files = {{"style.css", "text/css; charset=utf-8"},
                                                           {"print.css", "text/css; charset=utf-8"},
                                                           {"app.js", "text/javascript; charset=utf-8"}};
  auto it = files.find(name);
  if (it == files.end()) return Status::NotFound("no such file");
  *type = it->second;
  return ReadOnce(templates + "/web/static/" + name, bytes);
}

}  // namespace mentorflow::server::web
