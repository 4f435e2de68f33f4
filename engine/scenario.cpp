#include "engine/scenario.h"

#include <yaml-cpp/yaml.h>

#include <map>
#include <sstream>

#include "engine/memory_institution.h"

namespace mentorflow {
namespace {

Mark MarkOf(const YAML::Node& n) { return Mark{n.Mark().line + 1, n.Mark().column + 1}; }

std::string Str(const YAML::Node& n) { return n && n.IsScalar() ? n.Scalar() : std::string(); }

class Runner {
 public:
  Runner(const std::string& path, const Catalog& catalog, const std::function<void(const std::string&)>& log)
      : path_(path), catalog_(catalog), log_(log) {}

  ScenarioReport Run() {
    YAML::Node root;
    try {
      root = YAML::LoadFile(path_);
    } catch (const YAML::Exception& e) {
      Fail(Mark{e.mark.line + 1, e.mark.column + 1}, "YAML: " + e.msg);
      return std::move(report_);
    }
    zone_ = Str(root["zone"]);
    inst_ = std::make_unique<MemoryInstitution>(catalog_, zone_);
    for (auto it = root["people"].begin(); it != root["people"].end(); ++it) {
      MemoryInstitution::Person p;
      p.id = it->first.Scalar();
      p.name = Str(it->second["name"]);
      for (const auto& r : it->second["roles"]) p.roles.push_back(r.Scalar());
      p.consent = it->second["consent"] && it->second["consent"].as<bool>();
      inst_->AddPerson(p);
    }
    for (const auto& step : root["steps"]) {
      ++report_.steps;
      try {
        Step(step);
      } catch (const YAML::Exception& e) {
        Fail(MarkOf(step), "bad step: " + e.msg);
      }
    }
    return std::move(report_);
  }

 private:
  void Fail(Mark m, std::string message) { report_.failures.push_back({path_, m, std::move(message)}); }
  void Log(const std::string& s) {
    if (log_) log_(s);
  }
  std::string Id(const YAML::Node& n) {
    std::string name = Str(n);
    auto it = names_.find(name);
    return it == names_.end() ? name : it->second;
  }
  Input SetOf(const YAML::Node& n) {
    Input in;
    for (auto it = n.begin(); it != n.end(); ++it) in.push_back({it->first.Scalar(), it->second.Scalar()});
    return in;
  }

  void Step(const YAML::Node& s) {
    Mark m = MarkOf(s);
    if (s["at"]) {
      auto t = ParseLocalTime(Str(s["at"]), zone_);
      if (!t) return Fail(m, "bad 'at': " + Str(s["at"]));
      now_ = Now::At(*t, zone_);
    }
    std::string as = Str(s["as"]);
    MemoryInstitution::Result r;
    std::string what;
    if (s["start"]) {
      r = inst_->Start(Str(s["start"]), SetOf(s["set"]), Id(s["parent"]), as, now_);
      if (s["name"] && r.status.ok()) names_[Str(s["name"])] = r.id;
      what = "start " + Str(s["start"]) + (s["name"] ? " (" + Str(s["name"]) + ")" : "");
    } else if (s["send"]) {
      r = inst_->Send(Id(s["to"]), Str(s["send"]), SetOf(s["set"]), as, now_);
      what = "send " + Str(s["send"]) + " to " + Str(s["to"]);
    } else if (s["sign"]) {
      r = inst_->Sign(Id(s["in"]), Str(s["sign"]), as);
      what = "sign " + Str(s["sign"]) + " in " + Str(s["in"]);
    } else if (s["consent"] || s["revoke"]) {
      bool give = static_cast<bool>(s["consent"]);
      r.status = inst_->SetConsent(Str(give ? s["consent"] : s["revoke"]), give);
      what = (give ? "consent " : "revoke ") + Str(give ? s["consent"] : s["revoke"]);
    } else if (s["tick"]) {
      auto t = ParseLocalTime(Str(s["tick"]), zone_);
      if (!t) return Fail(m, "bad 'tick': " + Str(s["tick"]));
      now_ = Now::At(*t, zone_);
      auto rep = inst_->Tick(now_);
      Log(FormatDate(now_.today) + "  tick: " + std::to_string(rep.fired.size()) + " deadline(s), " +
          std::to_string(rep.reminders.size()) + " reminder(s)");
      for (const auto& f : rep.fired)
        Log("    deadline " + f.event + " (due " + FormatDate(f.due) + ") on #" + f.instance + " -> " +
            (f.result.status.ok() ? f.result.state : "refused: " + f.result.status.message()));
      for (const auto& rem : rep.reminders) {
        std::string to;
        for (const auto& p : rem.recipients) to += (to.empty() ? "" : ", ") + p;
        Log("    reminder [" + rem.spec.template_name + "] #" + rem.instance + " " +
            (rem.spec.event.empty() ? "" : rem.spec.event + " due " + FormatDate(*rem.spec.due) + " ") + "to " + to);
      }
      if (s["reminders"] && static_cast<int>(rep.reminders.size()) != s["reminders"].as<int>())
        Fail(m, "expected " + Str(s["reminders"]) + " reminder(s), got " + std::to_string(rep.reminders.size()));
      if (s["fired"] && static_cast<int>(rep.fired.size()) != s["fired"].as<int>())
        Fail(m, "expected " + Str(s["fired"]) + " deadline(s) fired, got " + std::to_string(rep.fired.size()));
      if (s["reminded"]) {  // expected recipients, in any order across all reminders
        for (const auto& who : s["reminded"]) {
          bool found = false;
          for (const auto& rem : rep.reminders)
            for (const auto& p : rem.recipients) found = found || p == who.Scalar();
          if (!found) Fail(m, "expected a reminder to " + who.Scalar());
        }
      }
      CheckStates(s, m);
      return;
    } else if (!s["expect_state"]) {
      return Fail(m, "a step needs one of: start, send, sign, consent, revoke, tick, expect_state");
    }
    if (!what.empty())
      Log(FormatDate(now_.today) + "  " + (as.empty() ? "" : as + ": ") + what + " -> " +
          (r.status.ok() ? r.state : "refused (" + std::to_string(r.status.exit_code()) + "): " + r.status.message()));
    if (!what.empty()) {
      if (s["refused"]) {
        if (r.status.ok()) Fail(m, "expected a refusal (" + Str(s["refused"]) + "), but it was accepted");
        else if (r.rule != Str(s["refused"]))
          Fail(m, "expected refusal rule '" + Str(s["refused"]) + "', got '" + r.rule + "': " + r.status.message());
      } else if (s["exit"]) {
        if (r.status.exit_code() != s["exit"].as<int>())
          Fail(m, "expected exit " + Str(s["exit"]) + ", got " + std::to_string(r.status.exit_code()) + ": " +
                      r.status.message());
      } else if (!r.status.ok()) {
        Fail(m, "refused: " + r.status.message());
      }
      if (s["expect"] && r.state != Str(s["expect"]))
        Fail(m, "expected state '" + Str(s["expect"]) + "', got '" + r.state + "'");
      if (s["message"] && r.status.message().find(Str(s["message"])) == std::string::npos)
        Fail(m, "expected the message to contain '" + Str(s["message"]) + "', got: " + r.status.message());
    }
    CheckStates(s, m);
  }

  void CheckStates(const YAML::Node& s, Mark m) {
    if (!s["expect_state"]) return;
    for (auto it = s["expect_state"].begin(); it != s["expect_state"].end(); ++it) {
      const auto* inst = inst_->Find(Id(it->first));
      if (!inst) {
        Fail(m, "no instance '" + it->first.Scalar() + "'");
        continue;
      }
      std::string state = inst->def->states[inst->snap.state].name;
      if (state != it->second.Scalar())
        Fail(m, it->first.Scalar() + ": expected state '" + it->second.Scalar() + "', got '" + state + "'");
    }
  }

  std::string path_;
  const Catalog& catalog_;
  const std::function<void(const std::string&)>& log_;
  std::string zone_;
  std::unique_ptr<MemoryInstitution> inst_;
  std::map<std::string, std::string> names_;
  Now now_{};
  ScenarioReport report_;
};

}  // namespace

ScenarioReport RunScenarioFile(const std::string& path, const Catalog& catalog,
                               const std::function<void(const std::string&)>& log) {
  return Runner(path, catalog, log).Run();
}

}  // namespace mentorflow
