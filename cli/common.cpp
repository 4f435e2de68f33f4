#include "cli/common.h"

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "engine/text.h"

namespace mentorflow::cli {

std::string EnvOr(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

namespace {

// $MENTORFLOW_SHARE, else ../share/mentorflow beside the binary (an installed
// tree: PREFIX/bin, PREFIX/share/mentorflow), else share/mentorflow beside it
// (the build tree, where CMake links it to the sources). Nothing of the
// source tree is compiled in: a copied or moved installation finds its own files.
std::string ShareDir() {
  if (const char* v = std::getenv("MENTORFLOW_SHARE"); v && *v) return v;
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "share/mentorflow";
  const std::filesystem::path installed = exe.parent_path().parent_path() / "share" / "mentorflow";
  if (std::filesystem::is_directory(installed / "workflows", ec)) return installed.string();
  return (exe.parent_path() / "share" / "mentorflow").string();
}

}  // namespace

const std::string& Share() {
  static const std::string dir = ShareDir();
  return dir;
}

std::string E(std::string_view s) { return EscapeControls(s); }

void PrintJson(const json& j, int indent) { std::cout << app::Dump(j, indent) << "\n"; }

int Fail(const Globals& g, int code, const std::string& message) {
  if (g.json) PrintJson({{"error", {{"code", code}, {"reason", message}}}});
  else std::cerr << "mentorflow: " << message << "\n";
  return code;
}

int Report(const Globals& g, const Status& st) {
  if (st.ok()) return 0;
  if (g.json) PrintJson(app::ErrorJson(st));
  else std::cerr << "mentorflow: " << st.message() << "\n";
  return st.exit_code();
}

DbCommand::DbCommand(const Globals& globals, bool initialising, bool read_only) : g(globals) {
  Status st;
  store = Store::Open(g.db, &st, StoreOptions{g.templates, read_only, g.institution});
  if (!store) {
    code = Fail(g, st.exit_code(), st.message());
    return;
  }
  if (initialising) {
    std::string stored;
    if (!g.zone.empty()) zone = g.zone;
    else if (store->GetSetting("zone", &stored).ok()) zone = stored;
    if (!IsKnownZone(zone)) {
      code = Fail(g, 1, "--zone: unknown time zone '" + zone + "' (an IANA name such as Europe/Samara)");
      return;
    }
  } else {
    if (Status s = store->GetSetting("zone", &zone); !s.ok()) {
      code = Fail(g, s.exit_code(), s.message());
      return;
    }
    if (!g.zone.empty() && g.zone != zone) {
      code = Fail(g, 1, "--zone " + g.zone + ": the institution's zone is " + zone +
                            " (stored at init; change it with 'mentorflow settings zone ZONE')");
      return;
    }
  }
  if (Status s = app::ResolveNow(g.now, zone, &now); !s.ok()) code = Fail(g, 1, s.message());
}

std::string LocalTime(const std::string& instant, const std::string& zone) {
  auto t = ParseInstant(instant);
  if (!t || !IsKnownZone(zone)) return instant;
  std::string local = LocalDateTime(*t, zone);
  if (local.size() > 10 && local[10] == 'T') local[10] = ' ';
  return local;
}

std::string Titled(const std::string& id, const std::string& title) {
  if (title.empty() || title == id) return E(id);
  return E(id) + " «" + E(title) + "»";
}

}  // namespace mentorflow::cli
